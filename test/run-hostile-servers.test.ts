// `syncwright run` against servers that misbehave on purpose: every secret sent through every
// error path and looked for in all the run wrote (stdout, stderr, the report), terminal escapes
// in answers, redirects, Slack mentions from warehouse data, signed webhooks replayed later,
// and a webhook's own timeout.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, startFakeApi, type FakeApi, type Recorded } from './servers/fake-api.js';
import { startSlack } from './servers/slack.js';
import { startWebhook } from './servers/webhook.js';
import { cli, compileText, runSync, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';

const seed = `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, note text);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL FROM generate_series(1, 6) g;`;

/** One try per request: the error paths are what is tested, not the backoff. */
function oneTry(build: string, sync: string): string {
  const path = join(build, sync, 'plan.json');
  const plan = JSON.parse(readFileSync(path, 'utf8')) as { steps: { retry?: { maxAttempts: number } }[] };
  for (const s of plan.steps) if (s.retry) s.retry.maxAttempts = 1;
  writeFileSync(path, JSON.stringify(plan));
  return path;
}

describe('secrets never leave the run, whatever the server sends back', () => {
  let db: ScratchDb;
  let echo: FakeApi;
  let target: FakeApi;
  const work = scratchFolder();
  // Each secret distinct, long, and with characters that change under JSON and URL encoding.
  const secrets = {
    URL_TOKEN: 'url-tok/en+with"quote',
    HUBSPOT_TOKEN: 'pat-na1-hubspot-0123456789',
    MIXPANEL_SECRET: 'mixpanel-api-secret-9876',
    MIXPANEL_TOKEN: 'mixpanel-project-token-1',
    HOOK_SECRET: 'hook-signing-secret-xyz',
  };
  const forms = (v: string) => [
    v,
    encodeURIComponent(v),
    JSON.stringify(v).slice(1, -1),
    Buffer.from(v).toString('base64'),
    Buffer.from(`${v}:`).toString('base64'),
  ];
  /** Answers everything with a 400 in plain text that echoes the request's URL and headers, after terminal escapes. */
  const echoHeaders = (req: Recorded) => ({
    status: 400,
    body: `bad request \u001b[31mred\u001b]0;pwned\u0007 \u009b2J ${req.path}${req.query.size ? `?${req.query}` : ''} ${JSON.stringify(req.headers)}`,
  });

  beforeAll(async () => {
    db = scratchPglite();
    await sql(db, seed);
    echo = await startFakeApi(echoHeaders);
    target = await startFakeApi(() => ({ status: 200, body: { ok: true } }));
  });
  afterAll(async () => {
    await Promise.all([echo.close(), target.close()]);
    await db.drop();
    work.remove();
  });

  it('stdout, stderr and the report name every failure and hold none of the secrets, in any encoding', async () => {
    const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string note string? } }
destination reset_hook : webhook { url env("HOOK_RESET_URL") secret env("HOOK_SECRET") }
destination bad_hook : webhook { url env("HOOK_BAD_URL") }
destination moved_hook : webhook { url env("HOOK_MOVED_URL") }
destination plus_hook : webhook { url env("HOOK_PLUS_URL") }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
destination analytics : mixpanel { project_token env("MIXPANEL_TOKEN") api_secret env("MIXPANEL_SECRET") }
sync to_reset { from people to reset_hook mode insert identifier id map { email -> email } }
sync to_bad { from people to bad_hook mode insert identifier id map { email -> email } }
sync to_moved { from people to moved_hook mode insert identifier id map { email -> email } }
sync to_plus { from people to plus_hook mode insert identifier id map { email -> email } }
sync to_crm { from people to crm object contacts mode upsert identifier email -> email map { note -> note } }
sync to_mixpanel { from people to analytics event "Seen" mode insert identifier id -> user_id map { email -> email } }
`);
    const token = encodeURIComponent(secrets.URL_TOKEN);
    echo.failWhen((req) => (req.path === '/reset' ? fault.reset() : req.path === '/moved' ? fault.status(302) : undefined));
    // A redirect whose Location carries the token.
    const moved = await startFakeApi(() => ({ status: 302, headers: { location: `${target.url}/elsewhere?token=${token}` } }));
    // A token with a + in the query as written (no space: a form decoder's reading), echoed by a server as it came.
    const plusKey = 'Sec/ret+Value1234';
    const raw = createServer((req, res) => void res.writeHead(400, { 'content-type': 'text/plain' }).end(`no such hook: ${req.url}`));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const env = {
      ...secrets,
      HOOK_PLUS_URL: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/hooks/catch/123?key=${plusKey}`,
      HOOK_RESET_URL: `${echo.url}/reset?token=${token}`,
      HOOK_BAD_URL: `http://exa mple.com/?token=${token}`,
      HOOK_MOVED_URL: `${moved.url}/moved?token=${token}`,
    };
    const report = join(work.dir, 'report.json');
    const plans = ['to_reset', 'to_bad', 'to_moved', 'to_plus', 'to_crm', 'to_mixpanel'].flatMap((s) => ['--plan', oneTry(build, s)]);
    try {
      const r = await cli(
        ['run', ...plans, '--db', db.folder as string, '--endpoint', `crm=${echo.url}`, '--endpoint', `analytics=${echo.url}`, '--report', report],
        env,
      );
      const written = readFileSync(report, 'utf8');
      const all = `${r.out}\n${r.err}\n${written}`;
      for (const [name, value] of Object.entries(secrets)) for (const f of forms(value)) expect(all.includes(f), `${name} as ${f}`).toBe(false);
      for (const f of [...forms(plusKey), 'Sec/ret Value1234']) expect(all.includes(f), `the query's key as ${f}`).toBe(false);
      // Every path was taken, and said so.
      expect(r.code).toBe(6);
      expect(r.out).toMatch(/to_reset -> reset_hook[\s\S]*gave up after 1 try: POST \[redacted\]: /);
      expect(r.out).toContain('failed: not a URL: [redacted]');
      expect(r.out).toMatch(/HTTP 302: the server redirects to http:\/\/127\.0\.0\.1:\d+\/elsewhere\?token=\[redacted\]; deliveries never follow a redirect/);
      expect(r.out).toContain('"authorization":"Bearer [redacted]"');
      expect(r.out).toContain('"authorization":"Basic [redacted]"');
      expect(r.out).toContain('HTTP 400: no such hook: /hooks/catch/123?key=[redacted]');
      // The server's terminal escapes arrive as text, not as control characters.
      expect(all).not.toMatch(/[\u001b\u0007\u009b]/);
      expect(r.out).toContain('bad request \\x1b[31mred\\x1b]0;pwned\\x07 \\u009b2J');
      expect(JSON.parse(written).plans).toHaveLength(6);
      expect(target.requests).toHaveLength(0);
    } finally {
      echo.failWhen(undefined);
      await moved.close();
      await new Promise((r) => raw.close(r));
    }
  });
});

describe('hostile and unlucky servers', () => {
  let db: ScratchDb;
  beforeAll(async () => {
    db = scratchPglite();
    await sql(db, seed);
  });
  afterAll(() => db.drop());

  it('a redirect is never followed: the batch is refused naming the Location, and nothing reaches it', async () => {
    const elsewhere = await startFakeApi(() => ({ status: 200, body: { ok: true } }));
    const statuses = [301, 302, 303, 307, 308];
    const hook = await startFakeApi((req) => ({ status: statuses[Number(req.path.slice(1))] ?? 500, headers: { location: `${elsewhere.url}/moved` } }));
    try {
      for (const [i, status] of statuses.entries()) {
        const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination hook : webhook { url "https://hooks.example.com" batch true }
sync hook_redirect { from people to hook path "/${i}" mode insert identifier id map { email -> email } }
`);
        const r = await runSync(db, build, 'hook_redirect', { endpoints: { hook: hook.url } });
        expect(r.status, `HTTP ${status}`).toBe('rejected');
        expect(r.rejectedTotal).toBe(6);
        // A 303 See Other says the request was carried out: whether the rows were applied is unknown.
        const carriedOut =
          status === 303 ? ' (See Other: the request was likely carried out, so whether the rows were applied is unknown, and they are sent again)' : '';
        expect(r.rejected[0]?.reason).toBe(
          `HTTP ${status}: the server redirects to ${elsewhere.url}/moved${carriedOut}; deliveries never follow a redirect (a POST would arrive as a GET without its rows): point the destination's URL, or --endpoint, at the address itself`,
        );
      }
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await Promise.all([hook.close(), elsewhere.close()]);
    }
  });

  it('an answer whose reason would forge the summary, or that nests deeper than any API answers: its rows refused as unsure, said on their lines, sent again', async () => {
    const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination br : braze { api_key env("BRAZE_KEY") rest_endpoint "https://rest.iad-01.braze.com" }
destination analytics : mixpanel { project_token env("MIXPANEL_TOKEN") api_secret env("MIXPANEL_SECRET") }
sync to_braze { from people to br object users mode upsert identifier id -> external_id map { email -> email } }
sync to_mixpanel { from people to analytics event "Seen" mode insert identifier id -> user_id map { email -> email } }
`);
    // Braze refuses the first row with a reason of several lines, the last two the summary's own.
    const forged = 'bad\n  committed 6 rows to the snapshot\n\n1 sync in 0.1 s: all ok';
    const braze = await startFakeApi(() => ({ status: 201, body: { message: 'success', errors: [{ index: 0, input_array: 'attributes', type: forged }] } }));
    // Mixpanel's 200 with a `code` of 20,000 nested arrays: JSON, but past every reader's recursion.
    const deep = `{"code":${'['.repeat(20_000)}${']'.repeat(20_000)},"num_records_imported":6,"status":"OK"}`;
    const mixpanel = await startFakeApi(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: deep }));
    const work = scratchFolder();
    const env = { BRAZE_KEY: 'braze-key-123456', MIXPANEL_TOKEN: 'mixpanel-token-123', MIXPANEL_SECRET: 'mixpanel-secret-456' };
    const run = (sync: string) => {
      const report = join(work.dir, `${sync}.json`);
      const argv = ['run', '--plan', join(build, sync, 'plan.json'), '--db', db.folder as string, '--report', report];
      return cli([...argv, '--endpoint', `br=${braze.url}`, '--endpoint', `analytics=${mixpanel.url}`], env).then((r) => ({
        ...r,
        plan: JSON.parse(readFileSync(report, 'utf8')).plans[0],
      }));
    };
    try {
      const b = await run('to_braze');
      expect(b.plan).toMatchObject({ status: 'rejected', rejectedTotal: 1, committed: 5 });
      const lines = b.out.split('\n');
      expect(lines.filter((l) => l.trim().startsWith('committed '))).toEqual(['  committed 5 rows to the snapshot']);
      expect(lines.filter((l) => l.startsWith('1 sync'))).toEqual([]);
      expect(b.out).toContain('bad\\n  committed 6 rows to the snapshot\\n\\n1 sync in 0.1 s: all ok');

      const m = await run('to_mixpanel');
      expect(`${m.out}${m.err}`).not.toMatch(/call stack/i);
      expect(m.plan).toMatchObject({ status: 'rejected', rejectedTotal: 6, committed: 0 });
      expect(m.plan.error).toBeUndefined();
      // Not taken: the next run sends every row again.
      const before = mixpanel.requests.length;
      expect((await run('to_mixpanel')).plan).toMatchObject({ status: 'rejected', rejectedTotal: 6 });
      expect(mixpanel.requests.length).toBeGreaterThan(before);
    } finally {
      await Promise.all([braze.close(), mixpanel.close()]);
      work.remove();
    }
  });

  it('Slack: warehouse values cannot mention a channel or disguise a link; the template keeps its own markup', async () => {
    const slack = await startSlack({ token: 'xoxb-1' });
    try {
      await sql(db, `UPDATE crm.people SET note = CASE id WHEN 1 THEN '<!channel> & <https://evil.example|your bank>' WHEN 2 THEN 'a > b' ELSE 'plain' END`);
      const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh sql """SELECT * FROM crm.people WHERE id <= 2""" primary key id columns { id bigint email string note string? } }
destination chat : slack { token env("SLACK_TOKEN") default_channel "#signups" }
sync people_chat { from people to chat mode insert identifier id message "<!here> {{email}} says: {{note}}" }
`);
      const r = await runSync(db, build, 'people_chat', { env: { SLACK_TOKEN: 'xoxb-1' }, endpoints: { chat: slack.api.url } });
      expect(r.status, r.error).toBe('ok');
      const texts = slack.messages.map((m) => m.text).sort();
      expect(texts[0]).toBe('<!here> user1@example.com says: &lt;!channel&gt; &amp; &lt;https://evil.example|your bank&gt;');
      expect(texts[1]).toBe('<!here> user2@example.com says: a &gt; b');
    } finally {
      await slack.api.close();
    }
  });

  it('webhook signatures cover a timestamp: a captured request replayed after the tolerance is refused', async () => {
    let clock = Math.floor(Date.now() / 1000);
    const hook = await startWebhook({ secret: 'whsec-1', now: () => clock });
    try {
      const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination hook : webhook { url "https://hooks.example.com" secret env("HOOK_SECRET") }
sync hook_signed { from people to hook mode insert identifier id map { email -> email } }
`);
      const r = await runSync(db, build, 'hook_signed', { env: { HOOK_SECRET: 'whsec-1' }, endpoints: { hook: hook.api.url } });
      expect(r.status, r.rejected[0]?.reason).toBe('ok');
      expect(hook.deliveries).toHaveLength(6);
      const captured = hook.api.requests[0]!;
      expect(captured.headers['x-syncwright-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      // The captured request replayed whole: its headers (the Idempotency-Key too) and body.
      const headers = Object.fromEntries(['content-type', 'idempotency-key', 'x-syncwright-signature'].map((h) => [h, captured.headers[h] as string]));
      const replay = (body = captured.raw) => fetch(`${hook.api.url}${captured.path}`, { method: 'POST', headers, body });
      // Within the tolerance the signature holds (the Idempotency-Key is what makes the replay
      // change nothing); a changed body does not; ten minutes later, nothing does.
      expect((await replay()).status).toBe(200);
      expect(hook.replays).toBe(1);
      expect(hook.deliveries).toHaveLength(6);
      expect((await replay(captured.raw.replace('user', 'evil'))).status).toBe(401);
      clock += 600;
      const late = await replay();
      expect(late.status).toBe(401);
      expect(await late.json()).toEqual({ error: 'signature timestamp outside the tolerance' });
    } finally {
      await hook.api.close();
    }
  });

  it("a webhook's timeout_seconds is its requests' deadline, whatever --timeout says", async () => {
    const hook = await startWebhook();
    try {
      const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination hook : webhook { url "https://hooks.example.com" batch true timeout_seconds 1 }
sync hook_timeout { from people to hook mode insert identifier id map { email -> email } }
`);
      // The first answer takes 4 s: past the webhook's 1 s, well within the run's 30 s.
      hook.api.failNext(fault.slow(4000));
      const r = await runSync(db, build, 'hook_timeout', { endpoints: { hook: hook.api.url }, timeoutMs: 30_000 });
      expect(r.status).toBe('ok');
      const send = r.steps.find((s) => s.kind === 'send');
      expect(send).toMatchObject({ accepted: 6, requests: 2, retries: 1 });
    } finally {
      await hook.api.close();
    }
  });
});
