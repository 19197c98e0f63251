// A run killed with SIGKILL midway, then run again: every row ends delivered, none lost,
// and what was accepted before the kill is not sent again (beyond the batches in flight).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startHubspot, type FakeHubspot } from './servers/hubspot.js';
import { startWebhook, type FakeWebhook } from './servers/webhook.js';
import { startAmplitude, type FakeAmplitude } from './servers/amplitude.js';
import { startMeta, type FakeMeta } from './servers/meta.js';
import { startSlack, type FakeSlack } from './servers/slack.js';
import { compileFixture, exited, runSync, spawnRun, sql, until } from './servers/run-harness.js';
import { ensureBuilt } from './support/build.js';
import { scratchEngines, type ScratchDb } from './servers/scratch-db.js';

const rows = 1000;
const seed = `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(1, ${rows}) g;
  CREATE TABLE crm.signups (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.signups SELECT g, 's' || g || '@example.com', 'pro' FROM generate_series(1, 6) g;`;

const build = await compileFixture('test/fixtures/run/project');
const env = { HUBSPOT_TOKEN: 'hs-test-token', HOOK_SECRET: 'hook-secret', AMPLITUDE_KEY: 'amp-key', META_TOKEN: 'meta-token', SLACK_TOKEN: 'xoxb-test' };

for (const engine of scratchEngines) {
  describe(`killed midway [${engine.name}]`, () => {
    let db: ScratchDb;
    let hubspot: FakeHubspot;
    let hook: FakeWebhook;
    let amplitude: FakeAmplitude;
    let meta: FakeMeta;
    let slack: FakeSlack;
    const endpoints = () => ({ crm: hubspot.api.url, hook: hook.api.url, analytics: amplitude.api.url, ads: meta.api.url, chat: slack.api.url });

    beforeAll(async () => {
      ensureBuilt();
      db = await engine.open();
      await sql(db, seed);
      hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
      hook = await startWebhook({ secret: env.HOOK_SECRET });
      amplitude = await startAmplitude({ apiKey: env.AMPLITUDE_KEY });
      meta = await startMeta({ token: env.META_TOKEN });
      slack = await startSlack({ token: env.SLACK_TOKEN });
    });
    afterAll(async () => {
      await Promise.all([hubspot, hook, amplitude, meta, slack].map((s) => s.api.close()));
      await db.drop();
    });

    async function killMidway(sync: string, sent: () => number, after: number): Promise<void> {
      const child = spawnRun(
        db,
        ['--plan', join(build, sync, 'plan.json'), ...Object.entries(endpoints()).flatMap(([k, v]) => ['--endpoint', `${k}=${v}`]), '--concurrency', '2'],
        env,
      );
      const done = exited(child);
      await until(() => sent() >= after || child.exitCode !== null);
      child.kill('SIGKILL');
      const r = await done;
      expect(r.signal, r.stderr).toBe('SIGKILL');
    }

    it('HubSpot: the rerun upserts the rest, the snapshot holds every row, a third run sends nothing', async () => {
      hubspot.api.failWhen(() => fault.slow(150));
      await killMidway('people_to_hubspot', () => hubspot.api.requests.length, 4);
      const firstRun = hubspot.api.requests.length;
      const delivered = hubspot.records('contacts').length;
      expect(delivered).toBeGreaterThan(0);
      expect(delivered).toBeLessThan(rows);

      hubspot.api.failWhen(undefined);
      const again = await runSync(db, build, 'people_to_hubspot', { env, endpoints: endpoints() });
      expect(again.status).toBe('ok');
      expect(hubspot.records('contacts')).toHaveLength(rows);
      const [snap] = await sql(db, 'SELECT count(*)::int AS n FROM syncwright.people_to_hubspot_snapshot');
      expect(snap).toEqual([{ n: rows }]);
      // Accepted rows recorded before the kill are not sent again: at most the two batches in flight are.
      const resent = hubspot.api.requests.slice(firstRun).reduce((n, q) => n + (q.body as { inputs: unknown[] }).inputs.length, 0);
      expect(resent).toBeLessThanOrEqual(rows - delivered + 2 * 100);

      const before = hubspot.api.requests.length;
      expect((await runSync(db, build, 'people_to_hubspot', { env, endpoints: endpoints() })).changes?.added).toBe(0);
      expect(hubspot.api.requests.length).toBe(before);
    });

    it('webhook: every row arrives, and a row sent twice carries the same Idempotency-Key', async () => {
      hook.api.failWhen(() => fault.slow(20));
      await killMidway('people_to_hook', () => hook.api.requests.length, 50);
      expect(hook.deliveries.length).toBeLessThan(rows);

      hook.api.failWhen(undefined);
      const again = await runSync(db, build, 'people_to_hook', { env, endpoints: endpoints() });
      expect(again.status).toBe('ok');
      const ids = new Set(hook.deliveries.map((d) => (d.body as { key: string }).key));
      expect(ids.size).toBe(rows);
      // Each row was applied once: a resend of an accepted row was answered from the key.
      expect(hook.deliveries).toHaveLength(rows);
      const keys = new Map<string, string>();
      for (const q of hook.api.requests) {
        const id = (q.body as { key: string }).key;
        const key = q.headers['idempotency-key'] as string;
        expect(keys.get(id) ?? key).toBe(key);
        keys.set(id, key);
      }
    });

    // The embedded database is where a kill can hurt most (its files are written by this process);
    // the other destinations are killed there.
    if (engine.name !== 'pglite') return;

    it('Amplitude: every event ingested once, the resent ones deduplicated by insert_id', async () => {
      amplitude.api.failWhen(() => fault.slow(150));
      await killMidway('people_to_amplitude', () => amplitude.api.requests.length, 3);
      expect(amplitude.events.length).toBeLessThan(rows);
      amplitude.api.failWhen(undefined);
      expect((await runSync(db, build, 'people_to_amplitude', { env, endpoints: endpoints() })).status).toBe('ok');
      expect(new Set(amplitude.events.map((e) => e.user_id)).size).toBe(rows);
      expect(amplitude.events).toHaveLength(rows);
      expect(amplitude.duplicatesDropped).toBeLessThanOrEqual(2 * 100);
    });

    it('Meta: every member added; a resent batch adds nothing twice', async () => {
      meta.api.failWhen((q) => (q.path.endsWith('/users') ? fault.slow(150) : undefined));
      await killMidway('paying_to_meta_add', () => meta.api.requests.filter((q) => q.path.endsWith('/users')).length, 3);
      const id = meta.idOf('Paying (add only)') as string;
      expect(meta.members(id).length).toBeLessThan(rows);
      meta.api.failWhen(undefined);
      expect((await runSync(db, build, 'paying_to_meta_add', { env, endpoints: endpoints() })).status).toBe('ok');
      expect(meta.members(id)).toHaveLength(rows);
      expect(meta.created.size).toBe(1);
    });

    it('Slack: every signup posted; at most the messages in flight at the kill are posted twice', async () => {
      await killMidway('signups_to_slack', () => slack.messages.length, 2);
      expect(slack.messages.length).toBeLessThan(6);
      expect((await runSync(db, build, 'signups_to_slack', { env, endpoints: endpoints() })).status).toBe('ok');
      const texts = slack.messages.map((m) => m.text);
      expect(new Set(texts).size).toBe(6);
      // Slack takes no idempotency key: the two requests in flight (--concurrency 2) may repeat.
      expect(texts.length - 6).toBeLessThanOrEqual(2);
    });
  });
}
