/**
 * The dialect registry: one JSON data file per warehouse in dialects/, validated against
 * schemas/dialect.schema.json when it is first loaded. Everything that differs between
 * warehouses is read from here; an unknown name fails loudly.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertSchema } from '../schema/compile.js';
import type { Ident } from '../syntax/ast.js';
import { dialectNames, type Dialect } from '../contract/dialect-names.js';
import type { SessionSql } from '../contract/plan.js';
import type { FieldEncoding, NormaliseStep } from '../catalog/fields.js';
import type { ColumnType } from '../catalog/types.js';
import type { SqlTextSyntax } from './sql-text.js';

export interface Quoting {
  quote: [string, string];
  /** Character -> how it is written between the quotes. */
  escapes: Record<string, string>;
  /** A text holding one of these characters is written with the prefix, and these escapes too (Postgres `E'...'`). */
  escaped?: { prefix: string; escapes: Record<string, string>; why: string };
  /** Character -> why the warehouse cannot take it; the checker reports it. */
  rejects?: Record<string, string>;
}

/** What a name names, for its length limit: a part of a table's path, or a column. */
export type NameKind = 'table' | 'column';

export interface Capability {
  value?: boolean;
  /** First major version that has it (Postgres). */
  since?: number;
  why: string;
}

export type CapabilityName = 'mergeNotMatchedBySource' | 'qualify';

/** What the change set of an API sync needs of a dialect beyond the rest of its record (src/emit/api-dialect.ts). */
export interface ChangeSetSnippets {
  why?: string;
  primaryKey: string;
  jsonObject: string;
  jsonText: string;
  /** The change set's table, temporary to the session: its name (`{{schema}}`, `{{name}}` quoted) and `CREATE ... AS` (`{{table}}`). */
  temporaryTable: { name: string; create: string; shared?: boolean; why?: string };
  /** The driver's placeholder for the `{{n}}`th parameter. */
  placeholder: string;
  normalise: Record<NormaliseStep, string>;
  /** Per encoding, the SQL of each column type that needs converting; a type not listed is sent as it is. */
  encode: Record<FieldEncoding, Partial<Record<ColumnType, string>>>;
  /** NULL as "". */
  emptyIfNull: string;
}

export interface DialectSpec {
  name: Dialect;
  /** The sql-formatter language. */
  formatter: 'postgresql' | 'snowflake' | 'bigquery';
  identifiers: Quoting & {
    fold: 'lower' | 'upper' | 'insensitive';
    why: string;
    maxLength: Record<NameKind, number> & { unit: 'bytes' | 'characters'; why: string };
  };
  literals: Quoting & { why?: string };
  types: Record<ColumnType, string>;
  /** Column type -> snippet over `{{v}}` giving a value that has equality and ordering. */
  comparable: Partial<Record<ColumnType, string>> & { why: string };
  /** Hex SHA-256 of the string `{{v}}`. */
  hash: string;
  /** True when `{{a}}` and `{{b}}` differ, NULL-safe. */
  distinct: string;
  /** Whether LIKE must name the backslash as its escape character (`ESCAPE '\\'`). */
  like: { escapeClause: boolean; why: string };
  versions?: { supported: number[]; default: number };
  capabilities: Record<CapabilityName, Capability>;
  transaction: { begin: string; commit: string; staging: 'inside' | 'before'; why: string };
  tempTable: { create: string; options: string };
  /** A transaction-scoped lock on the number `{{key}}`. */
  lock?: string;
  /** Statistics for the temporary table `{{table}}`. */
  analyze?: string;
  /** Fails with `{{message}}` when `{{query}}` returns a row. */
  raiseIf: string;
  /** How a query's text is read: comments, quoted strings and names (a model's `sql`). */
  sqlText: SqlTextSyntax;
  /** What an executor's session runs besides a plan's files, copied into plans; absent: the reference executor does not run the dialect. */
  session?: Omit<SessionSql, 'errors' | 'lockRow'> & { why?: string; lockRow?: SessionSql['lockRow'] & { why?: string }; errors: SessionSql['errors'] & { why?: string } };
  /** What the change set of an API sync needs beyond the rest (src/emit/api-dialect.ts). */
  changeSet: ChangeSetSnippets;
  /** Inserts into `{{table}}` (`{{columns}}`) a row per index of the arrays `{{arrays}}` (bound parameters). */
  insertArrays?: string;
  /** The bound parameter `{{n}}` as an array of `{{type}}`. */
  arrayParameter?: string;
}

export { dialectNames, type Dialect };

const root = new URL('../../', import.meta.url);
const readJson = (path: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8'));

const cache = new Map<Dialect, DialectSpec>();

export function getDialect(name: Dialect): DialectSpec {
  let spec = cache.get(name);
  if (spec) return spec;
  if (!dialectNames.includes(name)) throw new Error(`unknown dialect: ${String(name)} (known: ${dialectNames.join(', ')})`);
  const data = readJson(`dialects/${name}.json`);
  assertSchema('dialect', data, `dialects/${name}.json`);
  spec = data as DialectSpec;
  if (spec.name !== name) throw new Error(`dialects/${name}.json names itself ${spec.name}`);
  cache.set(name, spec);
  return spec;
}

/** Whether the dialect (at this major version, where versions matter) has a capability. */
export function hasCapability(spec: DialectSpec, name: CapabilityName, version?: number): boolean {
  const c = spec.capabilities[name];
  if (c.since === undefined) return c.value === true;
  return (version ?? spec.versions?.default ?? 0) >= c.since;
}

/** How the warehouse sees a name: bare names folded by its rule, quoted names exact. */
export function nameKey(dialect: Dialect, ident: Pick<Ident, 'text' | 'quoted'>): string {
  const fold = getDialect(dialect).identifiers.fold;
  if (fold === 'insensitive') return ident.text.toLowerCase();
  if (ident.quoted) return ident.text;
  return fold === 'lower' ? ident.text.toLowerCase() : ident.text.toUpperCase();
}

/** The exact name the warehouse stores for an identifier: bare names folded, quoted ones kept. */
export function storedName(spec: DialectSpec, ident: Pick<Ident, 'text' | 'quoted'>): string {
  if (ident.quoted || spec.identifiers.fold === 'insensitive') return ident.text;
  return spec.identifiers.fold === 'lower' ? ident.text.toLowerCase() : ident.text.toUpperCase();
}
