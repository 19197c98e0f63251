/**
 * Plans a sync into an API destination: the change set (rendered to the source's SQL by
 * src/emit/api-sql.ts), then the destination's calls as data (src/catalog/api); emit adds
 * the commit of what was accepted, whose statement is SQL.
 */
import type { CheckedSync } from '../check/model.js';
import { limitsFor, objectKindOf, requireDestinationType, resolveField } from '../catalog/index.js';
import { settingDefaults } from '../catalog/settings.js';
import { requireDestinationApi, settingTemplate, storageFormat, type ApiContext } from '../catalog/api/index.js';
import { rateLimitOf } from '../catalog/api/http.js';
import type { ApiStep, JobsStep, ReadStep } from '../contract/api-steps.js';
import type { Plan } from '../contract/plan.js';
import { lockKeyOf, planHead, warehouseEndpoint } from './head.js';
import { changeSetOf, sentFields, type ChangeSet } from './api-changes.js';
import type { PlanOptions } from '../contract/options.js';

export function apiContext(sync: CheckedSync): ApiContext {
  const type = requireDestinationType(sync.destination.type);
  const kind = objectKindOf(type, sync.objectKind, sync.kind);
  if (!kind) throw new Error(`sync ${sync.name}: ${type.type} has no object kind for it`);
  const rules = kind.fields;
  const limits = limitsFor(type, kind, (sync.identifier ? 1 : 0) + sync.fields.length);
  const defaults = settingDefaults(type.settings);
  const format = storageFormat(sync.format);
  return {
    sync: sync.name,
    kind: sync.kind,
    mode: sync.mode,
    objectKind: kind.kind,
    target: sync.target?.map((p) => p.text).join('.'),
    identifierField: sync.identifier ? resolveField(rules, sync.identifier.field.text).name : undefined,
    fields: sentFields(sync),
    fieldRules: rules,
    batch: sync.batch ?? limits.defaultBatch,
    maxPayloadBytes: limits.maxPayloadBytes,
    rateLimit: limits.rateLimit,
    format,
    message: sync.message,
    setting: (name) => settingTemplate(sync.destination.settings[name] ?? defaults[name]),
    settingNames: Object.keys(sync.destination.settings),
    // By type, not by the destination's block: two blocks may name one account, and its secrets
    // are not known here. Accounts of one type that share a name only wait on each other's lookup.
    lockKey: (object) => String(lockKeyOf(`object:${type.type}:${object}`)),
  };
}

/** An API sync's plan: plan.json but for the commit step, and the change set its SQL files are rendered from. */
export interface ApiSyncPlan {
  kind: 'api';
  sync: CheckedSync;
  changeSet: ChangeSet;
  /** Every step up to the commit; emit adds the SQL: the read step's queries, the commit (when the change set has a key). */
  plan: Omit<Plan, 'steps'> & { steps: PlannedStep[] };
}

/** A step as planned: the read step gets its queries from emit, the jobs step its SQL. */
export type PlannedStep = Exclude<ApiStep, ReadStep | JobsStep> | Omit<ReadStep, 'queries'> | Omit<JobsStep, 'sql'>;

/**
 * Whether the steps' requests carry an idempotency key: a template reads `row.idempotency_key`
 * or `batch.idempotency_key` (a string, key or value, ending so). Walked, not searched for in
 * the steps' JSON, which took a large text per sync.
 */
function carriesIdempotencyKey(x: unknown): boolean {
  if (typeof x === 'string') return x.endsWith('.idempotency_key');
  if (Array.isArray(x)) return x.some(carriesIdempotencyKey);
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  for (const key in o) {
    const v = o[key];
    // What JSON leaves out.
    if (v === undefined || typeof v === 'function') continue;
    if (key.endsWith('.idempotency_key') || carriesIdempotencyKey(v)) return true;
  }
  return false;
}

export function planApiSync(sync: CheckedSync, options: PlanOptions): ApiSyncPlan {
  const ctx = apiContext(sync);
  const api = requireDestinationApi(sync.destination.type);
  const planMode = api.modes[`${sync.kind}:${sync.mode}`];
  if (!planMode) throw new Error(`sync ${sync.name}: ${sync.destination.type} has no API description for ${sync.kind} ${sync.mode}`);
  const { reads, steps: described, refreshDays } = planMode(ctx);
  // The byte limit the destination documents goes with every send step: the executor splits a
  // batch whose body would exceed it (Klaviyo's 5 MB bulk import, Amplitude's 1 MB).
  const sending = described.map((s) =>
    s.kind === 'send' && ctx.maxPayloadBytes !== undefined && s.batch.maxBytes === undefined
      ? { ...s, batch: { ...s.batch, maxBytes: ctx.maxPayloadBytes } }
      : s,
  );
  // The rate limit it documents goes with every HTTP step that states none, calls too: a list's
  // lookup or creation counts against the same allowance as the sends (a step may narrow the
  // scope, as Slack's per channel).
  const rateLimit = rateLimitOf(ctx);
  const limited = <S extends PlannedStep>(s: S): S =>
    rateLimit && (s.kind === 'call' || s.kind === 'send' || s.kind === 'jobs') && s.rateLimit === undefined ? { ...s, rateLimit } : s;
  // Keyed plans only: a job's rows are recorded by their keys.
  const jobsStep = sync.identifier ? api.jobs?.(ctx) : undefined;
  const jobs = jobsStep && limited({ ...jobsStep, calls: jobsStep.calls.map(limited) });
  // Requests that carry a row's or a batch's idempotency key: each row's key is chained on its last delivery's (ChangeSet.keys).
  const changeSet = changeSetOf(sync, reads, refreshDays, carriesIdempotencyKey(sending), jobs !== undefined);
  const deletes = sync.mode === 'mirror' || sync.mode === 'remove';

  const steps: PlannedStep[] = [
    // First: a failed job's rows count as not delivered before the change set is built.
    ...(jobs ? [jobs] : []),
    {
      kind: 'changes',
      file: 'changes.sql',
      on: 'source',
      description: 'build the change set against the snapshot; returns one summary row',
      summary: ['model_rows', 'null_keys', 'duplicate_keys', 'added', 'changed', 'removed', 'unchanged', 'synced'],
    },
    ...(deletes
      ? [
          {
            kind: 'guard' as const,
            description: 'abort before sending when the deletes break the guard',
            allowEmpty: sync.guard.allowEmpty,
            ...(sync.guard.maxDeletes ? { maxDeletes: sync.guard.maxDeletes } : {}),
          },
        ]
      : []),
    {
      kind: 'read',
      file: 'read.sql',
      on: 'source',
      description: `read the ${reads.join(', ')} rows`,
      changes: reads,
      columns: ['seq', 'change', 'row_key', 'payload', 'payload_hash', 'idempotency_key', 'destination_id', 'columns'],
    },
    ...api.setup(ctx).map(limited),
    ...sending.map(limited),
  ];

  const target = sync.target?.map((p) => p.text);
  const plan: ApiSyncPlan['plan'] = {
    ...planHead(sync),
    source: warehouseEndpoint(sync.model.source.name, sync.model.source.dialect, sync.model.source.settings, options),
    destination: {
      name: sync.destination.name,
      type: sync.destination.type,
      category: sync.destination.category,
      objectKind: ctx.objectKind,
      ...(target ? { target } : {}),
      settings: sync.destination.settings,
    },
    // Keyed by the state tables: two runs that share them must not overlap.
    lock: { key: String(lockKeyOf(`${changeSet.tables.schema}.${changeSet.tables.snapshot}`)), on: 'source' },
    steps,
  };
  return { kind: 'api', sync, changeSet, plan };
}
