/** Syncs: what they read, where they write, the mode matrix, identifiers, mappings, guards. */
import Handlebars from 'handlebars';
import type { FieldMapping, Ident, SyncDef, SyncItem } from '../syntax/ast.js';
import type { Span } from '../syntax/span.js';
import { audienceModes, recordModes, type AudienceMode, type DestinationType, type RecordMode } from '../catalog/types.js';
import type { CheckedAudience, CheckedDestination, CheckedModel, CheckedSync, FieldMap } from './model.js';
import { Reporter, single } from './report.js';
import { nameHints } from '../diagnostics/suggest.js';
import { findColumn, unknownColumn } from './expr.js';
import { nameKey } from '../dialect/index.js';

export interface SyncScope {
  models: ReadonlyMap<string, CheckedModel>;
  audiences: ReadonlyMap<string, CheckedAudience>;
  destinations: ReadonlyMap<string, { checked: CheckedDestination; type: DestinationType }>;
  /** Names defined but not checkable (their own errors were reported): no cascade of unknown-reference. */
  broken: ReadonlySet<string>;
}

const deletingModes = new Set(['mirror', 'remove']);
const modesNeedingIdentifier = new Set(['upsert', 'update', 'mirror', 'add', 'remove']);

export function checkSync(def: SyncDef, scope: SyncScope, r: Reporter, source: string): CheckedSync | undefined {
  const owner = { kind: 'sync', name: def.name.text };
  const one = <K extends SyncItem['kind']>(kind: K, keyword: string) => single(def.items, kind, keyword, owner, r);
  const from = one('from', 'from');
  const to = one('to', 'to');
  const modeItem = one('mode', 'mode');
  const idItem = one('identifier', 'identifier');
  const mapItem = one('map', 'map');
  const batch = one('batch', 'batch');
  const guardDeletes = one('guardDeletes', 'guard deletes');
  const guardEmpty = one('guardAllowEmpty', 'guard allow empty');
  const schedule = one('schedule', 'schedule');
  const message = one('message', 'message');
  const format = one('format', 'format');

  const errorsBefore = r.errorCount;
  const read = resolveFrom(def, from, scope, r);
  const dest = resolveTo(def, to, scope, r);
  if (!modeItem) {
    r.report('missing-item', def.name.span, { ...owner, item: 'mode' }, [
      dest ? `${dest.type.type} supports: ${modesOf(dest.type, read?.audience !== undefined).join(', ')}` : 'modes: upsert, insert, update, mirror; for audiences add, remove, mirror, upsert',
    ]);
  }
  const modeKnown = modeItem ? knownMode(modeItem.mode, r) : false;
  // What can be checked without the rest is checked, so one run shows every problem.
  const batchSize = batch && dest ? checkBatch(batch.size, dest.type, r) : undefined;
  const formatName = dest ? checkFormat(format, dest.type, r) : undefined;
  if (schedule && !validCron(schedule.cron.value)) {
    r.report('invalid-schedule', schedule.cron.span, { text: schedule.cron.value }, ['five cron fields (minute hour day month weekday), e.g. "0 * * * *", or @hourly / @daily / @weekly']);
  }
  if (!read || !dest || !modeItem || !to) return undefined;
  const { model, audience } = read;
  const kind = audience ? 'audience' : 'record';
  const mode = modeKnown ? checkMode(modeItem.mode, kind, audience?.name ?? model.name, dest.type, r) : undefined;
  const target = checkTarget(def.name.text, to, kind, dest.type, r);

  const identifier = idItem ? checkMapping(idItem.mapping, model, dest.type, r) : undefined;
  if (mode && !idItem && modesNeedingIdentifier.has(mode)) {
    r.report('missing-identifier', modeItem.mode.span, { mode }, ['add `identifier column -> field`: the column that matches rows to destination records']);
  }
  if (mode === 'insert' && !idItem) {
    r.report('insert-without-identifier', modeItem.mode.span, { type: dest.type.type }, ['add an `identifier` so only new rows are sent']);
  }
  if (identifier?.column.nullable) {
    r.report('nullable-identifier', idItem!.mapping.column.span, { name: identifier.column.name.text }, [
      'declare the column non-null (drop the `?`) if it never is, or filter NULLs in the model',
    ]);
  }

  const fields = mapItem
    ? mapItem.mappings.map((m) => checkMapping(m, model, dest.type, r)).filter((f): f is FieldMap => f !== undefined)
    : defaultFields(model, identifier);
  checkDistinctFields(identifier, fields, mapItem?.mappings ?? [], idItem?.mapping, model, r);

  const maxDeletes = guardDeletes ? checkGuard(guardDeletes, r) : undefined;
  for (const g of [guardDeletes, guardEmpty]) {
    if (g && mode && !deletingModes.has(mode)) {
      r.report('guard-without-deletes', g.span, { mode }, ['guards bound deletes: they apply to `mirror` and `remove` only']);
    }
  }
  if (mode === 'mirror' && !guardDeletes) {
    r.report('mirror-without-guard', modeItem.mode.span, {}, ['add `guard deletes <= 5%` (or an absolute count) to abort a run that would delete more']);
  }
  const messageText = checkMessage(message, def, dest.type, model, r);
  if (r.errorCount > errorsBefore || !mode) return undefined;

  const sync: CheckedSync = {
    name: def.name.text,
    file: def.span.file,
    line: def.span.line,
    span: def.span,
    kind,
    mode,
    model,
    destination: dest.checked,
    fields,
    guard: { allowEmpty: guardEmpty !== undefined },
  };
  if (audience) sync.audience = audience;
  if (target.objectKind) sync.objectKind = target.objectKind;
  if (target.ref) sync.target = target.ref;
  if (identifier) sync.identifier = identifier;
  if (batchSize !== undefined) sync.batch = batchSize;
  if (maxDeletes) sync.guard.maxDeletes = maxDeletes;
  if (schedule) sync.schedule = schedule.cron.value;
  if (messageText !== undefined) sync.message = messageText;
  const fmt = formatName ?? dest.type.formats?.[0];
  if (fmt) sync.format = fmt;
  return sync;
}

function modesOf(type: DestinationType, audience: boolean): string[] {
  return audience ? [...type.audienceModes] : [...type.recordModes];
}

function resolveFrom(def: SyncDef, from: Extract<SyncItem, { kind: 'from' }> | undefined, scope: SyncScope, r: Reporter) {
  if (!from) {
    r.report('missing-item', def.name.span, { kind: 'sync', name: def.name.text, item: 'from' }, ['name the model or audience it reads: `from users`']);
    return undefined;
  }
  const name = from.name.text;
  const audience = scope.audiences.get(name);
  if (audience) return { model: audience.model, audience };
  const model = scope.models.get(name);
  if (model) return { model, audience: undefined };
  if (!scope.broken.has(name)) {
    r.report('unknown-reference', from.name.span, { kind: 'model or audience', name }, nameHints(name, [...scope.models.keys(), ...scope.audiences.keys()], 'models and audiences'));
  }
  return undefined;
}

function resolveTo(def: SyncDef, to: Extract<SyncItem, { kind: 'to' }> | undefined, scope: SyncScope, r: Reporter) {
  if (!to) {
    r.report('missing-item', def.name.span, { kind: 'sync', name: def.name.text, item: 'to' }, ['name the destination it writes: `to crm object contacts`']);
    return undefined;
  }
  const name = to.destination.text;
  const dest = scope.destinations.get(name);
  if (!dest && !scope.broken.has(name)) {
    r.report('unknown-reference', to.destination.span, { kind: 'destination', name }, nameHints(name, [...scope.destinations.keys()], 'destinations'));
  }
  return dest;
}

function knownMode(mode: Ident, r: Reporter): boolean {
  const all: string[] = [...new Set([...recordModes, ...audienceModes])];
  if (all.includes(mode.text)) return true;
  r.report('unknown-mode', mode.span, { name: mode.text }, nameHints(mode.text, all, 'modes'));
  return false;
}

function checkMode(mode: Ident, kind: 'record' | 'audience', from: string, type: DestinationType, r: Reporter): RecordMode | AudienceMode | undefined {
  const name = mode.text;
  const isRecord = (recordModes as readonly string[]).includes(name);
  const isAudience = (audienceModes as readonly string[]).includes(name);
  if (kind === 'record') {
    if (!isRecord) {
      r.report('audience-mode-on-record', mode.span, { mode: name, model: from }, [`\`${name}\` manages audience membership; record syncs use: ${type.recordModes.join(', ')}`]);
      return undefined;
    }
    if (!type.recordModes.includes(name as RecordMode)) {
      const hints = [`${type.type} supports: ${type.recordModes.join(', ')}`];
      if (type.category === 'advertising' && name === 'insert') {
        hints.push('advertising platforms take upsert (upload identifiers) and mirror (replace the list): an ad list has no append-only records');
      }
      r.report('unsupported-mode', mode.span, { type: type.type, kind: 'record', mode: name }, hints);
      return undefined;
    }
    return name as RecordMode;
  }
  if (type.audienceModes.length === 0) {
    r.report('audiences-unsupported', mode.span, { type: type.type }, [`${type.type} takes record syncs: read a model, not an audience`]);
    return undefined;
  }
  if (!isAudience) {
    r.report('record-mode-on-audience', mode.span, { mode: name, audience: from }, [`audience syncs use: ${type.audienceModes.join(', ')}`]);
    return undefined;
  }
  if (!type.audienceModes.includes(name as AudienceMode)) {
    const hints = [`${type.type} supports for audiences: ${type.audienceModes.join(', ')}`];
    if (type.category === 'advertising' && name === 'upsert') hints.push('ad audiences carry no attributes to update: use add or mirror');
    r.report('unsupported-mode', mode.span, { type: type.type, kind: 'audience', mode: name }, hints);
    return undefined;
  }
  return name as AudienceMode;
}

function checkTarget(syncName: string, to: Extract<SyncItem, { kind: 'to' }>, syncKind: 'record' | 'audience', type: DestinationType, r: Reporter): { objectKind?: string; ref?: Ident[] } {
  // A type that takes no audiences at all is refused once, at the mode (audiences-unsupported); its kinds are read as for records.
  const kind = syncKind === 'audience' && type.audienceModes.length === 0 ? 'record' : syncKind;
  const ref = to.ref ? (to.ref.kind === 'path' ? to.ref.path.parts : [{ text: to.ref.value.value, quoted: true, span: to.ref.span }]) : undefined;
  const kinds = type.objectKinds.map((k) => k.kind);
  if (!to.objectKind) {
    const fallback = type.defaultObjectKind?.[kind === 'audience' ? 'audiences' : 'records'];
    if (fallback === undefined) {
      r.report('missing-item', to.span, { kind: 'sync', name: syncName, item: `${kinds[0] ?? 'object'} <name>` }, [
        `say what it writes: \`to ${to.destination.text} ${kinds[0] ?? 'object'} ...\` (${type.type} object kinds: ${kinds.join(', ')})`,
      ]);
      return {};
    }
    const spec = type.objectKinds.find((k) => k.kind === fallback);
    if (spec && (spec.target ?? 'required') === 'required') {
      r.report('missing-item', to.span, { kind: 'sync', name: syncName, item: `${fallback} <name>` }, [`say which ${fallback}: \`to ${to.destination.text} ${fallback} ...\` (${spec.describes})`]);
      return {};
    }
    return { objectKind: fallback };
  }
  const spec = type.objectKinds.find((k) => k.kind === to.objectKind!.text);
  if (!spec) {
    r.report('unknown-object-kind', to.objectKind.span, { type: type.type, name: to.objectKind.text }, nameHints(to.objectKind.text, kinds, 'object kinds'));
    return {};
  }
  if (kind === 'audience' && !spec.audience) {
    const fit = type.objectKinds.filter((k) => k.audience).map((k) => k.kind);
    r.report('item-not-allowed', to.objectKind.span, { detail: `an audience cannot be written to a ${type.type} ${spec.kind}` }, fit.length ? [`audiences go to: ${fit.join(', ')}`] : []);
  }
  if (kind === 'record' && spec.records === false) {
    r.report('item-not-allowed', to.objectKind.span, { detail: `a ${type.type} ${spec.kind} takes audiences, not records` }, ['read an audience in `from`, or write to another object kind']);
  }
  return ref ? { objectKind: spec.kind, ref } : { objectKind: spec.kind };
}

function checkMapping(m: FieldMapping, model: CheckedModel, type: DestinationType, r: Reporter): FieldMap | undefined {
  const column = findColumn(model, m.column);
  if (!column) {
    unknownColumn(model, m.column, r);
    return undefined;
  }
  if (m.hashed && column.type !== 'string') {
    r.report('hashed-non-string', m.span, { column: m.column.text, type: column.type }, ['hash the text form in the model (`sql`), or drop `hashed`']);
    return undefined;
  }
  if (type.fieldTypes && !type.fieldTypes.includes(column.type) && !m.hashed) {
    r.report('unsupported-field-type', m.column.span, { column: m.column.text, type: column.type, destination: type.type }, [
      `${type.type} fields take: ${type.fieldTypes.join(', ')}`,
    ]);
    return undefined;
  }
  const field: Ident = m.field ? { text: m.field.text, quoted: m.field.quoted, span: m.field.span } : m.column;
  return { column, field, hashed: m.hashed };
}

/** No `map` at all: every other column, under its own name. */
function defaultFields(model: CheckedModel, identifier: FieldMap | undefined): FieldMap[] {
  const dialect = model.source.dialect;
  return model.columns
    .filter((c) => !identifier || nameKey(dialect, c.name) !== nameKey(dialect, identifier.column.name))
    .map((c) => ({ column: c, field: c.name, hashed: false }));
}

function checkDistinctFields(identifier: FieldMap | undefined, fields: FieldMap[], mappings: readonly FieldMapping[], idMapping: FieldMapping | undefined, model: CheckedModel, r: Reporter): void {
  const seen = new Map<string, Span>();
  const all = identifier ? [identifier, ...fields] : fields;
  const spans = idMapping ? [idMapping.span, ...mappings.map((m) => m.span)] : mappings.map((m) => m.span);
  all.forEach((f, i) => {
    const key = f.field.quoted ? f.field.text : f.field.text.toLowerCase();
    const first = seen.get(key);
    if (first) {
      r.report('duplicate-field', (f.field.span ?? spans[i] ?? model.span), { field: f.field.text }, [`it is already written at line ${first.line}`]);
    } else {
      seen.set(key, f.field.span);
    }
  });
}

function checkGuard(g: Extract<SyncItem, { kind: 'guardDeletes' }>, r: Reporter) {
  const v = g.limit.value;
  if (!Number.isInteger(v) || v < 0 || (g.percent && v > 100)) {
    r.report('invalid-number', g.limit.span, { detail: `\`${g.limit.raw}${g.percent ? '%' : ''}\` is not a valid delete bound` }, [
      g.percent ? 'a percentage is a whole number from 0 to 100' : 'a count is a whole number of rows, 0 or more',
    ]);
    return undefined;
  }
  return { value: v, percent: g.percent };
}

function checkBatch(size: { value: number; raw: string; span: Span }, type: DestinationType, r: Reporter): number | undefined {
  if (!Number.isInteger(size.value) || size.value < 1) {
    r.report('invalid-number', size.span, { detail: `batch \`${size.raw}\` is not a positive whole number` }, [`${type.type} takes 1 to ${type.limits.maxBatch} rows per call`]);
    return undefined;
  }
  if (size.value > type.limits.maxBatch) {
    r.report('batch-above-limit', size.span, { size: size.value, type: type.type, limit: type.limits.maxBatch }, [`use \`batch ${type.limits.maxBatch}\` or less`]);
    return undefined;
  }
  return size.value;
}

function checkFormat(format: Extract<SyncItem, { kind: 'format' }> | undefined, type: DestinationType, r: Reporter): string | undefined {
  if (!format) return undefined;
  if (!type.formats) {
    r.report('item-not-allowed', format.span, { detail: `\`format\` applies to storage destinations, not ${type.type}` }, ['remove it']);
    return undefined;
  }
  if (!type.formats.includes(format.format.text)) {
    r.report('unknown-format', format.format.span, { name: format.format.text }, nameHints(format.format.text, type.formats, 'formats'));
    return undefined;
  }
  return format.format.text;
}

function checkMessage(message: Extract<SyncItem, { kind: 'message' }> | undefined, def: SyncDef, type: DestinationType, model: CheckedModel, r: Reporter): string | undefined {
  if (!message) {
    if (type.message === 'required') r.report('missing-message', def.name.span, { type: type.type }, ['add `message "New signup: {{email}}"`: a Handlebars template over the row']);
    return undefined;
  }
  if (!type.message) {
    r.report('item-not-allowed', message.span, { detail: `\`message\` applies to slack and webhook syncs, not ${type.type}` }, ['remove it; the mapped fields are the payload']);
    return undefined;
  }
  checkTemplate(message.template, model, r);
  return message.template.value;
}

/** Where in the file a position inside a string literal's value is (exact for unescaped text). */
function spanInString(lit: { raw: string; span: Span }, line: number, column: number, length: number): Span {
  const open = lit.raw.startsWith('"""') ? 3 : 1;
  const lines = lit.raw.slice(open).split('\n');
  let offset = lit.span.offset + open;
  for (let i = 0; i < line - 1; i++) offset += (lines[i]?.length ?? 0) + 1;
  offset += column;
  const fileLine = lit.span.line + line - 1;
  const fileColumn = line === 1 ? lit.span.column + open + column : column + 1;
  return { file: lit.span.file, line: fileLine, column: fileColumn, offset, endLine: fileLine, endColumn: fileColumn + length, endOffset: offset + length };
}

/** Handlebars helpers a message may use; anything else is a path into the row. */
const builtinHelpers = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log', 'else', 'this']);

function checkTemplate(lit: { value: string; raw: string; span: Span }, model: CheckedModel, r: Reporter): void {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(lit.value);
  } catch (e) {
    const m = /line (\d+)/.exec(String((e as Error).message));
    const line = m ? Number(m[1]) : 1;
    r.report('template-error', spanInString(lit, line, 0, 1), { detail: `the message template does not parse: ${String((e as Error).message).split('\n')[0]}` }, ['Handlebars syntax: {{column}}, {{#if column}}...{{/if}}']);
    return;
  }
  const columns = model.columns.map((c) => c.name.text);
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; original?: string; parts?: string[]; loc?: hbs.AST.SourceLocation; data?: boolean };
    if (n.type === 'PathExpression' && !n.data && n.original && n.loc) {
      const head = n.parts?.[0] ?? n.original;
      if (!builtinHelpers.has(head) && n.original !== 'this' && !findColumn(model, { text: head, quoted: false })) {
        r.report('template-unknown-column', spanInString(lit, n.loc.start.line, n.loc.start.column, n.original.length + 0), { name: head, model: model.name }, nameHints(head, columns, 'columns'));
      }
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object' && value !== n.loc) visit(value);
    }
  };
  visit(program);
}

const cronField = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$|^[A-Za-z]{3}(-[A-Za-z]{3})?$/;

function validCron(text: string): boolean {
  if (/^@(hourly|daily|weekly|monthly|yearly|annually)$/.test(text.trim())) return true;
  const fields = text.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => cronField.test(f));
}


