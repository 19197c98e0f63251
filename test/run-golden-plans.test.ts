// Every API plan the compiler's golden files hold, for every destination type and mode, is one
// this executor can run: each step is of a kind it knows, and every request, message and
// object template renders to a well-formed request for a batch of change rows.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiStep } from '../src/contract/api-steps.js';
import type { Plan } from '../src/contract/plan.js';
import { buildRequest } from '../src/run/http/request.js';
import { compileMessage, envPlaceholder, render, type RenderContext } from '../src/run/template.js';
import { batchValues } from '../src/run/step-env.js';
import type { ChangeRow } from '../src/run/change-rows.js';

const root = join(import.meta.dirname, 'golden', 'api');
// One folder per destination type of `<kind>-<mode>.json` plans (sql/ holds the change set SQL goldens).
const plans = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'sql')
  .flatMap((d) =>
    readdirSync(join(root, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((file) => ({ name: `${d.name}/${file}`, plan: JSON.parse(readFileSync(join(root, d.name, file), 'utf8')) as Plan })),
  );

const row = (n: number): ChangeRow => ({
  seq: n,
  change: 'added',
  key: `key-${n}`,
  payload: { email: `u${n}@example.com`, name: `User ${n}` },
  payload_hash: 'h'.repeat(64),
  idempotency_key: String(n).repeat(64).slice(0, 64),
  destination_id: `dest-${n}`,
  columns: { name: `User ${n}` },
});

const known = new Set(['jobs', 'changes', 'guard', 'read', 'call', 'send', 'publish', 'write_object', 'accept', 'commit']);

describe('golden API plans', () => {
  it('there are plans of every API destination type', () => {
    expect(new Set(plans.map((p) => p.plan.destination.type)).size).toBe(14);
  });

  for (const { name, plan } of plans) {
    it(name, () => {
      const rows = [row(1), row(2)];
      const ctx: RenderContext = {
        // What the plans' calls capture (sign-in, list and job lookups).
        vars: {
          list_id: 'L1',
          list: 'lists/L1',
          access_token: 'tok',
          job: 'customers/1/offlineUserDataJobs/9',
          instance_url: 'https://acme.my.salesforce.com',
        },
        run: { id: 'r', session: 7, timestamp: '2026-01-01T00:00:00.000Z', epoch_ms: 0 },
        rows,
        row: rows[0],
        batch: batchValues(rows, 1, true, 2),
      };
      for (const step of plan.steps as ApiStep[]) {
        expect(known.has(step.kind), step.kind).toBe(true);
        if (step.kind === 'send') {
          const options = { env: envPlaceholder, ...(step.message === undefined ? {} : { message: compileMessage(step.message) }) };
          for (const r of step.requests) {
            const req = buildRequest(r.request, r.for === 'row' ? { ...ctx, rows: [rows[0] as ChangeRow] } : ctx, options, 'http://127.0.0.1:9');
            expect(req.url).toMatch(/^http:\/\/127\.0\.0\.1:9\//);
            if (req.body !== undefined && r.request.body?.encoding === 'json') expect(() => JSON.parse(req.body as string)).not.toThrow();
          }
        } else if (step.kind === 'call') {
          expect(buildRequest(step.request, ctx, { env: envPlaceholder }).url).toMatch(/^https?:\/\//);
        } else if (step.kind === 'jobs') {
          for (const request of [...step.calls.map((c) => c.request), step.request])
            expect(buildRequest(request, ctx, { env: envPlaceholder }).url).toMatch(/^https?:\/\//);
        } else if (step.kind === 'publish') {
          for (const t of [step.destination, step.key, step.value]) render(t, ctx, { env: envPlaceholder });
        } else if (step.kind === 'write_object') {
          const record = render(step.record, ctx, { env: envPlaceholder });
          expect(typeof record).toBe('object');
          expect(String(render(step.key, ctx, { env: envPlaceholder }))).not.toBe('');
        }
      }
    });
  }
});
