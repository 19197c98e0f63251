/**
 * What the editor says about the language's words, read off the catalog and the mode matrix:
 * a destination type's modes (with the matrix's reason), object kinds and limits; a setting's
 * description, values and default; a mode's meaning; a dialect's rule for names. Markdown.
 */
import {
  audienceModeMeaning,
  modeMatrix,
  recordModeMeaning,
  type AudienceMode,
  type DestinationType,
  type JsonSchema,
  type RecordMode,
} from '../catalog/index.js';
import { getDialect } from '../dialect/index.js';
import type { Dialect } from '../check/model.js';

const count = (n: number) => n.toLocaleString('en-US');
const list = (xs: readonly string[]) => (xs.length ? xs.map((x) => `\`${x}\``).join(', ') : 'none');

/** Why a type's modes are what they are: the type's own reason where it departs from its category's row. */
const modesWhy = (type: DestinationType): string | undefined => type.modesWhy ?? modeMatrix[type.category].why;

/** The modes of a type, and why they are what they are. */
export function modesDoc(type: DestinationType): string {
  const why = modesWhy(type);
  return [
    `**record modes:** ${list(type.recordModes)}`,
    `**audience modes:** ${type.audienceModes.length ? list(type.audienceModes) : 'none (takes no audiences)'}`,
    why ? `_${why}_` : '',
  ]
    .filter(Boolean)
    .join('  \n');
}

export function limitsDoc(type: DestinationType): string {
  const lines = [`batch: up to ${count(type.limits.maxBatch)} rows per call (default ${count(type.limits.defaultBatch)})`];
  const rate = type.limits.rateLimit;
  if (rate) lines.push(`rate limit: ${[rate, ...(rate.also ?? [])].map((w) => `${count(w.requests)} requests per ${w.perSeconds} s`).join(', and ')}`);
  if (type.limits.maxPayloadBytes) lines.push(`largest request: ${count(type.limits.maxPayloadBytes)} bytes`);
  for (const k of type.objectKinds) if (k.limits) lines.push(`${k.kind}: up to ${count(k.limits.maxBatch)} rows per call`);
  return lines.map((l) => `- ${l}`).join('\n');
}

/** Everything about a destination type: what a hover on `: hubspot` shows. */
export function destinationTypeDoc(type: DestinationType): string {
  const kinds = type.objectKinds.map(
    (k) => `- \`${k.kind}\`: ${k.describes}${k.audience ? (k.records === false ? ' (audiences only)' : ' (records and audiences)') : ''}`,
  );
  const parts = [
    `**${type.title}** (\`${type.type}\`, ${type.category})`,
    modesDoc(type),
    `**object kinds**\n${kinds.join('\n')}`,
    `**limits**\n${limitsDoc(type)}`,
  ];
  if (type.fieldTypes) parts.push(`**field types:** ${list(type.fieldTypes)}`);
  if (type.formats) parts.push(`**formats:** ${list(type.formats)}`);
  if (type.message) parts.push(`**message:** ${type.message} (a Handlebars template over the row)`);
  if (type.secretSettings.length) parts.push(`**secrets** (only through \`env("...")\`): ${list(type.secretSettings)}`);
  parts.push(`[vendor documentation](${type.docs})`);
  return parts.join('\n\n');
}

export interface SettingInfo {
  name: string;
  description?: string;
  required: boolean;
  secret: boolean;
  /** The values it takes, where it takes a list. */
  values?: (string | number)[];
  default?: unknown;
  /** "a string", "a whole number from 1 to 65535", ... */
  kind: string;
}

function literalOf(property: JsonSchema): JsonSchema | undefined {
  const anyOf = property.anyOf as JsonSchema[] | undefined;
  return anyOf?.find((s) => !('$ref' in s));
}

function kindOf(literal: JsonSchema | undefined): string {
  if (!literal) return 'a value';
  if (Array.isArray(literal.enum)) return `one of ${(literal.enum as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  switch (literal.type) {
    case 'boolean':
      return '`true` or `false`';
    case 'integer': {
      const { minimum: min, maximum: max } = literal as { minimum?: number; maximum?: number };
      return min !== undefined && max !== undefined
        ? `a whole number from ${min} to ${max}`
        : min !== undefined
          ? `a whole number, ${min} or more`
          : 'a whole number';
    }
    case 'string':
      return literal.pattern ? `a string matching \`${String(literal.pattern)}\`` : 'a string';
    default:
      return 'a value';
  }
}

/** The settings a block of this schema takes, in declaration order. */
export function settingsOf(schema: JsonSchema): SettingInfo[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, p]) => {
    const secret = '$ref' in p && !('anyOf' in p);
    const literal = literalOf(p);
    const info: SettingInfo = { name, required: required.has(name), secret, kind: secret ? 'a secret' : kindOf(literal) };
    if (typeof p.description === 'string') info.description = p.description;
    if (Array.isArray(literal?.enum)) info.values = literal.enum as (string | number)[];
    if (p.default !== undefined) info.default = p.default;
    return info;
  });
}

export function settingDoc(s: SettingInfo, owner: string): string {
  const lines = [`**${s.name}**: ${s.description ?? s.kind} (${owner} setting${s.required ? ', required' : ''})`];
  if (s.secret) lines.push('a secret: only `env("NAME")` is accepted, never the value itself');
  else {
    if (s.description) lines.push(`takes ${s.kind}, or \`env("NAME")\``);
    else lines.push('or `env("NAME")`');
    if (s.default !== undefined) lines.push(`default: \`${JSON.stringify(s.default)}\``);
  }
  return lines.join('  \n');
}

const apiMirror = 'on an API destination, mirror is tracked: it deletes only records this sync wrote';

/** A mode's meaning; for a destination type, whether it takes it here and, where it refuses it, why. */
export function modeDoc(mode: string, kind: 'record' | 'audience' | undefined, type: DestinationType | undefined): string {
  const kinds: ('record' | 'audience')[] = kind ? [kind] : ['record', 'audience'];
  const lines: string[] = [];
  for (const k of kinds) {
    const meaning = k === 'record' ? recordModeMeaning[mode as RecordMode] : audienceModeMeaning[mode as AudienceMode];
    if (meaning) lines.push(`**${mode}** (${k === 'record' ? 'records' : 'audiences'}): ${meaning}`);
  }
  if (mode === 'mirror' && type && type.category !== 'warehouse') lines.push(`_${apiMirror}_`);
  if (type && kind) {
    const taken: readonly string[] = kind === 'record' ? type.recordModes : type.audienceModes;
    if (taken.includes(mode)) lines.push(`${type.type} takes it for ${kind === 'record' ? 'records' : 'audiences'}`);
    else lines.push(`${type.type} does not take it for ${kind === 'record' ? 'records' : 'audiences'} (it takes ${list(taken)}): _${modesWhy(type) ?? ''}_`);
  }
  return lines.join('  \n');
}

export function dialectDoc(dialect: Dialect): string {
  const spec = getDialect(dialect);
  const versions = spec.versions ? `  \nversions: ${spec.versions.supported.join(', ')} (default ${spec.versions.default})` : '';
  return `**${dialect}** warehouse  \nnames: ${spec.identifiers.why}; a name in quotes is exact${versions}`;
}

/** What each definition and item keyword writes, for completion and hovers. */
export const keywordDocs: Readonly<Record<string, string>> = {
  source: 'a warehouse the models read: `source warehouse : postgres { ... }`; also a warehouse destination',
  model: 'rows of a warehouse table or query, with their columns: `model users { from ... table ... columns { ... } }`',
  audience: 'the rows of a model that meet a condition: `audience whales { from users  where ltv >= 1000 }`',
  destination: 'a system syncs write to, of a type of the catalog: `destination crm : hubspot { ... }`',
  sync: 'rows of a model or audience, written to a destination in a mode: `sync users_to_crm { from ... to ... mode ... }`',
  from: 'what it reads: a source (model), a model (audience), a model or an audience (sync)',
  table: 'the warehouse table the model reads, e.g. `analytics.dim_users`',
  sql: 'a query the model reads instead of a table: `sql """ select ... """`',
  'primary key': 'the column that identifies a row of the model',
  'order by': 'which row wins when the key repeats: `order by updated_at desc`',
  columns: 'the columns syncs may use, each with its type: `columns { user_id bigint  email string? }` (`?` = nullable)',
  where: 'the condition a row meets to be in the audience',
  to: 'the destination, then what it writes there: `to crm object contacts`',
  mode: 'how rows are written: upsert, insert, update or mirror; for audiences add, remove, mirror or upsert',
  identifier: 'the column that matches rows to destination records, and the field it goes to: `identifier email -> email`',
  map: 'the columns sent, and the fields they go to: `map { plan -> plan_tier }`; without it every column goes under its own name',
  batch: "rows per API call, up to the destination's limit",
  guard: '`guard deletes <= 5%` (or a count) aborts a run that would delete more; `guard allow empty` lets an empty model delete every record',
  schedule: 'when the sync runs, as a cron expression: `"0 * * * *"`, or @hourly, @daily, @weekly',
  message: 'the text a Slack or webhook sync sends, a Handlebars template over the row: `"New signup: {{email}}"`',
  format: 'the file format of storage destinations: csv or jsonl',
  hashed: 'normalised and SHA-256 hashed inside the warehouse before it is sent',
};
