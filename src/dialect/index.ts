/** The dialect registry: one JSON data file per warehouse in dialects/, loaded once. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Ident } from '../syntax/ast.js';
import type { Dialect } from '../check/model.js';

export interface DialectSpec {
  name: Dialect;
  identifiers: { fold: 'lower' | 'upper' | 'insensitive'; why: string };
}

export const dialectNames: readonly Dialect[] = ['postgres', 'snowflake', 'bigquery'];

const cache = new Map<Dialect, DialectSpec>();

export function getDialect(name: Dialect): DialectSpec {
  let spec = cache.get(name);
  if (!spec) {
    const url = new URL(`../../dialects/${name}.json`, import.meta.url);
    spec = JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as DialectSpec;
    cache.set(name, spec);
  }
  return spec;
}

/** How the warehouse sees a name: bare names folded by its rule, quoted names exact. */
export function nameKey(dialect: Dialect, ident: Pick<Ident, 'text' | 'quoted'>): string {
  const fold = getDialect(dialect).identifiers.fold;
  if (fold === 'insensitive') return ident.text.toLowerCase();
  if (ident.quoted) return ident.text;
  return fold === 'lower' ? ident.text.toLowerCase() : ident.text.toUpperCase();
}
