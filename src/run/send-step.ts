/** A `send` step: the step's change rows, batched, through its chain of requests; accepted rows recorded as they come. */
import { changesKey, type ChangeKind, type ChangeQueries, type SendRequest, type SendStep } from '../contract/api-steps.js';
import { fillSlots } from '../contract/plan.js';
import { readResponse } from './http/acceptance.js';
import { batches } from './http/batches.js';
import { changePages, type ChangeRow } from './change-rows.js';
import { deliver, type Exchange } from './http/deliver.js';
import { stepReport, type StepReport } from './output/report.js';
import { buildRequest } from './http/request.js';
import { baseContext, batchValues, noteRefusals, type StepEnv } from './step-env.js';
import { compileMessage, render, TemplateError, type Json, type RenderContext } from './template.js';

/** The plan's queries over read.sql for these change kinds, with read.sql in place: `rows`, `count`, `range`. */
export function changeQuery(env: StepEnv, kinds: readonly ChangeKind[], which: keyof ChangeQueries, slots: Record<string, number> = {}): string {
  if (env.read === undefined) throw new Error('the plan sends rows before its read step');
  const queries = env.read.queries[changesKey(kinds)];
  if (!queries) throw new Error(`the plan's read step has no queries for the change kinds ${kinds.join(', ')}`);
  return fillSlots(queries[which], { ...slots, query: env.read.query });
}

export async function countRows(env: StepEnv, kinds: SendStep['changes']): Promise<number> {
  const [row] = await env.session.query<{ n: unknown }>(changeQuery(env, kinds, 'count'));
  return Number(row?.n ?? 0);
}

/** The step's change rows page by page; each page only while the run still holds the sync's lock, since what takes it sends or records it. */
export async function* stepRows(env: StepEnv, kinds: SendStep['changes']): AsyncGenerator<ChangeRow[]> {
  for await (const page of changePages(env.session.pages(changeQuery(env, kinds, 'rows'), env.options.pageSize, env.sql))) {
    await env.lock?.check('its next page of change rows');
    yield page;
  }
}

/** `captured`: what earlier requests of the batch captured (`captureBatch`), under `batch.` beside its own values, which win. */
function renderContext(
  env: StepEnv,
  rows: readonly ChangeRow[],
  seq: number,
  last: boolean,
  total: number,
  perRow: boolean,
  captured: Readonly<Record<string, string>> = {},
): RenderContext {
  return { ...baseContext(env), batch: { ...captured, ...batchValues(rows, seq, last, total) }, rows, ...(perRow ? { row: rows[0] } : {}) };
}

/**
 * The request's URL with the query of the next page an answer named (a URL, `listedErrors`): only
 * its query is taken, so that a server can page through its answer but never send the request,
 * credentials and all, to another address.
 */
function pageOf(url: string, page: string): string {
  const u = new URL(url);
  u.search = new URL(page).search;
  return u.toString();
}

/** Whether a template reads the batch's number or whether it is the last (`batch.index`, `batch.last`): a part of a numbered sequence. */
function numbersBatches(t: unknown): boolean {
  if (Array.isArray(t)) return t.some(numbersBatches);
  if (t === null || typeof t !== 'object') return false;
  const ref = (t as { $ref?: unknown }).$ref;
  const path = typeof ref === 'string' ? ref.split('.') : Array.isArray(ref) ? ref : undefined;
  if (Object.keys(t).length === 1 && path) return path[0] === 'batch' && (path[1] === 'index' || path[1] === 'last');
  return Object.values(t).some(numbersBatches);
}

/**
 * Whether the request may name a destination id (`destinationIds`), and why not, for a refusal.
 * Matched whole: a pattern matching an id's beginning would pass `00v...,003...` as one id.
 */
function idRule(request: SendRequest): { allows: (id: string | null) => boolean; why: (id: string | null) => string } | undefined {
  const ids = request.destinationIds;
  if (ids === undefined) return undefined;
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${ids.pattern})$`, 'u');
  } catch (e) {
    throw new Error(`the plan's destinationIds pattern ${JSON.stringify(ids.pattern)} is not a regular expression: ${(e as Error).message}`);
  }
  return {
    allows: (id) => id !== null && pattern.test(id),
    why: (id) =>
      `${id === null ? 'it has no destination id' : `its destination id ${JSON.stringify(id)} is not one this request may name`}: it names only ${ids.what}; the row is not sent, and stays for the next run`,
  };
}

function exchangeOf(env: StepEnv, request: SendRequest, total: number): Exchange<ChangeRow> {
  const perRow = request.for === 'row';
  const base = env.options.endpoints[env.plan.destination.name];
  // Rows whose record is there already go on to the request that finds it.
  const find = request.accept.by === 'items' ? request.accept.already?.find : undefined;
  const ids = idRule(request);
  // A lookup (`only`) is made for the rows without an id it may name; any other request refuses them.
  const lookup = request.only === 'without_destination_id';
  return {
    perRow,
    whole: numbersBatches(request.request),
    request: (rows, c) => {
      const built = buildRequest(request.request, renderContext(env, rows, c.seq, c.last, total, perRow, c.captured), env.render, base);
      return c.page === undefined ? built : { ...built, url: pageOf(built.url, c.page) };
    },
    ...(request.poll ? { pollMs: request.poll.waitSeconds * 1000 } : {}),
    read: (res, rows) => readResponse(request, res, rows, baseContext(env), env.render),
    ...(find ? { fallback: exchangeOf(env, find, total) } : {}),
    ...(lookup ? { skips: (row: ChangeRow) => (ids ? ids.allows(row.destination_id) : row.destination_id !== null) } : {}),
    ...(ids && !lookup ? { refuses: (row: ChangeRow) => (ids.allows(row.destination_id) ? undefined : ids.why(row.destination_id)) } : {}),
  };
}

/** The bodies the first rows would be sent with: what a dry run shows. */
async function samples(env: StepEnv, step: SendStep, total: number): Promise<Json[]> {
  const first = step.requests[0];
  if (!first || env.options.samples <= 0) return [];
  const rows: ChangeRow[] = [];
  for await (const page of stepRows(env, step.changes)) {
    rows.push(...page.slice(0, env.options.samples - rows.length));
    if (rows.length >= env.options.samples) break;
  }
  const groups = first.for === 'row' ? rows.map((r) => [r]) : rows.length ? [rows] : [];
  return groups.map((g, i) => {
    const ctx = renderContext(env, g, i + 1, i === groups.length - 1, total, first.for === 'row');
    return first.request.body ? render(first.request.body.template, ctx, env.render) : null;
  });
}

/** Longest deadline a destination may set for its requests, as for --timeout. */
const maxTimeoutSeconds = 3600;

/** The step's deadline per request: the destination's own setting, else the run's --timeout. */
function timeoutOf(step: SendStep, env: StepEnv): number {
  if (step.timeoutSeconds === undefined) return env.options.timeoutMs;
  const value = render(step.timeoutSeconds, baseContext(env), env.render);
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof seconds !== 'number' || !(seconds >= 1 && seconds <= maxTimeoutSeconds)) {
    throw new TemplateError(`the destination's timeout_seconds must be a number of seconds from 1 to ${maxTimeoutSeconds}, not ${JSON.stringify(value)}`);
  }
  return seconds * 1000;
}

export async function runSend(step: SendStep, stepEnv: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const env: StepEnv =
    step.message === undefined ? stepEnv : { ...stepEnv, render: { ...stepEnv.render, message: compileMessage(step.message, step.escapeMessageValues) } };
  const timeoutMs = timeoutOf(step, env);
  const total = await countRows(env, step.changes);
  const report = stepReport('send', step.operation, step.description, total);
  if (env.options.dryRun) {
    report.samples = await samples(env, step, total);
    report.ms = Math.round(performance.now() - started);
    return report;
  }
  const { progress } = env.options;
  progress.start(step.operation, total);
  const target = env.plan.destination.target?.join('.');
  const stats = await deliver(
    batches(stepRows(env, step.changes), step.batch.size),
    step.requests.map((r) => exchangeOf(env, r, total)),
    {
      concurrency: step.ordered ? 1 : env.options.concurrency,
      timeoutMs,
      retry: step.retry,
      maxRetryAfterMs: env.options.maxRetryAfterMs,
      ...(env.options.jitter ? { random: env.options.jitter } : {}),
      limiter: env.options.rateLimits.for(env.plan.destination.name, target, step.rateLimit),
      ...(step.batch.maxBytes === undefined ? {} : { maxBodyBytes: step.batch.maxBytes }),
    },
    {
      // The write-ahead record: the rows, committed before their request leaves. Not for a
      // replace or a job's operations (`deferAccept`): their requests apply nothing by
      // themselves, and their rows are recorded whole or not at all.
      sending: (rows) => (step.deferAccept ? undefined : env.ledger?.sent(rows)),
      accepted: async (rows) => {
        if (!step.deferAccept) await env.ledger?.record(rows);
        progress.advance(rows.length);
      },
      refused: async (refusals) => {
        if (!step.deferAccept) await env.ledger?.refused(refusals.filter((r) => r.unapplied).map((r) => r.row));
        noteRefusals(
          env,
          refusals.map((r) => ({ key: r.row.key, change: r.row.change, reason: r.reason, fate: r.fate })),
          step.operation,
        );
        progress.advance(refusals.length);
      },
    },
  );
  if (step.deferAccept) env.deferred.push(step.changes);
  Object.assign(report, { accepted: stats.accepted, rejected: stats.rejected, failed: stats.failed, requests: stats.requests, retries: stats.retries });
  report.ms = Math.round(performance.now() - started);
  progress.finish(
    `${step.operation}: ${stats.accepted} accepted, ${stats.rejected + stats.failed} refused, ${stats.requests} requests, ${stats.retries} retries`,
  );
  return report;
}
