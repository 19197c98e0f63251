/** A `call` step: one request (sign-in, find or create a list), retried like any other, its answer captured into variables. */
import type { CallStep } from '../contract/api-steps.js';
import { parseJson } from './exact-json.js';
import { deliver, type Exchange } from './http/deliver.js';
import { snippet } from './http/http.js';
import { pointerGet } from './json-pointer.js';
import { stepReport, type StepReport } from './output/report.js';
import { buildRequest } from './http/request.js';
import { baseContext, type StepEnv } from './step-env.js';

/** The variables a response sets: each capture's pointer, when present. */
export function captures(capture: CallStep['capture'], body: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseJson(body);
  } catch {
    return {};
  }
  const out: Record<string, unknown> = {};
  for (const [name, pointer] of Object.entries(capture)) {
    const v = pointerGet(doc, pointer);
    if (v !== undefined && v !== null) out[name] = v;
  }
  return out;
}

export async function runCall(step: CallStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('call', step.name, step.description);
  if (step.unlessSet !== undefined && env.vars[step.unlessSet] !== undefined) return report;
  // A dry run changes nothing, and a call may (it creates lists).
  if (env.options.dryRun) return report;
  let failure: string | undefined;
  const exchange: Exchange<null> = {
    perRow: false,
    request: () => buildRequest(step.request, baseContext(env), env.render, env.options.endpoints[env.plan.destination.name]),
    read: (res) => {
      const ok = res.status >= 200 && res.status < 300;
      if (ok) Object.assign(env.vars, captures(step.capture, res.body));
      else if (!step.absentOn?.includes(res.status)) return { accepted: [], rejected: [{ index: 0, reason: snippet(res) }], retry: [] };
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
      limiter: env.options.rateLimits.for(env.plan.destination.name, env.plan.destination.target?.join('.'), step.rateLimit),
    },
    { accepted: () => undefined, refused: (r) => void (failure = r[0]?.reason) },
  );
  Object.assign(report, { requests: stats.requests, retries: stats.retries, ms: Math.round(performance.now() - started) });
  if (failure !== undefined) throw new Error(`${step.name} failed: ${failure}`);
  const missing = step.requires.filter((v) => env.vars[v] === undefined);
  if (missing.length) throw new Error(`${step.name} did not return ${missing.join(', ')}`);
  return report;
}
