/**
 * Handlebars, loaded on first use by the front end: checking a project with no message
 * templates and no problems to report never needs it, and loading it costs a `check` run a
 * tenth of its time. Reading a template needs only its parser, a third of the package;
 * rendering a template the build precompiled needs only the runtime (src/emit/precompiled-templates.ts).
 */
import { createRequire } from 'node:module';

type Handlebars = typeof import('handlebars');

/** The parser half of Handlebars: `parse`, and the generated parser whose lexer says where a parse failed. */
export interface TemplateParser {
  parse: Handlebars['parse'];
  parser: { lexer?: { yylloc?: { first_line: number; first_column: number; last_column: number }; match?: string } };
}

const require = createRequire(import.meta.url);
let full: Handlebars | undefined;
let parserOnly: TemplateParser | undefined;

export function handlebars(): Handlebars {
  return (full ??= require('handlebars') as Handlebars);
}

export function templateParser(): TemplateParser {
  return (parserOnly ??= require('handlebars/dist/cjs/handlebars/compiler/base.js') as TemplateParser);
}

let runtime: Handlebars | undefined;

/** The runtime half of Handlebars: renders precompiled templates, compiles none. */
export function handlebarsRuntime(): Pick<Handlebars, 'create'> {
  return (runtime ??= require('handlebars/runtime') as Handlebars);
}

export function handlebarsVersion(): string {
  return (require('handlebars/package.json') as { version: string }).version;
}

/**
 * Helpers every message template may use: `{{json column}}` is the column's value as JSON (a
 * string quoted and escaped, a number, true or false, null), which a JSON message (a webhook
 * body) inserts its values with.
 */
export const messageHelpers = {
  json: (value: unknown): string => JSON.stringify(value ?? null),
};
