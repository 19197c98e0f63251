/** The hash of a text by which a compile tells an input unchanged: a project file's, a dbt artifact's, its own record's. */
import { hash } from 'node:crypto';

export const textHash = (text: string): string => hash('sha256', text);

/** A short, stable mark of an exact text, which tells apart names that read alike once made plain. */
export const textMark = (text: string): string => textHash(text).slice(0, 8);

/**
 * A name in letters, digits and `_` alone (an Airflow task id, a dbt exposure's name): any other
 * character becomes `_`, and a name that changed takes the mark of its exact text, so `copy$a`
 * never meets `copy_a`.
 */
export function plainName(text: string): string {
  const plain = text.replace(/[^A-Za-z0-9_]/g, '_');
  return plain === text ? plain : `${plain}_${textMark(text)}`;
}
