/** Syncs: what they read, where they write, the mode matrix, identifiers, mappings, guards. */
import { writtenWhole } from '../numbers.js';
import { messageHelpers, templateParser } from '../handlebars.js';
import type { FieldMapping, Ident, SyncDef, SyncItem } from '../syntax/ast.js';
import type { Span } from '../span.js';
import { audienceModes, recordModes, type AudienceMode, type DestinationType, type RecordMode } from '../catalog/types.js';
import { limitsFor, objectKindOf } from '../catalog/index.js';
import { membershipColumn } from '../catalog/membership.js';
import type { CheckedAudience, CheckedDestination, CheckedModel, CheckedSync, FieldMap } from './model.js';
import { Reporter, single } from './report.js';
import { nameHints } from '../diagnostics/suggest.js';
import { remove, replaceWith, type Fix } from '../diagnostics/diagnostic.js';
import { findColumn, unknownColumn, unknownColumnHints } from './expr.js';
import { checkFieldRules } from './fields.js';
import type { FieldRules } from '../catalog/fields.js';
import { getDialect, nameKey, storedName } from '../dialect/index.js';
import { checkOwnTable } from './targets.js';
import { checkFolderName, checkLiteralText, checkName, inSchema } from './names.js';
import type { Dialect } from './model.js';

export interface SyncScope {
  models: ReadonlyMap<string, CheckedModel>;
  audiences: ReadonlyMap<string, CheckedAudience>;
  destinations: ReadonlyMap<string, { checked: CheckedDestination; type: DestinationType }>;
  /** Names defined but not checkable (their own errors were reported): no cascade of unknown-reference. */
  broken: ReadonlySet<string>;
  /** Of this check only. */
  memo: CheckMemo;
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
  checkFolderName(def.name, r);
  const read = resolveFrom(def, from, scope, r);
  const dest = resolveTo(def, to, scope, r);
  if (!modeItem) {
    r.report('missing-item', def.name.span, { ...owner, item: 'mode' }, [
      dest
        ? `${dest.type.type} supports: ${modesOf(dest.type, read?.audience !== undefined).join(', ')}`
        : 'modes: upsert, insert, update, mirror; for audiences add, remove, mirror, upsert',
    ]);
  }
  const modeKnown = modeItem ? knownMode(modeItem.mode, r) : false;
  // What can be checked without the rest is checked, so one run shows every problem.
  // Where the API counts identifiers per request, each row carries the identifier and every mapped field.
  const identifiersPerRow = (idItem ? 1 : 0) + (mapItem?.mappings.length ?? 0);
  const batchSize =
    batch && dest && !batch.size.missing
      ? checkBatch(batch.size, dest.type, to?.objectKind?.text, read?.audience ? 'audience' : 'record', identifiersPerRow, r)
      : undefined;
  const formatName = dest ? checkFormat(format, dest.type, r) : undefined;
  const cron = schedule && !schedule.cron.missing ? cronVerdict(schedule.cron.value, scope.memo) : undefined;
  if (schedule && cron?.never) {
    r.report('schedule-never-runs', schedule.cron.span, { text: schedule.cron.value }, [
      cron.why,
      'write a day the months have: February has 28 days (29 in a leap year); April, June, September and November 30',
    ]);
  } else if (schedule && cron) {
    r.report('invalid-schedule', schedule.cron.span, { text: schedule.cron.value }, [
      cron.why,
      'five cron fields (minute hour day month weekday), e.g. "0 * * * *", or @hourly / @daily / @weekly',
    ]);
  }
  if (!read || !dest || !modeItem || !to) return undefined;
  const { model, audience } = read;
  const kind = audience ? 'audience' : 'record';
  const mode = modeKnown ? checkMode(modeItem.mode, kind, audience?.name ?? model.name, dest.type, r) : undefined;
  const target = checkTarget(def.name.text, to, kind, dest.type, r);

  // The mapping each field was written in, for the field rules' fixes.
  const written = new Map<FieldMap, FieldMapping>();
  const mapped = (m: FieldMapping): FieldMap | undefined => {
    const f = checkMapping(m, model, dest.type, r);
    if (f) written.set(f, m);
    return f;
  };
  const identifier = idItem ? mapped(idItem.mapping) : undefined;
  if (mode && !idItem && modesNeedingIdentifier.has(mode)) {
    r.report('missing-identifier', modeItem.mode.span, { mode }, ['add `identifier column -> field`: the column that matches rows to destination records']);
  }
  if (mode === 'insert' && !idItem) {
    r.report('insert-without-identifier', modeItem.mode.span, { type: dest.type.type }, ['add an `identifier` so only new rows are sent']);
  }
  // JSON has no order and, on some warehouses, no equality: the change set could neither rank nor join rows by it.
  if (identifier?.column.type === 'json') {
    r.report('json-identifier', idItem!.mapping.column.span, { column: identifier.column.name.text }, [
      'identify rows by a string or number column; the model (`sql`) can take one out of the JSON',
    ]);
  }
  if (identifier?.column.nullable) {
    r.report('nullable-identifier', idItem!.mapping.column.span, { name: identifier.column.name.text }, [
      model.dbt
        ? `test it \`not_null\` in the YAML of dbt model \`${model.dbt.name}\` if it never is NULL, or filter NULLs in the model`
        : 'declare the column non-null (drop the `?`) if it never is, or filter NULLs in the model',
    ]);
  }
  if (identifier && model.dbt && !model.dbt.unique.some((c) => c.toLowerCase() === identifier.column.name.text.toLowerCase())) {
    r.report('identifier-not-tested-unique', idItem!.mapping.column.span, { name: identifier.column.name.text, model: model.dbt.name }, [
      `test it \`unique\` in the YAML of dbt model \`${model.dbt.name}\`, so that dbt fails the build before a sync drops rows`,
    ]);
  }

  // Without `map` a record sync sends every other column; an audience sync into an API, or a
  // sync into a closed set of fields (ad platforms' identifiers), only the identifier: membership
  // is the point, and a list's contacts keep their own properties.
  const kindSpec = objectKindOf(dest.type, target.objectKind, kind);
  const rules = kindSpec?.fields;
  const unmapped = (kind === 'audience' && dest.type.category !== 'warehouse') || rules?.closed ? [] : defaultFields(model, identifier);
  const fields = mapItem ? mapItem.mappings.map(mapped).filter((f): f is FieldMap => f !== undefined) : unmapped;
  checkDistinctFields(dest.type, identifier, fields, mapItem ? mapItem.mappings : undefined, idItem?.mapping, r);
  const sent = identifier ? [identifier, ...fields] : fields;
  checkWrittenNames(model, dest.type, target.ref, sent, r);
  if (kind === 'audience' && dest.type.category === 'warehouse') checkMembershipColumn(sent, r);
  if (kindSpec?.referenceIsField) {
    const name = target.ref ? target.ref.map((p) => p.text).join('.') : def.name.text;
    checkReferenceField(name, to.ref?.span ?? def.name.span, kindSpec.referenceIsField, rules, sent, r);
  }
  if (rules && mode) checkFieldRules({ type: dest.type, rules, mode, identifier, fields, map: mapItem, syncSpan: def.name.span, written }, r);

  const maxDeletes = guardDeletes ? checkGuard(guardDeletes, r) : undefined;
  for (const g of [guardDeletes, guardEmpty]) {
    if (g && mode && !deletingModes.has(mode)) {
      r.report('guard-without-deletes', g.span, { mode }, ['guards bound deletes: they apply to `mirror` and `remove` only']);
    }
  }
  if (mode === 'mirror' && !guardDeletes) {
    r.report('mirror-without-guard', modeItem.mode.span, {}, ['add `guard deletes <= 5%` (or an absolute count) to abort a run that would delete more']);
  }
  const messageText = checkMessage(message, def, dest.type, model, r, scope.memo);
  // The sync's table, its schema filled in.
  const table = target.ref && inSchema(target.ref, dest.checked.schema);
  if (target.ref && table) checkOwnTable(def.name.text, model, dest.checked, table, target.ref, { mode, fields }, r);
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
  if (table) sync.target = table;
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
  if (from.name.missing) return undefined;
  const name = from.name.text;
  const audience = scope.audiences.get(name);
  if (audience) return { model: audience.model, audience };
  const model = scope.models.get(name);
  if (model) return { model, audience: undefined };
  if (!scope.broken.has(name)) {
    r.report(
      'unknown-reference',
      from.name.span,
      { kind: 'model or audience', name },
      nameHints(from.name, [...scope.models.keys(), ...scope.audiences.keys()], 'models and audiences'),
    );
  }
  return undefined;
}

function resolveTo(def: SyncDef, to: Extract<SyncItem, { kind: 'to' }> | undefined, scope: SyncScope, r: Reporter) {
  if (!to) {
    r.report('missing-item', def.name.span, { kind: 'sync', name: def.name.text, item: 'to' }, ['name the destination it writes: `to crm object contacts`']);
    return undefined;
  }
  if (to.destination.missing) return undefined;
  const name = to.destination.text;
  const dest = scope.destinations.get(name);
  if (!dest && !scope.broken.has(name)) {
    const advice = nameHints(to.destination, [...scope.destinations.keys()], 'destinations');
    const ofType = [...scope.destinations.values()].filter((d) => d.type.type === name && !d.checked.source).map((d) => `\`${d.checked.name}\``);
    if (ofType.length > 0) advice.hints.unshift(`\`${name}\` is a destination type; \`to\` names a destination: ${ofType.join(', ')} is of that type`);
    r.report('unknown-reference', to.destination.span, { kind: 'destination', name }, advice);
  }
  return dest;
}

function knownMode(mode: Ident, r: Reporter): boolean {
  if (mode.missing) return false;
  const all: string[] = [...new Set([...recordModes, ...audienceModes])];
  if (all.includes(mode.text)) return true;
  r.report('unknown-mode', mode.span, { name: mode.text }, nameHints(mode, all, 'modes'));
  return false;
}

function checkMode(mode: Ident, kind: 'record' | 'audience', from: string, type: DestinationType, r: Reporter): RecordMode | AudienceMode | undefined {
  const name = mode.text;
  const isRecord = (recordModes as readonly string[]).includes(name);
  const isAudience = (audienceModes as readonly string[]).includes(name);
  if (kind === 'record') {
    if (!isRecord) {
      r.report('audience-mode-on-record', mode.span, { mode: name, model: from }, [
        `\`${name}\` manages audience membership; record syncs use: ${type.recordModes.join(', ')}`,
      ]);
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

/** What a name of nothing holds, as a message says it; undefined for a name of something. */
const nothingIn = (text: string): 'an empty name' | 'blanks' | undefined => (text === '' ? 'an empty name' : text.trim() === '' ? 'blanks' : undefined);

function checkTarget(
  syncName: string,
  to: Extract<SyncItem, { kind: 'to' }>,
  syncKind: 'record' | 'audience',
  type: DestinationType,
  r: Reporter,
): { objectKind?: string; ref?: Ident[] } {
  // A type that takes no audiences at all is refused once, at the mode (audiences-unsupported); its kinds are read as for records.
  const kind = syncKind === 'audience' && type.audienceModes.length === 0 ? 'record' : syncKind;
  const ref = to.ref ? (to.ref.kind === 'path' ? to.ref.path.parts : [{ text: to.ref.value.value, quoted: true, span: to.ref.span }]) : undefined;
  // `to crm contacts`: with the name missing, the word read as the object kind may be the name (its syntax error says which).
  if (ref?.some((p) => 'missing' in p && p.missing)) return {};
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
      r.report('missing-item', to.span, { kind: 'sync', name: syncName, item: `${fallback} <name>` }, [
        `say which ${fallback}: \`to ${to.destination.text} ${fallback} ...\` (${spec.describes})`,
      ]);
      return {};
    }
    return { objectKind: fallback };
  }
  const spec = type.objectKinds.find((k) => k.kind === to.objectKind!.text);
  if (!spec) {
    r.report('unknown-object-kind', to.objectKind.span, { type: type.type, name: to.objectKind.text }, nameHints(to.objectKind, kinds, 'object kinds'));
    return {};
  }
  if (kind === 'audience' && !spec.audience) {
    const fit = type.objectKinds.filter((k) => k.audience).map((k) => k.kind);
    r.report(
      'item-not-allowed',
      to.objectKind.span,
      { detail: `an audience cannot be written to a ${type.type} ${spec.kind}` },
      fit.length ? [`audiences go to: ${fit.join(', ')}`] : [],
    );
  }
  if (kind === 'record' && spec.records === false) {
    r.report('item-not-allowed', to.objectKind.span, { detail: `a ${type.type} ${spec.kind} takes audiences, not records` }, [
      'read an audience in `from`, or write to another object kind',
    ]);
  }
  const fromEnv = ref?.find((p) => 'env' in p && p.env);
  if (fromEnv && type.category !== 'warehouse') {
    r.report('item-not-allowed', fromEnv.span, { detail: `a ${type.type} ${spec.kind} cannot be named by env(): only a warehouse's table paths can` }, [
      'write the name here',
    ]);
    return {};
  }
  // A warehouse's table names are checked as names (checkName); an API's object, list or topic named by nothing is none.
  const blank = type.category === 'warehouse' ? undefined : ref?.find((p) => !('env' in p && p.env) && nothingIn(p.text));
  if (blank) {
    r.report('item-not-allowed', blank.span, { detail: `a ${type.type} ${spec.kind} cannot be named by ${nothingIn(blank.text)}` }, [
      `write the ${spec.kind}'s name`,
    ]);
    return {};
  }
  return ref ? { objectKind: spec.kind, ref } : { objectKind: spec.kind };
}

function checkMapping(m: FieldMapping, model: CheckedModel, type: DestinationType, r: Reporter): FieldMap | undefined {
  if (m.column.missing || m.field?.missing) return undefined;
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

/**
 * What the sync's SQL names or writes as text: a warehouse target's table and columns, within
 * that warehouse's limits; an API destination's field names, which the change set builds its
 * JSON with (string literals of the source's SQL).
 */
/**
 * The columns the change set of a warehouse sync adds beside the fields
 * (templates/warehouse/changes.sql.hbs): a field of one of these names made their references
 * ambiguous, and the sync failed where it ran.
 */
export const changeSetColumns = ['sw_action', 'sw_keyed', 'sw_next_key', 'sw_no_next_key', 'sw_rn', 'sw_row', 'sw_target_key', 'sw_total'] as const;

function checkWrittenNames(model: CheckedModel, type: DestinationType, target: Ident[] | undefined, fields: readonly FieldMap[], r: Reporter): void {
  const source = model.source.dialect;
  if (type.category !== 'warehouse') {
    for (const f of fields) {
      const nothing = nothingIn(f.field.text);
      if (nothing) {
        r.report('item-not-allowed', f.field.span, { detail: `a ${type.type} field cannot be named by ${nothing}` }, [
          "write the field's name, or leave out `-> ...` to send the column under its own",
        ]);
      } else if (f.field !== f.column.name) {
        // A field that is the column itself (no `map`) was checked as a name where the model
        // declares it, which rejects all a string does: once, not again for each sync sending it.
        checkLiteralText(source, f.field.text, f.field.span, r);
      }
    }
    return;
  }
  const dialect = type.type as Dialect;
  for (const part of target ?? []) checkName(dialect, 'table', part, r);
  const ownKeys = new Set(changeSetColumns.map((c) => nameKey(dialect, { text: c, quoted: true })));
  for (const f of fields) {
    if (ownKeys.has(nameKey(dialect, f.field))) {
      r.report(
        'invalid-name',
        f.field.span,
        { name: f.field.text, engine: 'destination column', why: 'the SQL of a warehouse sync uses it for a column of its own' },
        ['write the column to a field of another name'],
      );
      continue;
    }
    // The column's own name, in the same warehouse: already checked where the model declares it.
    if (dialect === source && storedName(getDialect(dialect), f.field) === storedName(getDialect(dialect), f.column.name)) continue;
    checkName(dialect, 'column', f.field, r);
  }
}

/** No `map` at all: every other column, under its own name. */
function defaultFields(model: CheckedModel, identifier: FieldMap | undefined): FieldMap[] {
  const dialect = model.source.dialect;
  const key = identifier && nameKey(dialect, identifier.column.name);
  return model.columns.filter((c) => key === undefined || nameKey(dialect, c.name) !== key).map((c) => ({ column: c, field: c.name, hashed: false }));
}

/**
 * Two mappings that write one destination field: into a warehouse, one column as the warehouse
 * names it (`nm` and `"NM"` are one column on Snowflake, `Nm` and `nm` on BigQuery); elsewhere
 * bare names alike but for case. `mappings` is undefined when the sync has no `map`: every
 * other column then goes under its own name, and a clash with the identifier's field is
 * reported at the identifier, the only place the user wrote.
 */
function checkDistinctFields(
  type: DestinationType,
  identifier: FieldMap | undefined,
  fields: FieldMap[],
  mappings: readonly FieldMapping[] | undefined,
  idMapping: FieldMapping | undefined,
  r: Reporter,
): void {
  const seen = new Map<string, Span>();
  const key =
    type.category === 'warehouse'
      ? (f: FieldMap) => nameKey(type.type as Dialect, f.field)
      : (f: FieldMap) => (f.field.quoted ? f.field.text : f.field.text.toLowerCase());
  if (identifier) seen.set(key(identifier), identifier.field.span);
  for (const f of fields) {
    const first = seen.get(key(f));
    if (!first) {
      seen.set(key(f), f.field.span);
    } else if (mappings) {
      r.report(
        'duplicate-field',
        f.field.span,
        { field: f.field.text },
        {
          hints: ['a field takes one column: remove one of the mappings, or write the other to another field'],
          related: [{ message: `\`${f.field.text}\` is first written here`, span: first }],
        },
      );
    } else if (identifier && idMapping) {
      r.report('duplicate-field', idMapping.field?.span ?? idMapping.span, { field: identifier.field.text }, [
        `without a \`map\`, column \`${f.column.name.text}\` is also sent as \`${f.field.text}\`: list the fields to send in \`map { ... }\`, or name the identifier's field differently`,
      ]);
    }
  }
}

/** The membership table's own column is taken: a field of that name would overwrite the audience's name. */
function checkMembershipColumn(fields: readonly FieldMap[], r: Reporter): void {
  for (const f of fields) {
    if (f.field.text.toLowerCase() !== membershipColumn) continue;
    r.report('duplicate-field', f.field.span, { field: f.field.text }, [
      `the membership table's \`${membershipColumn}\` column holds the audience's name: give this field another name`,
    ]);
  }
}

/**
 * Where the reference is itself a field written on each record (`referenceIsField`): it must be
 * none the rules name (a standard attribute, a flag syncwright sets) and none the sync writes,
 * or one value would overwrite the other in the object sent.
 */
function checkReferenceField(name: string, span: Span, why: string, rules: FieldRules | undefined, written: readonly FieldMap[], r: Reporter): void {
  const same = (a: string, b: string) => (rules?.anyCase ? a.toLowerCase() === b.toLowerCase() : a === b);
  const clash = written.find((f) => same(f.field.text, name));
  const known = rules ? Object.keys(rules.fields).find((f) => same(f, name)) : undefined;
  if (clash === undefined && known === undefined) return;
  r.report('duplicate-field', span, { field: name }, [
    `${why}: ${clash ? `the sync writes \`${clash.field.text}\` too` : `\`${known}\` is a field of ${rules?.describes}`}; give it another name`,
  ]);
}

function checkGuard(g: Extract<SyncItem, { kind: 'guardDeletes' }>, r: Reporter) {
  if (g.limit.missing) return undefined;
  const v = g.limit.value;
  // Past 2^53 a number is rounded as read (9007199254740993 became ...992), and 1e-400 is read as 0: refused, not compiled as another bound.
  if (!Number.isSafeInteger(v) || !writtenWhole(g.limit.raw) || v < 0 || (g.percent && v > 100)) {
    r.report('invalid-number', g.limit.span, { detail: `\`${g.limit.raw}${g.percent ? '%' : ''}\` is not a valid delete bound` }, [
      g.percent ? 'a percentage is a whole number from 0 to 100' : 'a count is a whole number of rows, from 0 to 9007199254740991',
    ]);
    return undefined;
  }
  return { value: v, percent: g.percent };
}

/** 10000 -> "10,000", the same on every machine. */
const count = (n: number): string => n.toLocaleString('en-US');

/**
 * A batch size against the limit of the destination, or of the object kind where it has its own
 * (Klaviyo lists), or the rows whose identifiers fit where the API counts identifiers (Google Ads).
 */
function checkBatch(
  size: { value: number; raw: string; span: Span },
  type: DestinationType,
  kindName: string | undefined,
  syncKind: 'record' | 'audience',
  identifiersPerRow: number,
  r: Reporter,
): number | undefined {
  const kind = objectKindOf(type, kindName, syncKind);
  const limits = limitsFor(type, kind, identifiersPerRow);
  // Within bounds (as nearly every batch is): nothing to word.
  const whole = Number.isInteger(size.value) && writtenWhole(size.raw);
  if (whole && size.value >= 1 && size.value <= limits.maxBatch) return size.value;
  const what = kind?.limits ? `${type.type} ${kind.kind}` : type.type;
  const perRequest =
    limits.maxIdentifiers === undefined
      ? []
      : [`${type.type} takes ${count(limits.maxIdentifiers)} identifiers per request, and each row of this sync carries ${identifiersPerRow}`];
  if (!whole || size.value < 1) {
    r.report('invalid-number', size.span, { detail: `batch \`${size.raw}\` is not a positive whole number` }, [
      `${what} takes 1 to ${count(limits.maxBatch)} rows per call`,
    ]);
    return undefined;
  }
  if (size.value > limits.maxBatch) {
    r.report(
      'batch-above-limit',
      size.span,
      // Above 2^53 a double holds another number than the one written: that one is quoted.
      { size: Number.isSafeInteger(size.value) ? count(size.value) : size.raw, type: what, limit: count(limits.maxBatch) },
      {
        hints: [`use \`batch ${limits.maxBatch}\` or less`, ...perRequest],
        fixes: [replaceWith(size.span, String(limits.maxBatch))],
      },
    );
    return undefined;
  }
  return size.value;
}

function checkFormat(format: Extract<SyncItem, { kind: 'format' }> | undefined, type: DestinationType, r: Reporter): string | undefined {
  if (!format || format.format.missing) return undefined;
  if (!type.formats) {
    r.report(
      'item-not-allowed',
      format.span,
      { detail: `\`format\` applies to storage destinations, not ${type.type}` },
      {
        hints: ['remove it'],
        fixes: [remove(format.span, 'format')],
      },
    );
    return undefined;
  }
  if (!type.formats.includes(format.format.text)) {
    r.report('unknown-format', format.format.span, { name: format.format.text }, nameHints(format.format, type.formats, 'formats'));
    return undefined;
  }
  return format.format.text;
}

function checkMessage(
  message: Extract<SyncItem, { kind: 'message' }> | undefined,
  def: SyncDef,
  type: DestinationType,
  model: CheckedModel,
  r: Reporter,
  memo: CheckMemo,
): string | undefined {
  if (!message) {
    if (type.message === 'required')
      r.report('missing-message', def.name.span, { type: type.type }, ['add `message "New signup: {{email}}"`: a Handlebars template over the row']);
    return undefined;
  }
  if (!type.message) {
    r.report(
      'item-not-allowed',
      message.span,
      { detail: `\`message\` applies to slack and webhook syncs, not ${type.type}` },
      {
        hints: ['remove it; the mapped fields are the payload'],
        fixes: [remove(message.span, 'message')],
      },
    );
    return undefined;
  }
  if (message.template.missing) return undefined;
  const errors = r.errorCount;
  checkTemplate(message.template, model, r, memo);
  if (type.messageFormat === 'json' && r.errorCount === errors) checkJsonMessage(message.template, r, memo);
  return message.template.value;
}

/**
 * Where in the file a position inside a string literal's value is: `line` 1-based and
 * `column` 0-based within the value (Handlebars' convention), mapped back through the quotes
 * and the backslash escapes of the raw text.
 */
function spanInString(lit: { raw: string; span: Span }, line: number, column: number, length: number): Span {
  const triple = lit.raw.startsWith('"""');
  const open = triple ? 3 : 1;
  const body = lit.raw.slice(open, lit.raw.length - open);
  // Raw offset (within body) of each value offset; triple-quoted strings have no escapes.
  const rawAt: number[] = [];
  for (let i = 0; i < body.length; ) {
    rawAt.push(i);
    i += triple || body[i] !== '\\' ? 1 : /^\\u[0-9a-fA-F]{4}/.test(body.slice(i)) ? 6 : 2;
  }
  rawAt.push(body.length);
  const value = rawAt.slice(0, -1).map((i, k) => body.slice(i, rawAt[k + 1]));
  let valueOffset = 0;
  for (let l = 1; l < line && valueOffset < value.length; valueOffset++) if (value[valueOffset] === '\n') l++;
  const from = Math.min(valueOffset + column, rawAt.length - 1);
  const to = Math.min(from + length, rawAt.length - 1);
  const at = (valueIndex: number) => {
    const offset = lit.span.offset + open + rawAt[valueIndex]!;
    const before = lit.raw.slice(0, open + rawAt[valueIndex]!);
    const newlines = before.split('\n').length - 1;
    const col = newlines === 0 ? lit.span.column + before.length : before.length - before.lastIndexOf('\n');
    return { offset, line: lit.span.line + newlines, column: col };
  };
  const a = at(from);
  const b = at(to);
  return { file: lit.span.file, line: a.line, column: a.column, offset: a.offset, endLine: b.line, endColumn: b.column, endOffset: b.offset };
}

/** What a helper takes: how many arguments, and whether only as a block (`{{#if x}}...{{/if}}`). */
const helperCalls: Record<string, { params: number; block?: true; options?: string[]; shown: string }> = {
  // `includeZero=true`: 0 counts as true.
  if: { params: 1, block: true, options: ['includeZero'], shown: '{{#if column}}...{{/if}}' },
  unless: { params: 1, block: true, options: ['includeZero'], shown: '{{#unless column}}...{{/unless}}' },
  each: { params: 1, block: true, shown: '{{#each column}}...{{/each}}' },
  with: { params: 1, block: true, shown: '{{#with column}}...{{/with}}' },
  lookup: { params: 2, shown: '{{lookup column key}}' },
  json: { params: 1, shown: '{{json column}}' },
};

/**
 * A call the renderer would fail on, or render wrong, for every row: a helper with another
 * count of arguments (`{{#if}}`, `{{lookup}}`; `{{json}}` would insert Handlebars' options
 * object), a block helper used inline, or another as a block (its text dropped), `log` (it
 * writes to the run's own output, never to the message), a value given arguments (Handlebars
 * calls it as a function), a partial or a decorator (a message has none).
 */
function callProblem(node: hbs.AST.Node): { detail: string; hint: string } | undefined {
  if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement')
    return { detail: 'uses a partial, and a message has none', hint: 'write the text in the template, or compute it in the model' };
  if (node.type === 'Decorator' || node.type === 'DecoratorBlock') return { detail: 'uses a decorator, which a message cannot', hint: 'remove it' };
  if (node.type !== 'MustacheStatement' && node.type !== 'BlockStatement' && node.type !== 'SubExpression') return undefined;
  const call = node as hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression;
  if (call.path.type !== 'PathExpression') return undefined;
  const path = call.path as hbs.AST.PathExpression;
  const name = path.original;
  const hash = (call.hash?.pairs ?? []).map((p) => p.key);
  const args = call.params.length + hash.length;
  if (name === 'log') return { detail: "uses `log`, which writes to the run's output, not the message", hint: 'remove it' };
  const helper = Object.hasOwn(helperCalls, name) ? helperCalls[name] : undefined;
  if (helper) {
    if (helper.block && call.type !== 'BlockStatement') return { detail: `uses \`${name}\` inline; it takes a block`, hint: `write ${helper.shown}` };
    if (!helper.block && call.type === 'BlockStatement') return { detail: `uses \`${name}\` as a block, whose text it drops`, hint: `write ${helper.shown}` };
    const options = hash.filter((k) => !helper.options?.includes(k));
    if (call.params.length !== helper.params || options.length > 0)
      return { detail: `gives \`${name}\` ${args} argument${args === 1 ? '' : 's'}; it takes ${helper.params}`, hint: `write ${helper.shown}` };
    return undefined;
  }
  if (args > 0) return { detail: `gives \`${name}\` arguments, which a value takes none of`, hint: `write {{${name}}}, or {{json ${name}}} for its JSON` };
  return undefined;
}

/** Handlebars helpers a message may use; anything else is a path into the row. */
const builtinHelpers = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log', 'else', 'this', ...Object.keys(messageHelpers)]);

interface TemplateProblem {
  line: number;
  column: number;
  length: number;
  detail: string;
  hints: string[];
}

const syntaxHint = 'Handlebars syntax: {{column}}, {{#if column}}...{{/if}}';

interface OpenBlock {
  name: string;
  offset: number;
  length: number;
}

/** Blocks nested deeper than this are refused before Handlebars reads them (its parser slows down and recurses per level). */
const maxBlockDepth = 64;

/** Walk `{{#block}}` ... `{{/block}}` tags: the first block nested too deep, and the one left open at the end. */
function scanBlocks(value: string): { tooDeep?: OpenBlock; unclosed?: OpenBlock } {
  const open: OpenBlock[] = [];
  for (const m of value.matchAll(/\{\{~?\s*(?:([#^])\s*([\w.-]+)[^}]*|\/\s*([\w.-]+)\s*~?)\}\}/g)) {
    if (m[2]) {
      const block = { name: m[2], offset: m.index, length: m[0].length };
      if (open.length >= maxBlockDepth) return { tooDeep: block };
      open.push(block);
    } else open.pop();
  }
  const unclosed = open[open.length - 1];
  return unclosed ? { unclosed } : {};
}

/** Read a Handlebars parse failure as a position and a sentence. */
function templateProblem(e: unknown, value: string): TemplateProblem {
  const err = e as { message?: string; lineNumber?: number; column?: number; endColumn?: number };
  const message = String(err.message ?? e);
  const position = (offset: number) => {
    const before = value.slice(0, offset);
    return { line: before.split('\n').length, column: offset - (before.lastIndexOf('\n') + 1) };
  };
  if (typeof err.lineNumber === 'number' && typeof err.column === 'number') {
    // Semantic errors (`{{#if}}` closed by `{{/each}}`) carry their own position.
    const mismatch = /^(\S+) doesn't match (\S+)/.exec(message);
    if (mismatch) {
      // Handlebars points at the open block; the mistake is the close tag after it.
      const opened =
        value
          .split('\n')
          .slice(0, err.lineNumber - 1)
          .join('\n').length +
        (err.lineNumber > 1 ? 1 : 0) +
        err.column;
      const close = new RegExp(`\\{\\{~?\\s*/\\s*${mismatch[2]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*~?\\}\\}`).exec(value.slice(opened));
      const at = close ? position(opened + close.index) : { line: err.lineNumber, column: err.column };
      return {
        ...at,
        length: close ? close[0].length : 1,
        detail: `\`{{/${mismatch[2]}}}\` does not close \`{{#${mismatch[1]}}}\``,
        hints: [`close \`{{#${mismatch[1]}}}\` with \`{{/${mismatch[1]}}}\``],
      };
    }
    return {
      line: err.lineNumber,
      column: err.column,
      length: Math.max(1, (err.endColumn ?? err.column + 1) - err.column),
      detail: message.replace(/ - \d+:\d+$/, ''),
      hints: [syntaxHint],
    };
  }
  const got = /got '(\w+)'/.exec(message)?.[1];
  if (got === 'EOF') {
    const block = scanBlocks(value).unclosed;
    if (block)
      return {
        ...position(block.offset),
        length: block.length,
        detail: `\`{{#${block.name}}}\` is never closed`,
        hints: [`close it with \`{{/${block.name}}}\``],
      };
    const last = value.lastIndexOf('{{');
    return { ...position(Math.max(0, last)), length: 2, detail: 'the template ends inside `{{ ... }}`', hints: ['close it with `}}`'] };
  }
  // The jison lexer keeps the location of the token it stopped at.
  const lexer = templateParser().parser.lexer;
  const loc = lexer?.yylloc;
  const found = lexer?.match ? `\`${lexer.match}\`` : 'text';
  if (loc)
    return {
      line: loc.first_line,
      column: loc.first_column,
      length: Math.max(1, loc.last_column - loc.first_column),
      detail: `unexpected ${found}`,
      hints: [syntaxHint],
    };
  return { line: 1, column: 0, length: 1, detail: message.split('\n')[0] ?? message, hints: [syntaxHint] };
}

function checkTemplate(lit: { value: string; raw: string; span: Span }, model: CheckedModel, r: Reporter, memo: CheckMemo): void {
  const tooDeep = scanBlocks(lit.value).tooDeep;
  if (tooDeep) {
    const before = lit.value.slice(0, tooDeep.offset);
    const line = before.split('\n').length;
    r.report(
      'template-error',
      spanInString(lit, line, tooDeep.offset - (before.lastIndexOf('\n') + 1), tooDeep.length),
      {
        detail: `the message template nests blocks more than ${maxBlockDepth} deep`,
      },
      ['flatten the template: compute what it needs in the model'],
    );
    return;
  }
  const parsed = parseTemplate(lit.value, memo);
  if ('problem' in parsed) {
    const p = parsed.problem;
    r.report('template-error', spanInString(lit, p.line, p.column, p.length), { detail: `the message template does not parse: ${p.detail}` }, p.hints);
    return;
  }
  const { program } = parsed;
  const at = (loc: hbs.AST.SourceLocation, length: number) => spanInString(lit, loc.start.line, loc.start.column, length);
  for (const use of templateUses(program)) {
    if (use.kind === 'call') {
      const { start, end } = use.loc;
      r.report('template-error', at(use.loc, start.line === end.line ? end.column - start.column : 2), { detail: `the message template ${use.detail}` }, [
        use.hint,
      ]);
    } else if (!findColumn(model, { text: use.head, quoted: false })) {
      r.report('template-unknown-column', at(use.loc, use.length), { name: use.head, model: model.name }, unknownColumnHints(model, { text: use.head }));
    }
  }
}

type TemplateUse =
  | { kind: 'column'; head: string; loc: hbs.AST.SourceLocation; length: number }
  | { kind: 'call'; detail: string; hint: string; loc: hbs.AST.SourceLocation };

/**
 * What a parsed message template reads of the row, and the calls in it that could never
 * render: each path that names a column (its first part: not a helper, `this`, a `@` data
 * variable or a parameter of a block it is in), and each call `callProblem` refuses. The checker holds the
 * columns to the model; the language server finds a column's uses by them.
 */
export function templateUses(program: hbs.AST.Program): TemplateUse[] {
  const uses: TemplateUse[] = [];
  // Names `as |x|` binds, within the block that binds them: a path starting with one reads the block's value, not a column.
  const blockParams = new Map<string, number>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as { type?: string; original?: string; parts?: string[]; loc?: hbs.AST.SourceLocation; data?: boolean; blockParams?: string[] };
    const call = callProblem(node as hbs.AST.Node);
    if (call && n.loc) uses.push({ kind: 'call', ...call, loc: n.loc });
    // A partial's or decorator's name names it, not a column, and what it is given is moot: the call is the one problem.
    if (n.type === 'PartialStatement' || n.type === 'PartialBlockStatement' || n.type === 'Decorator' || n.type === 'DecoratorBlock') return;
    if (n.type === 'PathExpression' && !n.data && n.original && n.loc) {
      const head = n.parts?.[0] ?? n.original;
      if (!builtinHelpers.has(head) && n.original !== 'this' && !blockParams.has(head))
        uses.push({ kind: 'column', head, loc: n.loc, length: n.original.length });
    }
    const bound = n.type === 'Program' ? (n.blockParams ?? []) : [];
    for (const p of bound) blockParams.set(p, (blockParams.get(p) ?? 0) + 1);
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object' && value !== n.loc) visit(value);
    }
    for (const p of bound) {
      const left = blockParams.get(p)! - 1;
      if (left) blockParams.set(p, left);
      else blockParams.delete(p);
    }
  };
  visit(program);
  return uses;
}

/** The message template's parse, or undefined where it does not parse (the checker says why). */
export function parsedTemplate(value: string): hbs.AST.Program | undefined {
  const parsed = parseTemplate(value, newCheckMemo());
  return 'program' in parsed ? parsed.program : undefined;
}

/** The parts of Handlebars' AST a JSON message may hold: text, `{{json column}}`, `{{#if column}}` / `{{#unless column}}` blocks. */
type HbsNode = {
  type: string;
  loc: hbs.AST.SourceLocation;
  value?: string;
  path?: { type?: string; original?: string };
  params?: { type: string; original?: string }[];
  hash?: unknown;
  program?: { body: HbsNode[] };
  inverse?: { body: HbsNode[] };
};

/** Conditions tried in every combination when a JSON message is checked; beyond them, all true and all false. */
const maxConditionsTried = 10;

/**
 * A JSON message (a webhook body) is JSON whatever the data holds: every value goes in through
 * `{{json column}}`, which quotes and escapes it, and blocks are `{{#if column}}` or
 * `{{#unless column}}`. Then its text decides whether it is JSON, and only the conditions vary
 * it: it is rendered for each combination of them (a column a string with a quote, or null)
 * and must parse every time.
 */
function checkJsonMessage(lit: { value: string; raw: string; span: Span }, r: Reporter, memo: CheckMemo): void {
  const parsed = parseTemplate(lit.value, memo);
  if ('problem' in parsed) return;
  const lines = lit.value.split('\n');
  const offset = (p: { line: number; column: number }) => lines.slice(0, p.line - 1).reduce((n, l) => n + l.length + 1, 0) + p.column;
  const at = (n: HbsNode) => spanInString(lit, n.loc.start.line, n.loc.start.column, offset(n.loc.end) - offset(n.loc.start));
  // `{{name}}` or `{{{name}}}`, quoted or not: the same value through the helper, which quotes it itself
  // (a space keeps a JSON brace next to it from making `{{{` or `}}}`, which Handlebars reads as one tag).
  const throughJson = (n: HbsNode, name: string): Fix => {
    let [start, end] = [offset(n.loc.start), offset(n.loc.end)];
    if (lit.value[start - 1] === '"' && lit.value[end] === '"') [start, end] = [start - 1, end + 1];
    const before = lit.value.slice(0, start);
    const text = `${lit.value[start - 1] === '{' ? ' ' : ''}{{json ${name}}}${lit.value[end] === '}' ? ' ' : ''}`;
    return replaceWith(spanInString(lit, before.split('\n').length, start - (before.lastIndexOf('\n') + 1), end - start), text);
  };
  const conditions = new Set<string>();
  let inserted = true;
  const visit = (nodes: HbsNode[]): void => {
    for (const n of nodes) {
      const path = n.path?.original;
      const column = n.params?.length === 1 && n.params[0]?.type === 'PathExpression' && !n.hash ? n.params[0].original : undefined;
      if (n.type === 'MustacheStatement' && path === 'json' && column) continue;
      if (n.type === 'MustacheStatement') {
        inserted = false;
        const text = lit.value.slice(offset(n.loc.start), offset(n.loc.end));
        const plain = n.path?.type === 'PathExpression' && path !== undefined && !n.params?.length && !n.hash;
        r.report(
          'message-value-not-json',
          at(n),
          { text },
          {
            hints: [
              `write \`{{json ${column ?? path ?? 'column'}}}\`, with no quotes around it: it inserts the value as JSON, quoted and escaped where it is a string, so no value can break the body`,
            ],
            fixes: plain ? [throughJson(n, path)] : [],
          },
        );
      } else if (n.type === 'BlockStatement') {
        if ((path === 'if' || path === 'unless') && column) {
          conditions.add(column);
          visit(n.program?.body ?? []);
          visit(n.inverse?.body ?? []);
        } else {
          inserted = false;
          r.report('message-value-not-json', at(n), { text: `{{#${path}}}` }, [
            'a JSON message takes `{{#if column}}` and `{{#unless column}}` blocks only: shape lists in the model',
          ]);
        }
      } else if (n.type !== 'ContentStatement' && n.type !== 'CommentStatement' && n.type !== 'MustacheStatement') {
        inserted = false;
        r.report('message-value-not-json', at(n), { text: lit.value.slice(offset(n.loc.start), offset(n.loc.end)) }, [
          'a JSON message takes `{{json column}}`, `{{#if column}}` and `{{#unless column}}` only',
        ]);
      }
    }
  };
  const body = (parsed.program as unknown as { body: HbsNode[] }).body;
  visit(body);
  if (!inserted) return;
  const tried = [...conditions];
  const combos =
    tried.length <= maxConditionsTried
      ? Array.from({ length: 2 ** tried.length }, (_, m) => tried.map((_, i) => ((m >> i) & 1) === 1))
      : [tried.map(() => true), tried.map(() => false)];
  // Every column holds a quote, so a value inserted inside a JSON string breaks it.
  const text = 'a "quoted" value';
  // Handlebars' semantics of what the message may hold, so that checking needs no compiler: a
  // condition column is a value (truthy) when set, else null; any other column is a value.
  const render = (nodes: HbsNode[], set: ReadonlySet<string>): string =>
    nodes
      .map((n) => {
        const column = n.params?.[0]?.original ?? '';
        const value = set.has(column) || !conditions.has(column) ? text : null;
        if (n.type === 'ContentStatement') return n.value ?? '';
        if (n.type === 'MustacheStatement') return messageHelpers.json(value);
        if (n.type === 'BlockStatement') return render(((n.path?.original === 'if') === (value !== null) ? n.program?.body : n.inverse?.body) ?? [], set);
        return '';
      })
      .join('');
  for (const combo of combos) {
    const out = render(body, new Set(tried.filter((_, i) => combo[i])));
    try {
      JSON.parse(out);
    } catch {
      const when = tried.length ? ` when ${tried.map((c, i) => `\`${c}\` is ${combo[i] ? 'set' : 'null'}`).join(', ')}` : '';
      r.report('message-not-json', lit.span, {}, [
        `it renders${when}: ${out.trim().replace(/\s+/g, ' ').slice(0, 200)}`,
        'put values in with `{{json column}}`, outside quotes; no comma may dangle when a block is left out',
      ]);
      return;
    }
  }
}

/**
 * Syncs generated from one pattern share their message and schedule: each text is read once
 * per check. Held by the check (`newCheckMemo`), never by the process: a long-running process
 * checking many projects keeps nothing of them.
 */
export interface CheckMemo {
  templates: Map<string, { program: hbs.AST.Program } | { problem: TemplateProblem }>;
  cronVerdicts: Map<string, CronVerdict | undefined>;
}

export const newCheckMemo = (): CheckMemo => ({ templates: new Map(), cronVerdicts: new Map() });

function parseTemplate(value: string, { templates }: CheckMemo): { program: hbs.AST.Program } | { problem: TemplateProblem } {
  let parsed = templates.get(value);
  if (!parsed) {
    try {
      parsed = { program: templateParser().parse(value) };
    } catch (e) {
      parsed = { problem: templateProblem(e, value) };
    }
    templates.set(value, parsed);
  }
  return parsed;
}

/** What is wrong with a schedule: not a cron expression, or (`never`) one that names no date. */
interface CronVerdict {
  why: string;
  never?: true;
}

function cronVerdict(text: string, { cronVerdicts }: CheckMemo): CronVerdict | undefined {
  if (!cronVerdicts.has(text)) {
    const problem = cronProblem(text);
    const never = problem === undefined ? cronNeverRuns(text.trim().split(/\s+/)) : undefined;
    cronVerdicts.set(text, problem !== undefined ? { why: problem } : never !== undefined ? { why: never, never: true } : undefined);
  }
  return cronVerdicts.get(text);
}

/** The five fields of a cron expression, with their ranges and the names they take. */
const cronFields: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  // 0 and 7 are both Sunday.
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const cronItem = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/;

/** A cron field's value, by number or name; undefined when it is neither. */
function cronValue(spec: (typeof cronFields)[number], v: string): number | undefined {
  const named = spec.names?.indexOf(v.toUpperCase()) ?? -1;
  if (named >= 0) return spec.min + named;
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The values a valid cron field names. `5/15` runs from 5 to the field's end, as cron reads it. */
function cronValues(field: string, spec: (typeof cronFields)[number]): Set<number> {
  const out = new Set<number>();
  for (const item of field.split(',')) {
    const [, range, step] = cronItem.exec(item)!;
    const ends = range === '*' ? [spec.min, spec.max] : range!.split('-').map((v) => cronValue(spec, v)!);
    const last = ends.length === 2 ? ends[1]! : step === undefined ? ends[0]! : spec.max;
    for (let n = ends[0]!; n <= last; n += Number(step ?? 1)) out.add(n);
  }
  return out;
}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** The most days each month has (February: in a leap year). */
const monthDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why a valid cron expression (its fields) never runs, or undefined when it runs. Only the day of the month
 * and the month can together name no date (`0 0 31 2 *`). When the day of the week is
 * anything but `*`, cron runs on a day matching either field, so the expression runs on those
 * weekdays: a star with a step too (every second day), which Airflow's croniter reads as the list
 * 0,2,4,6 (Vixie cron as a star).
 */
function cronNeverRuns(fields: readonly string[]): string | undefined {
  if (fields.length !== 5 || fields[4] !== '*' || fields[2]!.startsWith('*')) return undefined;
  const days = cronValues(fields[2]!, cronFields[2]!);
  const months = [...cronValues(fields[3]!, cronFields[3]!)];
  if (months.some((m) => [...days].some((d) => d <= monthDays[m - 1]!))) return undefined;
  const named = months.map((m) => monthNames[m - 1]!);
  const list = named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]!}`;
  return `no day ${[...days].sort((a, b) => a - b).join(', ')} in ${list}: it would never run`;
}

/** Why a schedule is not a five-field cron expression (or @hourly, ...), or undefined when it is one. */
function cronProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (/^@(hourly|daily|midnight|weekly|monthly|yearly|annually)$/.test(trimmed)) return undefined;
  if (trimmed.startsWith('@')) return `\`${trimmed}\` is not one of @hourly, @daily, @weekly, @monthly, @yearly`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return `a cron expression has 5 fields, this has ${trimmed === '' ? 0 : fields.length}`;
  for (const [i, field] of fields.entries()) {
    const spec = cronFields[i]!;
    for (const item of field.split(',')) {
      const m = cronItem.exec(item);
      if (!m) return `\`${item}\` is not a valid ${spec.name}`;
      if (m[2] !== undefined && Number(m[2]) < 1) return `the step in \`${item}\` must be 1 or more`;
      if (m[1] === '*') continue;
      const ends: number[] = [];
      for (const v of m[1]!.split('-')) {
        const n = cronValue(spec, v);
        if (n === undefined)
          return `\`${v}\` is not a valid ${spec.name}${spec.names ? ` (${spec.min}-${spec.max} or ${spec.names[0]}-${spec.names[spec.names.length - 1]})` : ''}`;
        if (n < spec.min || n > spec.max) return `${spec.name} ${v} is out of range ${spec.min}-${spec.max}`;
        ends.push(n);
      }
      // POSIX cron refuses a range that runs backwards; the schedulers that take one disagree on it (wrap around, swap the ends, never run).
      if (ends.length === 2 && ends[0]! > ends[1]!) return `the range \`${m[1]}\` runs backwards: write it from the lower end, or as two ranges`;
    }
  }
  return undefined;
}
