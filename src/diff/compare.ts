/**
 * Two versions of a project compared by meaning, as a reviewer needs them: what each sync will
 * do differently, not which lines moved. Both versions are checked projects (check.ts), so a
 * sync without `map` is compared by the fields it really sends, a name by what it resolves
 * to, a setting by its value.
 *
 * Every change has a risk: `destructive` when the destination may lose records or rows it
 * would have kept (a mode into mirror or remove, a bound on deletes loosened or removed,
 * `guard allow empty` added, an identifier or its hashing changed, the rows or target of a
 * deleting sync changed, a sync added in a deleting mode), `risky` when what is written, or
 * where, changes, `info` otherwise. `compareProjects` returns them riskiest first.
 */
import {
  audienceModeMeaning,
  getDestinationType,
  objectKindOf,
  recordModeMeaning,
  resolveField,
  type AudienceMode,
  type RecordMode,
} from '../catalog/index.js';
import { written as ident } from '../check/expr.js';
import { getDialect, nameKey, type Dialect } from '../dialect/index.js';
import { queryKey } from '../dialect/sql-text.js';
import type { CheckedAudience, CheckedDestination, CheckedModel, CheckedProject, CheckedSource, CheckedSync, FieldMap } from '../check/model.js';
import type { Ident } from '../syntax/ast.js';
import type { Span } from '../span.js';

export type Risk = 'destructive' | 'risky' | 'info';

export const changeKinds = [
  'sync-added',
  'sync-removed',
  'sync-renamed',
  'mode',
  'identifier',
  'identifier-hashing',
  'guard-deletes',
  'guard-allow-empty',
  'from',
  'destination',
  'target',
  'field-added',
  'field-removed',
  'field-column',
  'field-hashing',
  'schedule',
  'batch',
  'format',
  'message',
  'model',
  'audience',
  'source',
  'destination-settings',
  'definition-added',
  'definition-removed',
] as const;

export type ChangeKind = (typeof changeKinds)[number];

export interface Change {
  risk: Risk;
  kind: ChangeKind;
  /** What it is about: a sync, or a definition that syncs read. */
  subject: { kind: 'sync' | 'source' | 'destination' | 'model' | 'audience'; name: string };
  /** Where, in the version that has it (the head's, but for what was removed). */
  file: string;
  line: number;
  /** The value before and after, as a `.sync` file writes it, where there is one. */
  before?: string;
  after?: string;
  /** What the change does, in a sentence or two. */
  message: string;
  /** For a definition: the syncs that read it. */
  syncs?: string[];
}

/** A version of a project: what checked, and the text of its files (for conditions and queries as written). */
export interface Version {
  project: CheckedProject;
  texts: ReadonlyMap<string, string>;
}

const riskOrder: Record<Risk, number> = { destructive: 0, risky: 1, info: 2 };

export function compareProjects(base: Version, head: Version): Change[] {
  const changes: Change[] = [];
  const baseSyncs = new Map(base.project.syncs.map((s) => [s.name, s]));
  const headSyncs = new Map(head.project.syncs.map((s) => [s.name, s]));
  const removed = base.project.syncs.filter((s) => !headSyncs.has(s.name));
  const added = head.project.syncs.filter((s) => !baseSyncs.has(s.name));

  // A sync removed and one added that do the same: a rename.
  const renamed = new Map<CheckedSync, CheckedSync>();
  for (const a of added) {
    const r = removed.find((x) => ![...renamed.values()].includes(x) && sameSync(x, a));
    if (r) renamed.set(a, r);
  }
  for (const a of added) {
    const r = renamed.get(a);
    if (r) changes.push(renamedSync(r, a));
    else changes.push(addedSync(a));
  }
  for (const r of removed) {
    if ([...renamed.values()].includes(r)) continue;
    changes.push({
      risk: 'risky',
      kind: 'sync-removed',
      subject: { kind: 'sync', name: r.name },
      file: r.file,
      line: r.line,
      message: `no longer runs: what it wrote to ${destinationText(r)} stays there${api(r) ? ', and its snapshot stays in the state schema' : ''}`,
    });
  }
  for (const h of head.project.syncs) {
    const b = baseSyncs.get(h.name);
    if (b) changes.push(...syncChanges(b, h));
  }
  changes.push(...definitionChanges(base, head));
  return changes.sort(
    (a, b) =>
      riskOrder[a.risk] - riskOrder[b.risk] ||
      (a.subject.kind === 'sync' ? 0 : 1) - (b.subject.kind === 'sync' ? 0 : 1) ||
      compare(a.subject.name, b.subject.name) ||
      changeKinds.indexOf(a.kind) - changeKinds.indexOf(b.kind) ||
      compare(a.after ?? a.before ?? '', b.after ?? b.before ?? ''),
  );
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------
// How things are written, for messages.

const path = (parts: readonly Ident[]) => parts.map(ident).join('.');

function targetText(s: CheckedSync): string {
  return [s.objectKind, s.target ? path(s.target) : undefined].filter(Boolean).join(' ');
}

function destinationText(s: CheckedSync): string {
  const target = targetText(s);
  return `${s.destination.name}${target ? ` ${target}` : ''}`;
}

function mappingText(f: FieldMap | undefined): string | undefined {
  return f ? `${ident(f.column.name)} -> ${ident(f.field)}${f.hashed ? ' hashed' : ''}` : undefined;
}

function guardText(g: CheckedSync['guard']['maxDeletes']): string | undefined {
  return g ? `deletes <= ${g.value}${g.percent ? '%' : ''}` : undefined;
}

/** A value of a setting as a `.sync` file writes it. */
function valueText(v: unknown): string {
  if (v && typeof v === 'object' && 'env' in v) return `env(${JSON.stringify((v as { env: string }).env)})`;
  if (v && typeof v === 'object' && 'path' in v) return (v as { path: string[] }).path.join('.');
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The text a span covers, on one line: line breaks and the indentation around them made one space, other spaces kept (they may be inside a string). */
function written(version: Version, span: Span): string {
  return (version.texts.get(span.file) ?? '')
    .slice(span.offset, span.endOffset)
    .replace(/[^\S\r\n\u2028\u2029]*[\r\n\u2028\u2029]\s*/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------
// What a sync's mode does to its destination.

/** Whether the sync's destination is reached through an API (a snapshot of what was sent is kept), not a warehouse. */
const api = (s: CheckedSync) => s.destination.category !== 'warehouse';

const deletes = (s: CheckedSync) => s.mode === 'mirror' || s.mode === 'remove';

function meaning(s: CheckedSync): string {
  return s.kind === 'record' ? recordModeMeaning[s.mode as RecordMode] : audienceModeMeaning[s.mode as AudienceMode];
}

/** What a deleting sync deletes, in its destination's terms. */
function whatItDeletes(s: CheckedSync): string {
  const where = destinationText(s);
  const rows = s.audience ? `members who are not in audience ${s.audience.name}` : `records whose rows are not in model ${s.model.name}`;
  switch (s.destination.category) {
    case 'warehouse':
      return s.kind === 'audience'
        ? `rows of ${where} for this audience whose members left are deleted`
        : `rows of ${where} that are not in model ${s.model.name} are deleted, whoever wrote them`;
    case 'advertising':
      return s.mode === 'mirror'
        ? `the list ${where} is replaced by the ${s.audience ? 'audience' : 'model'}'s current members, whoever added the others`
        : `${rows} are taken out of ${where}`;
    case 'storage':
      return `the object in ${where} is overwritten with the whole model on every run`;
    default:
      return `${rows} are deleted from ${where} (only those this sync wrote)`;
  }
}

// ---------------------------------------------------------------------------------------
// Syncs.

function addedSync(s: CheckedSync): Change {
  const change: Change = {
    risk: 'info',
    kind: 'sync-added',
    subject: { kind: 'sync', name: s.name },
    file: s.file,
    line: s.line,
    after: s.mode,
    message: `new: ${s.model.name}${s.audience ? ` (audience ${s.audience.name})` : ''} to ${destinationText(s)}, mode ${s.mode}`,
  };
  if (deletes(s)) {
    change.risk = 'destructive';
    change.message += `: ${whatItDeletes(s)}`;
  }
  return change;
}

function renamedSync(from: CheckedSync, to: CheckedSync): Change {
  return {
    risk: api(to) ? 'risky' : 'info',
    kind: 'sync-renamed',
    subject: { kind: 'sync', name: to.name },
    file: to.file,
    line: to.line,
    before: from.name,
    after: to.name,
    message: api(to)
      ? `renamed from ${from.name}: its snapshot is kept under the old name, so the first run sends every row again as new${to.mode === 'insert' ? ' (insert: duplicates)' : ''}`
      : `renamed from ${from.name}; it does the same`,
  };
}

/** Everything but the name the same: what a sync reads, where it writes, how. */
function sameSync(a: CheckedSync, b: CheckedSync): boolean {
  return meaningOf({ ...a, name: '' }) === meaningOf({ ...b, name: '' });
}

/**
 * A value without where it was written (spans, files, lines) and the spelling of literals
 * (`raw`): two texts that mean the same give the same string. A number is its exact decimal
 * value, read from its text: the compiled SQL writes the text, and past 2^53 the parsed
 * value is rounded (1234567890123456789 and ...788 are one double).
 */
function meaningOf(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (key === 'span' || key === 'raw' || key === 'file' || key === 'line') return undefined;
    if (isNumberLiteral(v)) return { ...v, value: exactNumber(v.raw) ?? v.value };
    return v;
  });
}

const isNumberLiteral = (v: unknown): v is { value: number; raw: string } =>
  typeof v === 'object' && v !== null && typeof (v as { value?: unknown }).value === 'number' && typeof (v as { raw?: unknown }).raw === 'string';

/** A decimal number's text as one spelling of its exact value (`1.50`, `+1.5` and `15e-1` are `15e-1`), or undefined for other text. */
function exactNumber(text: string): string | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = `${m[2]}${m[3] ?? ''}`;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  const significant = digits.slice(lead).replace(/0+$/, '');
  if (significant === '') return '0';
  const trailing = digits.length - lead - significant.length;
  const exponent = BigInt(m[4] ?? 0) - BigInt((m[3] ?? '').length) + BigInt(trailing);
  return `${m[1] === '-' ? '-' : ''}${significant}e${exponent}`;
}

function syncChanges(b: CheckedSync, h: CheckedSync): Change[] {
  const out: Change[] = [];
  const at = (kind: ChangeKind, risk: Risk, message: string, before?: string, after?: string): void => {
    out.push({
      risk,
      kind,
      subject: { kind: 'sync', name: h.name },
      file: h.file,
      line: h.line,
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
      message,
    });
  };

  if (b.mode !== h.mode) {
    if (deletes(h)) at('mode', 'destructive', `${h.mode}: ${meaning(h)}; ${whatItDeletes(h)}`, b.mode, h.mode);
    else at('mode', 'risky', `${h.mode}: ${meaning(h)}${deletes(b) ? '; it deletes nothing any more' : ''}`, b.mode, h.mode);
  }

  const fromBefore = b.audience?.name ?? b.model.name;
  const fromAfter = h.audience?.name ?? h.model.name;
  if (fromBefore !== fromAfter) {
    at(
      'from',
      deletes(h) ? 'destructive' : 'risky',
      `reads ${h.audience ? 'audience' : 'model'} ${fromAfter}${deletes(h) ? `: ${whatItDeletes(h)}` : ': the rows it sends change'}`,
      fromBefore,
      fromAfter,
    );
  }

  const destBefore = b.destination.source ? `source ${b.destination.name}` : meaningOf(destinationMeaning(b.destination));
  const destAfter = h.destination.source ? `source ${h.destination.name}` : meaningOf(destinationMeaning(h.destination));
  const snapshot = api(h) ? '; the snapshot of what it sent is kept, so rows already sent go to the new place only when they change' : '';
  if (b.destination.name !== h.destination.name && destBefore !== destAfter) {
    at(
      'destination',
      deletes(h) ? 'destructive' : 'risky',
      `writes to ${h.destination.name} (${h.destination.type}) instead of ${b.destination.name} (${b.destination.type})${deletes(h) ? `: ${whatItDeletes(h)}` : ''}${snapshot}`,
      b.destination.name,
      h.destination.name,
    );
  }
  if (targetText(b) !== targetText(h)) {
    at(
      'target',
      deletes(h) ? 'destructive' : 'risky',
      `writes to ${destinationText(h)}${deletes(h) ? `: ${whatItDeletes(h)}` : ''}${snapshot}`,
      targetText(b),
      targetText(h),
    );
  }

  const idBefore = b.identifier;
  const idAfter = h.identifier;
  const idKey = (f: FieldMap | undefined, s: CheckedSync) => (f ? `${meaningOf(f.column.name)} ${fieldKey(s)(f)}` : '');
  const consequence = deletes(h)
    ? `; ${h.mode} then deletes the records of the old values`
    : h.mode === 'update'
      ? '; update finds no record to update until the destination has the new values'
      : '; new records are created beside the old ones';
  if (idKey(idBefore, b) !== idKey(idAfter, h)) {
    at('identifier', 'destructive', `the identifier changed, so every record looks new${consequence}`, mappingText(idBefore), mappingText(idAfter));
  } else if (idBefore && idAfter && idBefore.hashed !== idAfter.hashed) {
    at(
      'identifier-hashing',
      'destructive',
      `${idAfter.hashed ? 'hashing turned on' : 'hashing turned off: the identifier leaves the warehouse in plain text'}; its values change, so every record looks new${consequence}`,
      mappingText(idBefore),
      mappingText(idAfter),
    );
  }

  const gBefore = b.guard.maxDeletes;
  const gAfter = h.guard.maxDeletes;
  if (guardText(gBefore) !== guardText(gAfter)) {
    if (!gAfter && !deletes(h)) at('guard-deletes', 'info', `no bound on deletes: mode ${h.mode} deletes nothing`, guardText(gBefore), undefined);
    else if (!gAfter)
      at('guard-deletes', 'destructive', 'no bound on deletes any more: a run deletes however many records it must', guardText(gBefore), undefined);
    else if (!gBefore) at('guard-deletes', 'info', 'a run that would delete more aborts, changing nothing', undefined, guardText(gAfter));
    else if (gBefore.percent !== gAfter.percent)
      at('guard-deletes', 'destructive', 'the bound on deletes changed unit: it may be looser', guardText(gBefore), guardText(gAfter));
    else if (gAfter.value > gBefore.value)
      at('guard-deletes', 'destructive', 'the bound on deletes is looser: a run may delete more', guardText(gBefore), guardText(gAfter));
    else at('guard-deletes', 'info', 'the bound on deletes is tighter', guardText(gBefore), guardText(gAfter));
  }
  if (b.guard.allowEmpty !== h.guard.allowEmpty) {
    if (h.guard.allowEmpty)
      at(
        'guard-allow-empty',
        'destructive',
        `an empty model is allowed: a run reading no rows ${deletes(h) ? 'deletes every record' : 'is not stopped'}`,
        undefined,
        'allow empty',
      );
    else at('guard-allow-empty', 'info', 'a run reading no rows aborts again, changing nothing', 'allow empty', undefined);
  }

  // Fields by the destination field they write.
  const before = new Map(b.fields.map((f) => [fieldKey(b)(f), f]));
  const after = new Map(h.fields.map((f) => [fieldKey(h)(f), f]));
  for (const [key, f] of after) {
    const was = before.get(key);
    if (!was) {
      at('field-added', 'info', `sends ${ident(f.field)} from column ${ident(f.column.name)}${f.hashed ? ', hashed' : ''}`, undefined, mappingText(f));
    } else if (meaningOf(was.column.name) !== meaningOf(f.column.name)) {
      at(
        'field-column',
        'risky',
        `${ident(f.field)} is sent from column ${ident(f.column.name)} instead of ${ident(was.column.name)}`,
        mappingText(was),
        mappingText(f),
      );
    } else if (was.hashed !== f.hashed) {
      at(
        'field-hashing',
        'risky',
        f.hashed ? `${ident(f.field)} is hashed now: its values change` : `hashing turned off: ${ident(f.field)} leaves the warehouse in plain text`,
        mappingText(was),
        mappingText(f),
      );
    }
  }
  for (const [key, f] of before) {
    if (!after.has(key))
      at('field-removed', 'risky', `${ident(f.field)} is no longer sent: the destination keeps the last value it had`, mappingText(f), undefined);
  }

  if (b.schedule !== h.schedule)
    at('schedule', 'info', h.schedule ? `runs on "${h.schedule}"` : 'no schedule: it runs when the orchestrator says', b.schedule, h.schedule);
  if (b.batch !== h.batch) at('batch', 'info', `${h.batch ?? 'the default number of'} rows per call`, b.batch?.toString(), h.batch?.toString());
  if (b.format !== h.format) at('format', 'risky', `writes ${h.format} files: what reads them must read ${h.format}`, b.format, h.format);
  if (b.message !== h.message) at('message', 'info', 'the message template changed', b.message, h.message);
  return out;
}

/**
 * A destination field as the destination tells fields apart: a warehouse column as the
 * warehouse names it (bare names folded), an API field as its requests name it, which is the
 * text as written (a payload key is exact) unless the API's rules take any case (Meta's keys).
 */
function fieldKey(s: CheckedSync): (f: FieldMap) => string {
  const type = getDestinationType(s.destination.type);
  if (type?.category === 'warehouse') return (f) => nameKey(type.type as Dialect, f.field);
  const rules = type && objectKindOf(type, s.objectKind, s.kind)?.fields;
  return (f) => resolveField(rules, f.field.text).name;
}

function destinationMeaning(d: CheckedDestination) {
  return { type: d.type, settings: d.settings };
}

// ---------------------------------------------------------------------------------------
// Definitions the syncs read.

function definitionChanges(base: Version, head: Version): Change[] {
  const out: Change[] = [];
  const define = <D extends { name: string; span: Span }>(
    kind: 'source' | 'destination' | 'model' | 'audience',
    b: readonly D[],
    h: readonly D[],
    differences: (x: D, y: D) => string[],
    read: (name: string) => CheckedSync[],
  ) => {
    const bm = new Map(b.map((d) => [d.name, d]));
    const hm = new Map(h.map((d) => [d.name, d]));
    for (const d of h) {
      const was = bm.get(d.name);
      if (!was) {
        out.push({ risk: 'info', kind: 'definition-added', subject: { kind, name: d.name }, file: d.span.file, line: d.span.line, message: `new ${kind}` });
        continue;
      }
      const diff = differences(was, d);
      if (diff.length === 0) continue;
      const syncs = read(d.name);
      // What a deleting sync reads changed: what no longer matches is deleted. A destination's syncs write elsewhere, or otherwise.
      const deleting = kind === 'destination' ? [] : syncs.filter(deletes);
      const risk: Risk = kind === 'source' || kind === 'destination' || deleting.length > 0 ? 'risky' : 'info';
      const kindOf: ChangeKind = kind === 'destination' ? 'destination-settings' : kind;
      const message = `${diff.join('; ')}${deleting.length > 0 ? `; read by ${deleting.map((s) => `${s.name} (${s.mode})`).join(', ')}, which delete${deleting.length === 1 ? 's' : ''} what no longer matches` : ''}`;
      out.push({
        risk,
        kind: kindOf,
        subject: { kind, name: d.name },
        file: d.span.file,
        line: d.span.line,
        message,
        ...(syncs.length ? { syncs: syncs.map((s) => s.name).sort(compare) } : {}),
      });
    }
    for (const d of b) {
      if (!hm.has(d.name))
        out.push({
          risk: 'info',
          kind: 'definition-removed',
          subject: { kind, name: d.name },
          file: d.span.file,
          line: d.span.line,
          message: `${kind} removed`,
        });
    }
  };
  const syncsOf = (pred: (s: CheckedSync) => boolean) => head.project.syncs.filter(pred);
  define('source', base.project.sources, head.project.sources, sourceDifferences, (n) => syncsOf((s) => s.model.source.name === n));
  define('destination', base.project.destinations, head.project.destinations, destinationDifferences, (n) => syncsOf((s) => s.destination.name === n));
  // A sync reading an audience reads its model too: a change of the model changes the audience's members.
  define('model', base.project.models, head.project.models, modelDifferences, (n) => syncsOf((s) => s.model.name === n));
  define(
    'audience',
    base.project.audiences,
    head.project.audiences,
    (x, y) => audienceDifferences(x, y, base, head),
    (n) => syncsOf((s) => s.audience?.name === n),
  );
  return out;
}

function settingDifferences(b: Record<string, unknown>, h: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(h)])].sort(compare)) {
    const x = b[key] === undefined ? undefined : valueText(b[key]);
    const y = h[key] === undefined ? undefined : valueText(h[key]);
    if (x === y) continue;
    out.push(x === undefined ? `${key} ${y} added` : y === undefined ? `${key} ${x} removed` : `${key} ${x} → ${y}`);
  }
  return out;
}

function sourceDifferences(b: CheckedSource, h: CheckedSource): string[] {
  return [...(b.dialect !== h.dialect ? [`dialect ${b.dialect} → ${h.dialect}`] : []), ...settingDifferences(b.settings, h.settings)];
}

function destinationDifferences(b: CheckedDestination, h: CheckedDestination): string[] {
  const type = getDestinationType(h.type);
  return [...(b.type !== h.type ? [`type ${b.type} → ${h.type}${type ? ` (${type.title})` : ''}`] : []), ...settingDifferences(b.settings, h.settings)];
}

function modelDifferences(b: CheckedModel, h: CheckedModel): string[] {
  const out: string[] = [];
  if (b.source.name !== h.source.name) out.push(`reads source ${h.source.name} instead of ${b.source.name}`);
  // A query by what the warehouse reads: its layout and comments aside, its quoted text exact.
  const relation = (m: CheckedModel) =>
    m.relation.kind === 'table' ? `table ${path(m.relation.path)}` : `sql ${queryKey(getDialect(m.source.dialect), m.relation.query)}`;
  if (relation(b) !== relation(h)) {
    out.push(
      b.relation.kind === 'table' && h.relation.kind === 'table'
        ? `${relation(b)} → ${relation(h)}`
        : h.relation.kind === 'sql'
          ? 'its query changed'
          : `reads ${relation(h)}`,
    );
  }
  const key = (m: CheckedModel) => (m.primaryKey ? ident(m.primaryKey) : '');
  if (key(b) !== key(h)) out.push(`primary key ${key(b) || '(none)'} → ${key(h) || '(none)'}`);
  const order = (m: CheckedModel) => m.orderBy.map((o) => `${ident(o.column)}${o.descending ? ' desc' : ''}`).join(', ');
  if (order(b) !== order(h)) out.push(`order by ${order(b) || '(none)'} → ${order(h) || '(none)'}: which row wins when the key repeats`);
  const col = (c: CheckedModel['columns'][number]) =>
    `${c.type}${c.precision !== undefined ? `(${c.precision}${c.scale !== undefined ? `, ${c.scale}` : ''})` : ''}${c.nullable ? '?' : ''}`;
  const bc = new Map(b.columns.map((c) => [ident(c.name), c]));
  const hc = new Map(h.columns.map((c) => [ident(c.name), c]));
  for (const [name, c] of hc) {
    const was = bc.get(name);
    if (!was) out.push(`column ${name} ${col(c)} added`);
    else if (col(was) !== col(c)) out.push(`column ${name} ${col(was)} → ${col(c)}`);
  }
  for (const [name, c] of bc) if (!hc.has(name)) out.push(`column ${name} ${col(c)} removed`);
  return out;
}

function audienceDifferences(b: CheckedAudience, h: CheckedAudience, base: Version, head: Version): string[] {
  const out: string[] = [];
  if (b.model.name !== h.model.name) out.push(`selects from model ${h.model.name} instead of ${b.model.name}`);
  // `ltv>=1000` and `ltv >= 1000` are one condition.
  if (meaningOf(b.where) !== meaningOf(h.where)) out.push(`where ${written(base, b.where.span)} → where ${written(head, h.where.span)}`);
  return out;
}
