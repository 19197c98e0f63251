/**
 * The SQL a change set needs from a dialect: quoting, literals, types, hashing and
 * transactions from src/dialect, plus the `changeSet` snippets of dialects/<dialect>.json
 * (JSON construction, normalisation steps, the session's temporary table, placeholders). Snippets are
 * filled by the dialect's one snippet filler (src/dialect/snippet.ts); a type name they need
 * comes from dialects/<dialect>.json through a hole (`{{string}}`), never spelled again.
 */
import type { Dialect } from '../check/model.js';
import type { ColumnType, FieldEncoding, NormaliseStep } from '../catalog/index.js';
import { getDialect, type ChangeSetSnippets, type DialectSpec } from '../dialect/index.js';
import { fillSnippet } from '../dialect/snippet.js';
import { SqlWriter } from './sql-writer.js';

export interface ApiSqlDialect {
  name: Dialect;
  spec: DialectSpec;
  /** Collects the names and literals of one file, for the formatter (`SqlFormatter.fill`). */
  writer: SqlWriter;
  ident(name: string): string;
  string(value: string): string;
  /** Lower-case hex SHA-256 of a text expression's UTF-8 bytes. */
  sha256(expr: string): string;
  snippets: ChangeSetSnippets;
  /** An expression as text. */
  text(expr: string): string;
  /** A snippet with its `{{v}}` / `{{args}}` / `{{table}}` holes filled; `{{string}}` is the dialect's text type. */
  fill(snippet: string, holes: Record<string, string>): string;
}

/** The dialect with a fresh writer: one per file, since the writer numbers its placeholders. */
export function apiSqlDialect(name: Dialect): ApiSqlDialect {
  const spec = getDialect(name);
  const writer = new SqlWriter(spec);
  return {
    name,
    spec,
    writer,
    ident: (n) => writer.name(n),
    string: (v) => writer.literal(v),
    sha256: (e) => fillSnippet(spec.hash, { v: e }),
    text: (e) => `CAST(${e} AS ${spec.types.string})`,
    snippets: spec.changeSet,
    fill: (snippet, holes) => fillSnippet(snippet, { string: spec.types.string, ...holes }),
  };
}
