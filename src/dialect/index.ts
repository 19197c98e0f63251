/**
 * The dialect registry: one JSON data file per warehouse in dialects/, validated against
 * schemas/dialect.schema.json when it is first loaded, unless the build validated that very
 * text (`validatedDialects`). Everything that differs between warehouses is read from here; an
 * unknown name fails loudly.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { textHash } from '../hash.js';
import { assertSchema, groupKey, publishedGroup } from '../schema/compile.js';
import { selfChecks } from '../self-checks.js';
import type { Ident } from '../syntax/ast.js';
import { dialectNames, type Dialect } from '../contract/dialect-names.js';
import type { SessionSql } from '../contract/plan.js';
import { foldName, type IdentifierRule, type NameKind, type Quoting } from '../contract/quoting.js';
import type { FieldEncoding, NormaliseStep } from '../catalog/fields.js';
import type { ColumnType } from '../catalog/types.js';
import type { SqlTextSyntax } from './sql-text.js';

/** What the change set of an API sync needs of a dialect beyond the rest of its record (src/emit/api-dialect.ts). */
export interface ChangeSetSnippets {
  why?: string;
  primaryKey: string;
  jsonObject: string;
  jsonText: string;
  /**
   * Creates the state schema `{{schema}}` unless it exists, once the state lock is taken; where the
   * dialect has `lock`, `waitFirst` waits for the lock on `{{key}}` before its transaction begins and
   * `afterLock` runs right after the transaction took it.
   */
  stateSchema: { create: string; waitFirst?: string; afterLock?: string; why?: string };
  /** The change set's table, temporary to the session: its name (`{{schema}}`, `{{name}}` quoted) and `CREATE ... AS` (`{{table}}`). */
  temporaryTable: { name: string; create: string; shared?: boolean; why?: string };
  /** The driver's placeholder for the `{{n}}`th parameter. */
  placeholder: string;
  normalise: Record<NormaliseStep, string>;
  /** Per encoding, the SQL of each column type that needs converting; a type not listed is sent as it is. */
  encode: Record<FieldEncoding, Partial<Record<ColumnType, string>>>;
  /** NULL as "". */
  emptyIfNull: string;
  /** The number of whole periods of `{{seconds}}` seconds from the epoch to the transaction's time (UTC), as an integer. */
  period: string;
}

export interface DialectSpec {
  name: Dialect;
  /** The sql-formatter language. */
  formatter: 'postgresql' | 'snowflake' | 'bigquery';
  identifiers: IdentifierRule;
  literals: Quoting & { why?: string };
  /** The type a column of each is made with; `decimal`: one without precision and scale (its name before any `(` takes theirs). */
  types: Record<ColumnType, string> & { why?: string };
  /** Column type -> snippet over `{{v}}` giving a value that has equality and ordering. */
  comparable: Partial<Record<ColumnType, string>> & { why: string };
  /** Hex SHA-256 of the string `{{v}}`. */
  hash: string;
  /** True when `{{a}}` and `{{b}}` differ, NULL-safe. */
  distinct: string;
  /** Whether LIKE must name the backslash as its escape character (`ESCAPE '\\'`). */
  like: { escapeClause: boolean; why: string };
  /** How a `where` writes literals, typed by the column they meet (src/emit/where.ts). */
  conditions: {
    /** An exact number's forms, the first that holds it taken: `{{v}}` in plain decimal. */
    exactNumbers: { integerDigits?: number; scale?: number; digits?: number; literal: string }[];
    /** A timestamp's text at UTC, which the dialect reads so in a column with a zone or without: `{{t}}` its wall clock at UTC (`YYYY-MM-DD HH:MM:SS[.fraction]`). */
    utcText: string;
    /** A timestamp literal against a `timestamp` column: `{{v}}` its `utcText`, quoted. */
    timestampLiteral: string;
    why: string;
  };
  versions?: { supported: number[]; default: number };
  /**
   * `settings`: run at the start of a warehouse script's transaction (after BEGIN and the lock), for that transaction only;
   * `session`: run first in the script, where a setting cannot be the transaction's alone (the connection's: a script run by a client is its connection's whole work).
   */
  transaction: {
    begin: string;
    commit: string;
    staging: 'inside' | 'before';
    why: string;
    settings?: { sql: string; why: string };
    session?: { sql: string; why: string };
  };
  tempTable: { create: string; options: string };
  /** How sw_changes finds the rows that share an identifier with a better one: ROW_NUMBER() per identifier, or LEAD() of the identifier in order. */
  duplicates: { find: 'rank' | 'next'; why: string };
  /** A transaction-scoped lock on the number `{{key}}`. */
  lock?: string;
  /** Fails with `{{message}}` when `{{query}}` returns a row. */
  raiseIf: string;
  /** How a query's text is read: comments, quoted strings and names (a model's `sql`). */
  sqlText: SqlTextSyntax;
  /** What an executor's session runs besides a plan's files, copied into plans; absent: the reference executor does not run the dialect. */
  session?: Omit<SessionSql, 'errors' | 'lockRow'> & {
    why?: string;
    /** Where the target's catalog views are, for its check: `{{database}}` and `{{schema}}` are the target's quoted parts before its schema and before its table, each followed by a dot (compiled into `check.catalog`, not copied). */
    targetCatalog?: string;
    lockRow?: SessionSql['lockRow'] & { why?: string };
    errors: SessionSql['errors'] & { why?: string };
  };
  /** What the change set of an API sync needs beyond the rest (src/emit/api-dialect.ts). */
  changeSet: ChangeSetSnippets;
  /** Inserts into `{{table}}` (`{{columns}}`) a row per index of the arrays `{{arrays}}` (bound parameters). */
  insertArrays?: string;
  /** The bound parameter `{{n}}` as an array of `{{type}}`. */
  arrayParameter?: string;
  /**
   * A cross-warehouse load's table, made anew by `create` (`{{table}}` with `{{columns}}`),
   * replacing one an earlier plan of the session left. Where each request is a session of its
   * own, so a temporary table would not live until apply.sql runs: a table of the target's schema
   * (`name`: `{{schema}}`, `{{name}}` quoted) that the run drops at its end (`drop`).
   */
  loadTable?: { create: string; name?: string; drop?: string; why: string };
  /** Where the engine bounds a request's size: the most bytes one insertArrays' values may take (LoadStep.maxBytes). */
  insertArraysMaxBytes?: { value: number; why: string };
}

export { dialectNames, type Dialect, type NameKind, type Quoting };

const root = new URL('../../', import.meta.url);
const readText = (path: string): string => readFileSync(fileURLToPath(new URL(path, root)), 'utf8');

// Beside the build's validators (dist/schema/), named so that a module of the bundled CLI (dist/<folder>/) finds it too.
export const validatedDialectsFile = fileURLToPath(new URL('../schema/dialects.validated.json', import.meta.url));

/** The dialect schema and the validator's options, as the build's precompiled validators are keyed (`groupKey`). */
const schemaKey = (): string => groupKey(publishedGroup('dialect'));

/**
 * What the build writes to `validatedDialectsFile` (scripts/precompile-schemas.js): every
 * dialect file validated against the schema, then `schemaKey` and the hash of each file's text.
 * Loading the validator and its first run cost a CLI run 25-35 ms, a tenth of a `check` of a
 * small project, for files that only change with the package.
 */
export function validatedDialects(): string {
  const dialects = Object.fromEntries(
    dialectNames.map((name) => {
      const text = readText(`dialects/${name}.json`);
      assertSchema('dialect', JSON.parse(text), `dialects/${name}.json`);
      return [name, textHash(text)];
    }),
  );
  return `${JSON.stringify({ schema: schemaKey(), dialects }, null, 2)}\n`;
}

let validated: Readonly<Record<string, unknown>> | null | undefined;

/** Whether the build validated this very text of dialect `name` against the schema as it is now (never under the self-checks, which validate). */
function validatedByBuild(name: Dialect, text: string): boolean {
  if (selfChecks) return false;
  if (validated === undefined) {
    try {
      const record = JSON.parse(readFileSync(validatedDialectsFile, 'utf8')) as { schema?: unknown; dialects?: Record<string, unknown> };
      validated = record.schema === schemaKey() ? (record.dialects ?? null) : null;
    } catch {
      validated = null; // No build's record (running from src/): each file is validated.
    }
  }
  return validated?.[name] === textHash(text);
}

const cache = new Map<Dialect, DialectSpec>();

export function getDialect(name: Dialect): DialectSpec {
  let spec = cache.get(name);
  if (spec) return spec;
  if (!dialectNames.includes(name)) throw new Error(`unknown dialect: ${String(name)} (known: ${dialectNames.join(', ')})`);
  const text = readText(`dialects/${name}.json`);
  const data: unknown = JSON.parse(text);
  if (!validatedByBuild(name, text)) assertSchema('dialect', data, `dialects/${name}.json`);
  spec = data as DialectSpec;
  if (spec.name !== name) throw new Error(`dialects/${name}.json names itself ${spec.name}`);
  cache.set(name, spec);
  return spec;
}

/** How the warehouse sees a name: bare names folded by its rule, quoted names exact. */
export function nameKey(dialect: Dialect, ident: Pick<Ident, 'text' | 'quoted'>, kind: NameKind = 'column'): string {
  const fold = getDialect(dialect).identifiers.fold;
  // Such a warehouse (BigQuery) compares column names without case, but not table and dataset names.
  if (fold === 'insensitive') return kind === 'table' ? ident.text : ident.text.toLowerCase();
  if (ident.quoted) return ident.text;
  return fold === 'lower' ? ident.text.toLowerCase() : ident.text.toUpperCase();
}

/** The exact name the warehouse stores for an identifier: bare names folded, quoted ones kept. */
export function storedName(spec: DialectSpec, ident: Pick<Ident, 'text' | 'quoted'>): string {
  return ident.quoted ? ident.text : foldName(spec.identifiers, ident.text);
}
