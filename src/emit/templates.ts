/**
 * The Handlebars templates of warehouse SQL (templates/warehouse): shared ones, replaced file
 * by file by templates/warehouse/<dialect>/ where a dialect's SQL differs. Compiled with
 * `noEscape` and `strict`; `q` and `lit` are the only ways a template writes a name or a
 * string, and both go through the SqlWriter of the render (passed as `@writer`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Dialect } from '../check/model.js';
import type { SqlWriter } from './sql-writer.js';

type Render = (context: object, writer: SqlWriter) => string;

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

function writerOf(options: Handlebars.HelperOptions): SqlWriter {
  const w = (options.data as { writer?: SqlWriter } | undefined)?.writer;
  if (!w) throw new Error('a warehouse template was rendered without a writer');
  return w;
}

const cache = new Map<Dialect, Map<string, Render>>();

function environment(dialect: Dialect): Map<string, Render> {
  let renders = cache.get(dialect);
  if (renders) return renders;
  const hbs = Handlebars.create();
  hbs.registerHelper('q', (name: unknown, options: Handlebars.HelperOptions) => {
    if (typeof name !== 'string') throw new Error(`q: expected a name, got ${JSON.stringify(name)}`);
    return writerOf(options).name(name);
  });
  hbs.registerHelper('lit', (value: unknown, options: Handlebars.HelperOptions) => {
    if (typeof value !== 'string') throw new Error(`lit: expected a string, got ${JSON.stringify(value)}`);
    return writerOf(options).literal(value);
  });
  const files = sources(dialect);
  for (const [name, text] of files) hbs.registerPartial(name, text);
  renders = new Map();
  for (const [name, text] of files) {
    const t = hbs.compile(text, compileOptions);
    renders.set(name, (context, writer) => t(context, { data: { writer } }).trim());
  }
  cache.set(dialect, renders);
  return renders;
}

/** Renders templates/warehouse/<name>.sql.hbs (or the dialect's own) with the writer's helpers. */
export function renderTemplate(dialect: Dialect, name: string, context: object, writer: SqlWriter): string {
  const render = environment(dialect).get(name);
  if (!render) throw new Error(`no template ${name}${suffix} in templates/warehouse`);
  return render(context, writer);
}
