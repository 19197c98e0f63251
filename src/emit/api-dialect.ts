/**
 * The SQL a change set needs from a dialect: quoting, literals, types, hashing and
 * transactions from src/dialect, plus the snippets in templates/api/dialects/<dialect>.json
 * (JSON construction, normalisation steps, table replacement, placeholders).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Dialect } from '../check/model.js';
import type { NormaliseStep } from '../catalog/api/hashing.js';
import { getDialect, type DialectSpec } from '../dialect/index.js';
import { quoteIdent, quoteLiteral } from '../dialect/quote.js';

interface Snippets {
  primaryKey: string;
  jsonObject: string;
  jsonText: string;
  replaceTable: string;
  placeholders: [string, string];
  normalise: Record<NormaliseStep, string>;
}

export interface ApiSqlDialect {
  name: Dialect;
  spec: DialectSpec;
  ident(name: string): string;
  string(value: string): string;
  /** Lower-case hex SHA-256 of a text expression's UTF-8 bytes. */
  sha256(expr: string): string;
  snippets: Snippets;
  /** An expression as text. */
  text(expr: string): string;
  /** A snippet with its `{{v}}` / `{{args}}` / `{{table}}` holes filled. */
  fill(snippet: string, holes: Record<string, string>): string;
}

const cache = new Map<Dialect, ApiSqlDialect>();
const fillers = new Map<string, HandlebarsTemplateDelegate>();

function fill(snippet: string, holes: Record<string, string>): string {
  let t = fillers.get(snippet);
  if (!t) {
    t = Handlebars.compile(snippet, { noEscape: true, strict: true });
    fillers.set(snippet, t);
  }
  return t(holes);
}

export function apiSqlDialect(name: Dialect): ApiSqlDialect {
  let d = cache.get(name);
  if (!d) {
    const spec = getDialect(name);
    const url = new URL(`../../templates/api/dialects/${name}.json`, import.meta.url);
    const snippets = JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as Snippets;
    d = {
      name,
      spec,
      ident: (n) => quoteIdent(spec, n),
      string: (v) => quoteLiteral(spec, v),
      sha256: (e) => fill(spec.hash, { v: e }),
      text: (e) => `CAST(${e} AS ${spec.types.string})`,
      snippets,
      fill,
    };
    cache.set(name, d);
  }
  return d;
}
