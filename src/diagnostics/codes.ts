/**
 * Every diagnostic the compiler can report, in one table: a stable code, a kebab-case name,
 * the default severity and the message as a Handlebars template over the report's data.
 * Codes never change meaning once published; retired codes are not reused.
 */
import { handlebars } from '../handlebars.js';
import type { Advice, Diagnostic, Severity } from './diagnostic.js';
import type { Span } from '../span.js';

interface CodeSpec {
  code: string;
  severity: Severity;
  message: string;
}

export const codes = {
  // SW00xx: reading files. SW0001, once every syntax error, is retired: its families are SW0007-SW0014 (SW0006 counts what is not shown).
  'unexpected-character': { code: 'SW0002', severity: 'error', message: 'unexpected character `{{{text}}}`' },
  'unreadable-file': { code: 'SW0003', severity: 'error', message: 'cannot read {{{path}}}: {{{reason}}}' },
  'invalid-literal': { code: 'SW0004', severity: 'error', message: '{{{detail}}}' },
  'too-many-syntax-errors': { code: 'SW0005', severity: 'error', message: 'stopped reading this file after {{limit}} syntax errors' },
  /** The diagnostics of a file past the first 50, counted in one (diagnostics/limit.ts). */
  'more-diagnostics': { code: 'SW0006', severity: 'error', message: '{{count}} of this file, from here on, are not shown ({{totals}})' },
  /** A `:`, `=` or `,` where the language has none (`mode: upsert`, `in ('US',)`, items split by commas), or a `,` or `:` left out. */
  'wrong-separator': { code: 'SW0007', severity: 'error', message: '{{{detail}}}' },
  /** A keyword without what it takes after it (`mode` with no mode), or with something else there. */
  'missing-argument': { code: 'SW0008', severity: 'error', message: '{{{detail}}}' },
  /** A `{` never closed: the file ends, or the next definition starts, inside its block. */
  'unclosed-block': { code: 'SW0009', severity: 'error', message: '{{{detail}}}' },
  /** A string whose closing quote is missing: on its line, or for `"""`, in the whole file. */
  'unclosed-string': { code: 'SW0010', severity: 'error', message: '{{{detail}}}' },
  /** `--`, which starts a comment in SQL but not here. */
  'comment-syntax': { code: 'SW0011', severity: 'error', message: '{{{detail}}}' },
  /** Any other word or sign where the grammar has no place for it: a stray `}`, a misspelt keyword. */
  'unexpected-token': { code: 'SW0012', severity: 'error', message: '{{{detail}}}' },
  /** Text nested thousands deep, which the parser refuses rather than exhaust its stack. */
  'nesting-too-deep': {
    code: 'SW0013',
    severity: 'error',
    message: 'this condition nests more than {{limit}} deep (brackets and `not`): the file is not read',
  },
  /** An operator written as another language writes it: `&&`, `||`, `==`, `=>`, `x not null`. */
  'operator-spelling': { code: 'SW0014', severity: 'error', message: '{{{detail}}}' },
  /** A bidirectional control character (U+202A-U+202E, U+2066-U+2069), which can make a line display in another order than it reads. */
  'bidi-control': {
    code: 'SW0015',
    severity: 'warning',
    message: 'a bidirectional control character, {{{name}}}: an editor or a review may show this line in another order than the compiler reads it',
  },
  // SW01xx: names
  'duplicate-definition': { code: 'SW0101', severity: 'error', message: '{{kind}} `{{{name}}}` is defined twice' },
  'unknown-reference': { code: 'SW0102', severity: 'error', message: 'unknown {{kind}} `{{{name}}}`' },
  'unknown-column': { code: 'SW0103', severity: 'error', message: 'unknown column `{{{name}}}` in model `{{{model}}}`' },
  'unknown-destination-type': { code: 'SW0104', severity: 'error', message: 'unknown destination type `{{{name}}}`' },
  'unknown-object-kind': {
    code: 'SW0105',
    severity: 'error',
    message: '{{{type}}} destinations have no object kind `{{{name}}}`',
  },
  'unknown-setting': { code: 'SW0106', severity: 'error', message: 'unknown setting `{{{name}}}` for {{{owner}}}' },
  'duplicate-setting': { code: 'SW0107', severity: 'error', message: 'setting `{{{name}}}` is given twice' },
  'unknown-dialect': { code: 'SW0108', severity: 'error', message: 'unknown warehouse dialect `{{{name}}}`' },
  'duplicate-column': { code: 'SW0109', severity: 'error', message: 'column `{{{name}}}` is declared twice' },
  'duplicate-item': { code: 'SW0110', severity: 'error', message: '`{{{item}}}` is given twice in {{kind}} `{{{name}}}`' },
  'missing-item': { code: 'SW0111', severity: 'error', message: '{{kind}} `{{{name}}}` has no `{{{item}}}`' },
  'duplicate-field': { code: 'SW0112', severity: 'error', message: 'destination field `{{{field}}}` is written twice' },
  'unknown-type': { code: 'SW0113', severity: 'error', message: 'unknown column type `{{{name}}}`' },
  'conflicting-items': { code: 'SW0114', severity: 'error', message: '{{{detail}}}' },
  'unknown-mode': { code: 'SW0116', severity: 'error', message: 'unknown mode `{{{name}}}`' },
  'unknown-format': { code: 'SW0117', severity: 'error', message: 'unknown file format `{{{name}}}`' },
  'sync-names-differ-in-case': {
    code: 'SW0118',
    severity: 'error',
    message: 'sync `{{{name}}}` differs from sync `{{{first}}}` only in case: their output folders are one on case-insensitive file systems',
  },
  'name-too-long': {
    code: 'SW0119',
    severity: 'error',
    message: '`{{{name}}}` is {{length}} {{unit}} long: a {{engine}} {{kind}} name is at most {{limit}} {{unit}}',
  },
  'invalid-name': { code: 'SW0120', severity: 'error', message: '`{{{name}}}` cannot be a {{engine}} name: {{{why}}}' },
  'invalid-model-sql': { code: 'SW0122', severity: 'error', message: 'the `sql` of model `{{{model}}}` cannot stand as one query: {{{problem}}}' },
  /** A model read from dbt (`dbt name`) that cannot be: the source names no dbt project, or its artifacts cannot be read. */
  'dbt-artifacts': { code: 'SW0123', severity: 'error', message: 'cannot read the dbt model `{{{model}}}`: {{{problem}}}' },
  'folder-name': { code: 'SW0121', severity: 'error', message: 'sync `{{{name}}}` cannot name its output folder: {{{reason}}}' },
  /**
   * Two syncs writing one table or object that a mirror among them owns: each run undoes the other's writes (src/check/targets.ts).
   * `through`: '' for one destination; for two, the other and what makes them one place.
   */
  'shared-target': {
    code: 'SW0124',
    severity: 'error',
    message: 'sync `{{{name}}}` writes the {{{what}}}, which sync `{{{first}}}` writes too{{{through}}}',
  },
  /** A dbt model materialized `ephemeral`: dbt builds no relation for it, only SQL it inlines into the models that `ref` it. */
  'dbt-ephemeral-model': {
    code: 'SW0125',
    severity: 'error',
    message: 'dbt model `{{{model}}}` is ephemeral: dbt builds no table or view for it, so there is nothing to read',
  },
  /** A sync into the very table its model reads (src/check/targets.ts): each run rewrites what the next one reads. */
  'writes-own-model': {
    code: 'SW0126',
    severity: 'error',
    message: 'sync `{{{name}}}` writes table {{{table}}}, which its model `{{{model}}}` reads',
  },
  // SW02xx: modes and sync shape
  'unsupported-mode': { code: 'SW0201', severity: 'error', message: '{{{type}}} does not support {{kind}} mode `{{{mode}}}`' },
  'record-mode-on-audience': {
    code: 'SW0202',
    severity: 'error',
    message: '`{{{mode}}}` is a record mode, but this sync reads audience `{{{audience}}}`',
  },
  'audience-mode-on-record': {
    code: 'SW0203',
    severity: 'error',
    message: '`{{{mode}}}` is an audience mode, but this sync reads model `{{{model}}}`',
  },
  'missing-identifier': { code: 'SW0204', severity: 'error', message: 'mode `{{{mode}}}` needs an `identifier`' },
  'nullable-identifier': {
    code: 'SW0205',
    severity: 'warning',
    message: 'identifier column `{{{name}}}` is nullable: rows where it is NULL are skipped',
  },
  'insert-without-identifier': {
    code: 'SW0206',
    severity: 'warning',
    message: 'insert without an identifier sends every row to {{{type}}} on every run',
  },
  'mirror-without-guard': {
    code: 'SW0207',
    severity: 'warning',
    message: 'mirror without a `guard deletes` bound may delete every record if the model comes back short',
  },
  'guard-without-deletes': { code: 'SW0208', severity: 'error', message: '`guard` on mode `{{{mode}}}`, which deletes nothing' },
  'batch-above-limit': { code: 'SW0209', severity: 'error', message: 'batch {{size}} is above the {{{type}}} limit of {{limit}}' },
  'audiences-unsupported': { code: 'SW0210', severity: 'error', message: '{{{type}}} does not take audiences' },
  'item-not-allowed': { code: 'SW0211', severity: 'error', message: '{{{detail}}}' },
  'invalid-number': { code: 'SW0212', severity: 'error', message: '{{{detail}}}' },
  'missing-message': { code: 'SW0213', severity: 'error', message: '{{{type}}} syncs need a `message` template' },
  'invalid-schedule': { code: 'SW0214', severity: 'error', message: 'schedule `{{{text}}}` is not a cron expression' },
  /** A cron expression whose day of the month and month name no date (`0 0 31 2 *`): an error, as SW0214 is. */
  'schedule-never-runs': { code: 'SW0216', severity: 'error', message: 'schedule `{{{text}}}` never runs' },
  'identifier-not-tested-unique': {
    code: 'SW0215',
    severity: 'note',
    message: 'identifier column `{{{name}}}` of dbt model `{{{model}}}` has no `unique` test: rows sharing it are skipped but one',
  },
  // SW03xx: types
  'incompatible-comparison': {
    code: 'SW0301',
    severity: 'error',
    message: 'cannot compare {{left}} with {{right}}',
  },
  'unsupported-field-type': {
    code: 'SW0302',
    severity: 'error',
    message: 'column `{{{column}}}` of type {{type}} cannot be written to a {{{destination}}} field',
  },
  'hashed-non-string': { code: 'SW0303', severity: 'error', message: '`hashed` needs a string column; `{{{column}}}` is {{type}}' },
  'non-boolean-condition': { code: 'SW0304', severity: 'error', message: 'a `where` condition must be boolean; `{{{text}}}` is {{type}}' },
  'untyped-dbt-column': { code: 'SW0305', severity: 'error', message: 'column `{{{column}}}` of dbt model `{{{model}}}` has no type in the dbt artifacts' },
  'dbt-column-type': {
    code: 'SW0306',
    severity: 'error',
    message: 'column `{{{column}}}` is declared {{declared}}, but dbt model `{{{model}}}` has it as {{{actual}}}',
  },
  'json-identifier': {
    code: 'SW0307',
    severity: 'error',
    message: 'identifier column `{{{column}}}` is json, which rows cannot be matched by',
  },
  // SW04xx: settings
  'invalid-setting': { code: 'SW0401', severity: 'error', message: '{{{detail}}}' },
  'inline-secret': { code: 'SW0402', severity: 'error', message: 'setting `{{{name}}}` looks like a secret and is written inline' },
  'missing-setting': { code: 'SW0403', severity: 'error', message: '{{{owner}}} needs setting `{{{name}}}`' },
  /** A value the vendor has not published as of syncwright's list (catalog `published`): perhaps newer, perhaps a typo the API refuses. */
  'unpublished-value': { code: 'SW0404', severity: 'warning', message: '{{{type}}} has published no {{{what}}} `{{{value}}}`' },
  // SW05xx: templates
  'template-error': { code: 'SW0501', severity: 'error', message: '{{{detail}}}' },
  'template-unknown-column': { code: 'SW0502', severity: 'error', message: 'the message uses `{{{name}}}`, which is not a column of `{{{model}}}`' },
  'message-value-not-json': { code: 'SW0503', severity: 'error', message: '`{{{text}}}` in a JSON message: values go in through the `json` helper' },
  'message-not-json': { code: 'SW0504', severity: 'error', message: 'the message does not render to JSON' },
  // SW06xx: destination fields, as each API documents them (src/catalog/fields.ts)
  'unknown-destination-field': { code: 'SW0601', severity: 'error', message: '{{{type}}} takes no field `{{{field}}}`: it is none of the {{{what}}}' },
  'field-hashing': { code: 'SW0602', severity: 'error', message: '{{{detail}}}' },
  'reserved-field': { code: 'SW0603', severity: 'error', message: '{{{type}}} field `{{{field}}}` cannot be mapped' },
  'unsupported-identifier-field': {
    code: 'SW0604',
    severity: 'error',
    message: '{{{type}}} cannot match records by `{{{field}}}`: the identifier goes to one of {{{fields}}}',
  },
  'invalid-field-name': { code: 'SW0605', severity: 'error', message: '`{{{field}}}` is not {{{what}}}' },
  'missing-destination-field': { code: 'SW0606', severity: 'error', message: '{{{type}}} needs one of {{{fields}}}' },
  'fields-not-sent': { code: 'SW0607', severity: 'error', message: '{{{type}}} sends no mapped field in mode `{{{mode}}}`: the `map` would be dropped' },
  'reserved-field-spelling': { code: 'SW0608', severity: 'warning', message: '`{{{field}}}` is not `{{{near}}}`, one of the {{{what}}}' },
  'unmapped-advised-field': { code: 'SW0610', severity: 'warning', message: '{{{type}}}: no column is mapped to {{{fields}}}' },
  'short-identifiers': {
    code: 'SW0609',
    severity: 'warning',
    message: '{{{type}}} refuses a `{{{field}}}` shorter than {{min}} characters, and `{{{column}}}` is {{columnType}}: ids below {{below}} will be refused',
  },
} as const satisfies Record<string, CodeSpec>;

export type CodeName = keyof typeof codes;

const compiled = new Map<CodeName, HandlebarsTemplateDelegate>();

function render(name: CodeName, data: Record<string, unknown>): string {
  let template = compiled.get(name);
  if (!template) {
    template = handlebars().compile(codes[name].message, { strict: true, noEscape: true });
    compiled.set(name, template);
  }
  return template(data);
}

/** Build a diagnostic from the table: its hints, or its advice (hints, related places, fixes). */
export function diagnostic(name: CodeName, span: Span, data: Record<string, unknown> = {}, advice: string[] | Advice = []): Diagnostic {
  const spec: CodeSpec = codes[name];
  const d: Diagnostic = { code: spec.code, severity: spec.severity, message: render(name, data), span, hints: [] };
  if (Array.isArray(advice)) d.hints = advice;
  else {
    d.hints = advice.hints;
    if (advice.related?.length) d.related = advice.related;
    if (advice.fixes?.length) d.fixes = advice.fixes;
  }
  return d;
}
