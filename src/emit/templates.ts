/**
 * The Handlebars templates of warehouse SQL (templates/warehouse): shared ones, replaced file
 * by file by templates/warehouse/<dialect>/ where a dialect's SQL differs. Compiled with
 * `noEscape` and `strict`. A context holds SQL already quoted (through SqlWriter); a template
 * writes its own fixed names with `q` and fixed strings with `lit`, the dialect's quoting and
 * literal functions, and ends each statement with `end`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Dialect } from '../check/model.js';
import { getDialect } from '../dialect/index.js';
import { quoteIdent, quoteLiteral } from '../dialect/quote.js';

/** Follows each statement's `;`: no SQL text contains it, so statements can be formatted one by one. */
export const statementSeparator = '\u0000';

const dir = fileURLToPath(new URL('../../templates/warehouse/', import.meta.url));
const suffix = '.sql.hbs';
const compileOptions = { noEscape: true, strict: true } as const;

function sources(dialect: Dialect): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of [dir, `${dir}${dialect}/`]) {
    if (!existsSync(folder)) continue;
    for (const f of readdirSync(folder).sort()) {
      if (f.endsWith(suffix)) files.set(f.slice(0, -suffix.length), readFileSync(folder + f, 'utf8'));
    }
  }
  return files;
}

const cache = new Map<Dialect, Map<string, HandlebarsTemplateDelegate>>();

function environment(dialect: Dialect): Map<string, HandlebarsTemplateDelegate> {
  let renders = cache.get(dialect);
  if (renders) return renders;
  const spec = getDialect(dialect);
  const hbs = Handlebars.create();
  const text = (helper: string, v: unknown): string => {
    if (typeof v !== 'string') throw new Error(`${helper}: expected a string, got ${JSON.stringify(v)}`);
    return v;
  };
  hbs.registerHelper('q', (name: unknown) => quoteIdent(spec, text('q', name)));
  hbs.registerHelper('lit', (value: unknown) => quoteLiteral(spec, text('lit', value)));
  hbs.registerHelper('end', () => `;${statementSeparator}`);
  const files = sources(dialect);
  for (const [name, body] of files) hbs.registerPartial(name, body);
  renders = new Map([...files].map(([name, body]) => [name, hbs.compile(body, compileOptions)]));
  cache.set(dialect, renders);
  return renders;
}

/** Renders templates/warehouse/<name>.sql.hbs (or the dialect's own). */
export function renderTemplate(dialect: Dialect, name: string, context: object): string {
  const render = environment(dialect).get(name);
  if (!render) throw new Error(`no template ${name}${suffix} in templates/warehouse`);
  return render(context).trim();
}
