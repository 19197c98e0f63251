/** A `call` step: one request (sign-in, find or create a list), retried like any other, its answer captured into variables. */
import type { CallStep } from '../contract/api-steps.js';
import { parseAnswer, tooDeep, tooDeepSaid } from './exact-json.js';
import { deliver, type Exchange } from './http/deliver.js';
import { snippet } from './http/http.js';
import { pointerGet } from './json-pointer.js';
import { stepReport, type StepReport } from './output/report.js';
import { buildRequest } from './http/request.js';
import { baseContext, type StepEnv } from './step-env.js';
import type { RenderContext } from './template.js';

/** The variables a parsed response sets: each capture's pointer, when present. */
export function captures(capture: CallStep['capture'], doc: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, pointer] of Object.entries(capture)) {
    const v = pointerGet(doc, pointer);
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out;
}

/** Numbers by value (a time as seconds), anything else as text (an ISO 8601 time); a match without the value sorts last. */
function compareOrder(a: unknown, b: unknown): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [s, t] = [String(a), String(b)];
  return s < t ? -1 : s > t ? 1 : 0;
}

/**
 * The lookup's matches (`CallStep.matches`) put in the plan's order, in place, before the
 * captures read them; their number.
 */
function orderMatches(matches: NonNullable<CallStep['matches']>, doc: unknown): number {
  const items = pointerGet(doc, matches.items);
  if (!Array.isArray(items)) return 0;
  const { order } = matches;
  // Stable: matches the value does not tell apart stay in the order the destination gave.
  if (order !== undefined) items.sort((a, b) => compareOrder(pointerGet(a, order), pointerGet(b, order)));
  return items.length;
}

/** What one request made once answered: the parsed body of a 2xx (or of an `absentOn` status), else why it failed. */
export interface Answer {
  status?: number;
  doc?: unknown;
  /** The start of the answer's body, for messages (`snippet`). */
  said?: string;
  failure?: string;
  requests: number;
  retries: number;
}

/**
 * One request, made once with the plan's retries and rate limit (a call, a job's status): its
 * answer parsed, or why it failed (a status neither 2xx nor among `absentOn`, retries spent).
 */
export async function requestOnce(
  env: StepEnv,
  step: Pick<CallStep, 'request' | 'retry' | 'rateLimit' | 'absentOn'>,
  context: RenderContext = baseContext(env),
): Promise<Answer> {
  const answer: Omit<Answer, 'requests' | 'retries'> = {};
  const exchange: Exchange<null> = {
    perRow: false,
    request: () => buildRequest(step.request, context, env.render, env.options.endpoints[env.plan.destination.name]),
    read: (res) => {
      if (!(res.status >= 200 && res.status < 300) && !step.absentOn?.includes(res.status))
        return { accepted: [], rejected: [{ index: 0, reason: snippet(res) }], retry: [] };
      const doc = parseAnswer(res.body);
      // Read as no answer, a lookup would find nothing, and the call after it make what is there already.
      if (doc === tooDeep) return { accepted: [], rejected: [{ index: 0, reason: `${tooDeepSaid}: ${snippet(res)}` }], retry: [] };
      answer.status = res.status;
      answer.doc = doc;
      answer.said = snippet(res);
      return { accepted: [0], rejected: [], retry: [] };
    },
  };
  const stats = await deliver(
    (async function* () {
      yield { rows: [null], seq: 1, last: true };
    })(),
    [exchange],
    {
      concurrency: 1,
      timeoutMs: env.options.timeoutMs,
      retry: step.retry,
      maxRetryAfterMs: env.options.maxRetryAfterMs,
      ...(env.options.jitter ? { random: env.options.jitter } : {}),
      limiter: env.options.rateLimits.for(env.plan.destination.name, env.plan.destination.target?.join('.'), step.rateLimit),
    },
    { accepted: () => undefined, refused: (r) => void (answer.failure = r[0]?.reason) },
  );
  return { ...answer, requests: stats.requests, retries: stats.retries };
}

export async function runCall(step: CallStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('call', step.name, step.description);
  if (step.unlessSet !== undefined && env.vars[step.unlessSet] !== undefined) return report;
  // A dry run changes nothing, and a call may (it creates lists).
  if (env.options.dryRun) return report;
  const answer = await requestOnce(env, step);
  Object.assign(report, { requests: answer.requests, retries: answer.retries, ms: Math.round(performance.now() - started) });
  if (answer.failure !== undefined) throw new Error(`${step.name} failed: ${answer.failure}`);
  // An `absentOn` answer captures nothing: the thing looked up is not there.
  if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) {
    const doc = answer.doc;
    // Not JSON, the answer says nothing of what was looked up: read as "none found", the call after it would make it again.
    if (doc === undefined && (step.matches !== undefined || Object.keys(step.capture).length > 0))
      throw new Error(`${step.name} failed: the answer is not JSON, so what it found is unknown: ${answer.said ?? ''}`);
    const found = step.matches ? orderMatches(step.matches, doc) : 0;
    const got = captures(step.capture, doc);
    Object.assign(env.vars, got);
    if (found > 1) {
      const taken = Object.entries(got)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ');
      (env.report.warnings ??= []).push(
        `${step.name} (${step.description}) found ${found}; this run used the first in the plan's order (${taken}), and so will later runs while it exists: the others get nothing from this sync`,
      );
    }
  }
  const missing = step.requires.filter((v) => env.vars[v] === undefined);
  if (missing.length) throw new Error(`${step.name} did not return ${missing.join(', ')}`);
  return report;
}
