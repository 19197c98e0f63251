/** The hash of a text by which a compile tells an input unchanged: a project file's, a dbt artifact's, its own record's. */
import { hash } from 'node:crypto';

export const textHash = (text: string): string => hash('sha256', text);
