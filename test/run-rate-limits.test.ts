// A destination's rate limit, end to end: compiled HubSpot plans, their limits made small and
// short here (the catalog's are 100 per 10 s), run against a local HubSpot that enforces the
// same rolling windows on arrival and answers 429 above them, as HubSpot does. A run within
// its plan's limit is never refused, with several requests in flight; calls (the list's lookup
// and creation) count against the same allowance as the sends. Counts only, no durations.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiStep, RateLimit } from '../src/contract/api-steps.js';
import type { Plan } from '../src/contract/plan.js';
import { fault, rollingWindows } from './servers/fake-api.js';
import { startHubspot, type FakeHubspot } from './servers/hubspot.js';
import { compileText, runSync, sql } from './servers/run-harness.js';
import { scratchPglite, type ScratchDb } from './servers/scratch-db.js';

const rows = 16;
const env = { HUBSPOT_TOKEN: 'hs-test-token' };
const project = `source warehouse : postgres { database "app" version 15 }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
model people { from warehouse  table crm.people  primary key id  columns { id bigint  email string  plan string } }
audience paying { from people  where plan <> 'free' }
sync people_one_by_one { from people  to crm object contacts  mode upsert  identifier email -> email  map { plan -> plan_tier }  batch 1 }
sync paying_list { from paying  to crm list "Paying"  mode add  identifier email -> email  batch 2 }`;

// HubSpot's answer above its limit (no Retry-After: the client backs off by its own policy).
const tooMany = fault.status(429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT' });
// The requests let through are answered after a while, so that the run keeps several in flight.
const answerLater = fault.slow(120);

/** Every call's and send's rate limit of `sync`'s plan replaced, and quick retries (a run that trips the limit ends soon). */
function limitPlan(build: string, sync: string, limit: Omit<RateLimit, 'scope'>): void {
  const file = join(build, sync, 'plan.json');
  const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  for (const step of (plan.steps as ApiStep[]).filter((s) => s.kind === 'call' || s.kind === 'send')) {
    // Every HTTP step carries the destination's limit as compiled.
    expect(step.rateLimit, `${step.kind} step`).toEqual({ requests: 100, perSeconds: 10, scope: 'destination' });
    step.rateLimit = { ...limit, scope: 'destination' };
    step.retry = { ...step.retry, backoff: { initialSeconds: 0.02, multiplier: 2, maxSeconds: 0.1 } };
  }
  writeFileSync(file, JSON.stringify(plan));
}

const refused = (hubspot: FakeHubspot) => hubspot.api.requests.filter((r) => r.fault?.kind === 'status' && r.fault.status === 429).length;

describe('rate limits against a server enforcing rolling windows', () => {
  let db: ScratchDb;
  let hubspot: FakeHubspot;
  let build: string;
  beforeAll(async () => {
    db = scratchPglite();
    await sql(
      db,
      `CREATE SCHEMA crm;
       CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
       INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, ${rows}) g;`,
    );
    hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
    build = await compileText(project);
  });
  afterAll(async () => {
    await hubspot.api.close();
    await db.drop();
  });
  // A long deadline: on a loaded machine a request answered late would be sent again, and counted twice.
  const run = (sync: string) => runSync(db, build, sync, { env, endpoints: { crm: hubspot.api.url }, concurrency: 4, timeoutMs: 60_000 });

  it('one window: never more requests in it than it allows, so none is refused, several in flight', async () => {
    limitPlan(build, 'people_one_by_one', { requests: 4, perSeconds: 0.3 });
    hubspot.api.reset();
    const server = rollingWindows([{ requests: 4, ms: 300 }], tooMany, answerLater);
    hubspot.api.failWhen(server.rule);
    const r = await run('people_one_by_one');
    expect(refused(hubspot)).toBe(0);
    expect(r.status, r.error).toBe('ok');
    expect(r.operations).toEqual({ upsert: rows });
    expect(server.arrivals).toHaveLength(rows);
    expect(hubspot.records('contacts')).toHaveLength(rows);
    expect(hubspot.api.maxInFlight).toBeGreaterThan(1);
  });

  it('a burst and a steady rate, calls counted with the sends: neither window is exceeded', async () => {
    limitPlan(build, 'paying_list', { requests: 3, perSeconds: 0.2, also: [{ requests: 7, perSeconds: 1 }] });
    hubspot.api.reset();
    const server = rollingWindows(
      [
        { requests: 3, ms: 200 },
        { requests: 7, ms: 1000 },
      ],
      tooMany,
      answerLater,
    );
    hubspot.api.failWhen(server.rule);
    const r = await run('paying_list');
    expect(refused(hubspot)).toBe(0);
    expect(r.status, r.error).toBe('ok');
    const paying = rows / 2;
    expect(hubspot.listEmails('Paying')).toHaveLength(paying);
    // The lookup, the creation, then per batch of two an upsert and an add to the list.
    expect(server.arrivals).toHaveLength(2 + paying);
    expect(hubspot.api.maxInFlight).toBeGreaterThan(1);
  });
});
