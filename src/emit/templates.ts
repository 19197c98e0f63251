/**
 * The Handlebars templates of warehouse SQL (templates/warehouse): shared ones, replaced file
 * by file by templates/warehouse/<dialect>/ where a dialect's SQL differs. Compiled with
 * `noEscape` and `strict`, by the build (src/emit/precompiled-templates.ts). A context holds SQL
 * already quoted (through SqlWriter); a template writes its own fixed names with `q` and fixed
 * strings with `lit`, the dialect's quoting and literal functions, and ends each statement
 * with `end`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dialect } from '../check/model.js';
import { getDialect, type DialectSpec } from '../dialect/index.js';
import { quoteIdent, quoteLiteral } from '../dialect/quote.js';
import { templateEnvironment } from './precompiled-templates.js';

/** Follows each statement's `;`: no SQL text contains it, so statements can be formatted one by one. */
export const statementSeparator = '\u0000';
/**
 * Starts a statement the template lays out itself, which the formatter leaves as it is:
 * sql-formatter 15 runs MERGE's WHEN clauses together on Postgres and Snowflake.
 */
export const laidOut = '\u0001';

const dir = fileURLToPath(new URL('../../templates/warehouse/', import.meta.url));
const suffix = '.sql.hbs';

/** The templates of a dialect with files of its own; of every other dialect when undefined. */
function sources(dialect: Dialect | undefined): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of dialect ? [dir, `${dir}${dialect}/`] : [dir]) {
    for (const f of readdirSync(folder).sort()) {
      if (f.endsWith(suffix)) files.set(f.slice(0, -suffix.length), readFileSync(folder + f, 'utf8'));
    }
  }
  return files;
}

/** `end` closes a statement (`;` and the separator), `laidOut` opens one the formatter leaves as written. */
export function statementHelpers(hbs: Pick<typeof import('handlebars'), 'registerHelper'>): void {
  hbs.registerHelper('end', () => `;${statementSeparator}`);
  hbs.registerHelper('laidOut', () => laidOut);
}

/** The dialect a template renders for, in its data: the helpers quote with it. */
type Data = { data: { spec: DialectSpec } };

function environment(dialect: Dialect | undefined): Map<string, HandlebarsTemplateDelegate> {
  const files = sources(dialect);
  const { env: hbs, template } = templateEnvironment(files.values());
  const text = (helper: string, v: unknown): string => {
    if (typeof v !== 'string') throw new Error(`${helper}: expected a string, got ${JSON.stringify(v)}`);
    return v;
  };
  hbs.registerHelper('q', (name: unknown, options: Data) => quoteIdent(options.data.spec, text('q', name)));
  hbs.registerHelper('lit', (value: unknown, options: Data) => quoteLiteral(options.data.spec, text('lit', value)));
  statementHelpers(hbs);
  const renders = new Map([...files].map(([name, body]) => [name, template(body)]));
  for (const [name, render] of renders) hbs.registerPartial(name, render);
  return renders;
}

// Dialects without templates of their own share one environment, so each template is compiled once.
const environments = new Map<Dialect | undefined, Map<string, HandlebarsTemplateDelegate>>();

function templates(dialect: Dialect): Map<string, HandlebarsTemplateDelegate> {
  const own = existsSync(`${dir}${dialect}/`) ? dialect : undefined;
  let renders = environments.get(own);
  if (!renders) environments.set(own, (renders = environment(own)));
  return renders;
}

/** Renders templates/warehouse/<name>.sql.hbs (or the dialect's own). */
export function renderTemplate(dialect: Dialect, name: string, context: object): string {
  const render = templates(dialect).get(name);
  if (!render) throw new Error(`no template ${name}${suffix} in templates/warehouse`);
  return render(context, { data: { spec: getDialect(dialect) } }).trim();
}
