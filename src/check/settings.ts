/**
 * Settings blocks: duplicates, inline secrets, and the type's JSON Schema (ajv), each error
 * reported at the setting it is about.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Setting, SettingValue } from '../syntax/ast.js';
import type { Span } from '../span.js';
import type { ResolvedValue } from './model.js';
import { nameHints } from '../diagnostics/suggest.js';
import { replaceWith, type Fix } from '../diagnostics/diagnostic.js';
import { settingNames } from '../catalog/index.js';
import { takesEnv } from '../catalog/settings.js';
import type { PublishedValues } from '../catalog/types.js';
import type { Reporter } from './report.js';
import { writtenWhole } from '../numbers.js';

/** A setting's value as data: env("X") is kept as a reference to X, never resolved here. */
export function resolveValue(v: SettingValue): ResolvedValue {
  switch (v.kind) {
    case 'string':
    case 'number':
    case 'bool':
      return v.value;
    case 'env':
      return { env: v.variable.value };
    case 'path':
      return v.path.parts.map((p) => p.text).join('.');
  }
}

/** Whether a value is, or holds, a placeholder for missing text. */
function valueMissing(v: SettingValue): boolean {
  switch (v.kind) {
    case 'string':
    case 'number':
      return v.missing === true;
    case 'env':
      return v.variable.missing === true;
    case 'path':
      return v.path.parts.some((p) => p.missing);
    case 'bool':
      return false;
  }
}

/** Names that hold credentials; `*_id` names (access_key_id, client_id) identify, they do not authenticate. */
const secretName = /(token|secret|password|passwd|credential|private_key|api_key|authorization)/i;

export function looksSecret(name: string, declaredSecrets: readonly string[]): boolean {
  return declaredSecrets.includes(name) || (secretName.test(name) && !/_id$/i.test(name));
}

export interface SettingsContext {
  /** "hubspot destination `crm`", for messages. */
  owner: string;
  ownerSpan: Span;
  /** The definition, `source w : postgres { ... }`, and the text of its file: where a missing setting is added. */
  block: Span;
  text: string;
  validate: ValidateFunction;
  schema: Record<string, unknown>;
  secrets: readonly string[];
  /** The values the vendor publishes for some settings, and the vendor's name ("Klaviyo"), for messages. */
  published?: { vendor: string; settings: Readonly<Record<string, PublishedValues>> };
}

export function checkSettings(settings: readonly Setting[], ctx: SettingsContext, r: Reporter): Record<string, ResolvedValue> {
  const values: Record<string, ResolvedValue> = {};
  const byName = new Map<string, Setting>();
  // Settings whose value is reported already (written inline, or missing): the schema's errors about it are not repeated.
  const quiet = new Set<string>();
  for (const s of settings) {
    const name = s.name.text;
    if (byName.has(name)) {
      const first = byName.get(name)!.name.span;
      r.report(
        'duplicate-setting',
        s.name.span,
        { name },
        { hints: ['keep one of them'], related: [{ message: `the first \`${name}\` is here`, span: first }] },
      );
      continue;
    }
    byName.set(name, s);
    values[name] = resolveValue(s.value);
    if (valueMissing(s.value)) {
      quiet.add(name);
      continue;
    }
    if (looksSecret(name, ctx.secrets) && s.value.kind !== 'env') {
      quiet.add(name);
      r.report(
        'inline-secret',
        s.value.span,
        { name },
        {
          hints: [`secrets never go in .sync files: write \`${name} ${envFor(name)}\` and set the variable where the sync runs`],
          fixes: [replaceWith(s.value.span, envFor(name))],
        },
      );
    }
  }
  for (const [name, s] of byName) if (!quiet.has(name) && notWhole(s, ctx, r)) quiet.add(name);
  if (!ctx.validate(values)) {
    const errors = dedupe(ctx.validate.errors ?? []).filter((e) => !quiet.has(e.instancePath.split('/')[1] ?? ''));
    for (const e of errors) reportAjvError(e, byName, ctx, r);
  }
  if (ctx.published) for (const s of byName.values()) checkPublished(s, ctx.published.vendor, ctx.published.settings[s.name.text], r);
  return values;
}

type Bounds = { default?: unknown; minimum?: number; maximum?: number; anyOf?: Bounds[]; type?: unknown; enum?: unknown[] };

/** A setting's schema. */
const propertyOf = (ctx: SettingsContext, name: string): Bounds | undefined => (ctx.schema.properties as Record<string, Bounds> | undefined)?.[name];

/** A setting's schema as a literal value meets it: one that also takes env("X") has its bounds in the literal branch (`envOr`). */
function literalBounds(ctx: SettingsContext, name: string): Bounds | undefined {
  const property = propertyOf(ctx, name);
  return property?.anyOf?.[0] ?? property;
}

/** The hints naming what a setting takes: its range of whole numbers, its allowed values. */
const rangeHint = ({ minimum, maximum }: Bounds): string => `a whole number from ${minimum}${maximum === undefined ? ' up' : ` to ${maximum}`}`;
const allowedHint = (values: readonly unknown[]): string => `allowed values: ${values.map((v) => JSON.stringify(v)).join(', ')}`;

/**
 * A number the schema takes only whole, that is not whole as written: the schema sees it as a
 * double, and `5432.0000000000001` is 5432 there, so it would pass and compile as another
 * number than the one written. Reported here, at the digits; true when it was.
 */
function notWhole(s: Setting, ctx: SettingsContext, r: Reporter): boolean {
  if (s.value.kind !== 'number' || writtenWhole(s.value.raw)) return false;
  const name = s.name.text;
  const literal = literalBounds(ctx, name);
  const wholeEnum = literal?.enum?.every((v) => Number.isInteger(v)) === true;
  if (literal?.type !== 'integer' && !wholeEnum) return false;
  const { raw, value } = s.value;
  const hints = [
    Number.isInteger(value)
      ? `\`${raw}\` is not a whole number, though read as a double it is ${value}: write the whole number meant`
      : `\`${raw}\` is not a whole number`,
  ];
  if (literal.minimum !== undefined) hints.push(rangeHint(literal));
  if (wholeEnum) hints.push(allowedHint(literal.enum!));
  const detail = `setting \`${name}\` ${wholeEnum ? 'must be equal to one of the allowed values' : 'must be integer'}`;
  r.report('invalid-setting', s.value.span, { detail }, hints);
  return true;
}

/**
 * A literal the vendor has not published (as of syncwright's list): a warning at the value,
 * naming the published values either side of it. One the schema refuses is reported by it.
 */
function checkPublished(s: Setting, vendor: string, list: PublishedValues | undefined, r: Reporter): void {
  if (!list || s.value.kind !== 'string' || s.value.missing) return;
  const { value } = s.value;
  const part = list.part === undefined ? value : new RegExp(list.part).exec(value)?.[0];
  if (part === undefined || list.values.includes(part)) return;
  const next = list.values.findIndex((v) => v > part);
  const nearest = (next < 0 ? list.values.slice(-1) : list.values.slice(Math.max(0, next - 1), next + 1)).map((v) => `\`${v}\``);
  r.report('unpublished-value', s.value.span, { type: vendor, what: list.what, value }, [
    `the published ${list.what}s nearest to it: ${nearest.join(', ')}`,
    `syncwright's list is from ${list.source}: one published since is fine; any other the API refuses, and every row with it`,
  ]);
}

/** ajv reports every branch of an anyOf; keep the most specific error per setting. */
function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    // Branch failures of a setting's anyOf are reported by their first branch; a root-level
    // oneOf (e.g. password or private_key) has nothing more specific and is kept.
    if ((e.keyword === 'anyOf' || e.keyword === 'oneOf') && e.instancePath !== '') continue;
    // The `required` failures of a root oneOf's branches are said by the oneOf error itself.
    if (e.keyword === 'required' && /^#\/(oneOf|anyOf)\//.test(e.schemaPath)) continue;
    // An env() value fails the literal branch with a type error; the env branch decides.
    // Errors about the block as a whole are told apart by what they name; two settings
    // that both need a third (sasl_mechanism, sasl_username -> sasl_password) say it once.
    const about =
      e.keyword === 'dependentRequired'
        ? `needs ${(e.params as { missingProperty: string }).missingProperty}`
        : e.instancePath === ''
          ? `${e.keyword} ${JSON.stringify(e.params)}`
          : '';
    const key = `${e.instancePath.split('/')[1] ?? ''}|${about}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
  }
  return out;
}

/** The value a secret setting takes: the variable named after it. */
const envFor = (name: string): string => `env("${name.toUpperCase()}")`;

/**
 * Adding `setting` to the block that ends `block`: on a line of its own before the `}` when
 * the `}` starts its line, else before the `}` on its line. None when the block does not end
 * with its `}` (a syntax error cut it short).
 */
function addSetting(block: Span, text: string, setting: string): Fix | undefined {
  const close = block.endOffset - 1;
  if (text[close] !== '}') return undefined;
  const lineStart = text.lastIndexOf('\n', close - 1) + 1;
  const indent = text.slice(lineStart, close);
  const at: Span = { ...block, line: block.endLine, column: block.endColumn - 1, offset: close, endColumn: block.endColumn - 1, endOffset: close };
  if (/^[ \t]*$/.test(indent)) {
    return {
      title: `add \`${setting}\``,
      span: { ...at, column: 1, offset: lineStart, endColumn: 1, endOffset: lineStart },
      replacement: `${indent}  ${setting}\n`,
    };
  }
  return { title: `add \`${setting}\``, span: at, replacement: /\s/.test(text[close - 1] ?? '') ? `${setting} ` : ` ${setting} ` };
}

/** A missing setting: added, where the obvious value is known (a secret's env()). */
function missingSetting(name: string, ctx: SettingsContext): Fix[] {
  const fix = ctx.secrets.includes(name) ? addSetting(ctx.block, ctx.text, `${name} ${envFor(name)}`) : undefined;
  return fix ? [fix] : [];
}

function reportAjvError(e: ErrorObject, byName: Map<string, Setting>, ctx: SettingsContext, r: Reporter): void {
  if (e.keyword === 'required') {
    const name = String((e.params as { missingProperty: string }).missingProperty);
    r.report('missing-setting', ctx.ownerSpan, { owner: ctx.owner, name }, { hints: [`add \`${name} ...\` to the block`], fixes: missingSetting(name, ctx) });
    return;
  }
  if (e.keyword === 'additionalProperties') {
    const name = String((e.params as { additionalProperty: string }).additionalProperty);
    const s = byName.get(name);
    // Families of settings (a webhook's header_<name>) are described by their patterns.
    const families = Object.values((ctx.schema.patternProperties ?? {}) as Record<string, { description?: unknown }>).flatMap((p) =>
      typeof p.description === 'string' ? [p.description] : [],
    );
    const advice = nameHints(s?.name ?? { text: name }, settingNames(ctx.schema), 'settings');
    r.report('unknown-setting', s ? s.name.span : ctx.ownerSpan, { name, owner: ctx.owner }, { ...advice, hints: [...advice.hints, ...families] });
    return;
  }
  if (e.keyword === 'dependentRequired') {
    const { property, missingProperty } = e.params as { property: string; missingProperty: string };
    const s = byName.get(property);
    r.report(
      'missing-setting',
      s ? s.name.span : ctx.ownerSpan,
      { owner: `setting \`${property}\``, name: missingProperty },
      {
        hints: [`\`${property}\` goes with \`${missingProperty}\`: give both or neither`],
        fixes: missingSetting(missingProperty, ctx),
      },
    );
    return;
  }
  if (e.keyword === 'oneOf' || e.keyword === 'anyOf') {
    const branches = ((ctx.schema[e.keyword] as { required?: string[] }[] | undefined) ?? []).map((b) => (b.required ?? []).join(' + '));
    const both = e.keyword === 'oneOf' && (e.params as { passingSchemas?: unknown }).passingSchemas != null;
    r.report('invalid-setting', ctx.ownerSpan, { detail: `${ctx.owner} ${both ? 'gives more than one of' : 'needs one of'}: ${branches.join(', ')}` }, [
      both ? 'keep exactly one' : `add one of: ${branches.join(', ')}`,
    ]);
    return;
  }
  const name = e.instancePath.split('/')[1] ?? '';
  const s = byName.get(name);
  const description = (ctx.schema.properties as Record<string, { description?: unknown }> | undefined)?.[name]?.description;
  if (s?.value.kind === 'env' && !takesEnv((ctx.schema.properties as Record<string, unknown> | undefined)?.[name])) {
    r.report(
      'invalid-setting',
      s.value.span,
      { detail: `setting \`${name}\` cannot come from the environment` },
      typeof description === 'string' ? [`\`${name}\`: ${description}`] : [],
    );
    return;
  }
  // Other settings take env("X"), so an env() value can only fail on the variable's name.
  if (s?.value.kind === 'env') {
    r.report('invalid-setting', s.value.variable.span, { detail: `\`${s.value.variable.value}\` is not an environment variable name` }, [
      'a variable name is letters, digits and `_`, and does not start with a digit: env("HUBSPOT_TOKEN")',
    ]);
    return;
  }
  const property = propertyOf(ctx, name);
  const literal = literalBounds(ctx, name);
  const empty = e.keyword === 'minLength' && s?.value.kind === 'string' && s.value.value === '';
  const detail = `setting \`${name}\` ${empty ? 'is empty' : (e.message ?? 'is invalid')}`;
  const hints: string[] = [];
  const fixes: Fix[] = [];
  if (typeof description === 'string') hints.push(`\`${name}\`: ${description}`);
  if (empty) {
    const optional = !((ctx.schema.required as string[] | undefined) ?? []).includes(name);
    const fallback = property?.default === undefined ? '' : ` (${JSON.stringify(property.default)})`;
    hints.push(`write its value between the quotes${optional ? `, or leave the setting out for its default${fallback}` : ''}`);
  }
  if ((e.keyword === 'minimum' || e.keyword === 'maximum') && literal?.minimum !== undefined) hints.push(rangeHint(literal));
  if (e.keyword === 'enum') hints.push(allowedHint((e.params as { allowedValues: unknown[] }).allowedValues ?? []));
  if (e.keyword === 'pattern') hints.push(`it must match ${(e.params as { pattern: string }).pattern}`);
  if (e.keyword === 'type' && s?.value.kind === 'string' && /^-?\d+$/.test(s.value.value) && (e.params as { type?: string }).type === 'integer') {
    hints.push(`write the number without quotes: ${s.value.value}`);
    fixes.push(replaceWith(s.value.span, s.value.value));
  }
  r.report('invalid-setting', s ? s.value.span : ctx.ownerSpan, { detail }, { hints, fixes });
}
