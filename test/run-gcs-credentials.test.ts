// GCS with credentials, through `syncwright run` as a child process: a service account's key
// (the `credentials` setting) exchanged for tokens at a local OAuth token endpoint, or
// Application Default Credentials from a local metadata server. The client libraries ask
// Google's fixed addresses for tokens (and, without an endpoint override, for storage): the
// child reaches them through a local HTTPS proxy that answers for those hosts itself, so every
// request goes to 127.0.0.1 and the proxy records any other host asked for.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fault, startFakeApi, type Recorded } from './servers/fake-api.js';
import { FakeGcs } from './servers/gcs.js';
import { FakeGoogleOAuth, FakeMetadataServer, serviceAccount } from './servers/google-auth.js';
import { startHttpsProxy, type HttpsProxy } from './servers/https-proxy.js';
import { compileText, repoRoot, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';

const account = serviceAccount();
let db: ScratchDb;
let oauth: FakeGoogleOAuth;
let metadata: FakeMetadataServer;
let gcs: FakeGcs;
let proxy: HttpsProxy;
let build: string;
const work = scratchFolder('syncwright-gcs-auth-');
const home = scratchFolder('syncwright-gcs-home-');

beforeAll(async () => {
  db = scratchPglite();
  await sql(
    db,
    `CREATE SCHEMA crm;
     CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL);
     INSERT INTO crm.people SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 50) g;`,
  );
  oauth = await new FakeGoogleOAuth(account).start();
  metadata = await new FakeMetadataServer().start();
  gcs = await new FakeGcs(['acme-gcs'], () => [...oauth.issued, ...metadata.issued]).start();
  proxy = await startHttpsProxy({ 'www.googleapis.com': oauth.api.url, 'oauth2.googleapis.com': oauth.api.url, 'storage.googleapis.com': gcs.api.url });
  build = await compileText(`source warehouse : postgres { database "app" version 15 }
destination keyed : gcs { bucket "acme-gcs"  prefix "keyed"  credentials env("GCS_KEY") }
destination ambient : gcs { bucket "acme-gcs"  prefix "ambient" }
model people { from warehouse  table crm.people  primary key id  columns { id bigint  email string } }
sync people_keyed { from people  to keyed path "people.jsonl"  mode mirror  identifier id -> id  map { email -> email }  format jsonl }
sync people_ambient { from people  to ambient path "people.jsonl"  mode mirror  identifier id -> id  map { email -> email }  format jsonl }`);
});
afterAll(async () => {
  await proxy.close();
  await Promise.all([oauth.api.close(), metadata.api.close(), gcs.api.close()]);
  await db.drop();
  work.remove();
  home.remove();
});
beforeEach(() => {
  for (const s of [oauth, metadata, gcs]) s.api.reset();
  oauth.issued.length = 0;
  metadata.issued.length = 0;
  gcs.refused.length = 0;
  proxy.connects.length = 0;
  proxy.refused.length = 0;
});

/** Waits for the child's output to end as well as for it to exit. */
function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/**
 * `syncwright run` of one sync in a child process whose environment holds only what it is
 * given here: no credentials or proxies of the machine's, a home without gcloud's files.
 */
async function run(sync: string, args: string[], env: Record<string, string>) {
  const report = join(work.dir, `${sync}-report.json`);
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'syncwright.js'), 'run', '--plan', join(build, sync, 'plan.json'), '--db', db.folder as string, '--report', report, ...args],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home.dir,
        CLOUDSDK_CONFIG: home.dir,
        HTTPS_PROXY: proxy.url,
        NO_PROXY: '127.0.0.1',
        NODE_EXTRA_CA_CERTS: proxy.caFile,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const r = await finished(child);
  const reportText = readFileSync(report, 'utf8');
  const plan = (JSON.parse(reportText) as { plans: Record<string, unknown>[] }).plans[0] as Record<string, unknown>;
  return { ...r, reportText, plan };
}

const keyed = () => ({ GCS_KEY: account.json });
const ambient = () => ({ GCE_METADATA_HOST: metadata.host, METADATA_SERVER_DETECTION: 'ping-only' });
const authorization = (r: Recorded) => String(r.headers.authorization ?? '(none)');

describe('GCS with a service account key and an endpoint override', () => {
  it('authenticates every request of the resumable upload with the token the key was exchanged for', async () => {
    // The service keeps the chunk, but its answer is lost: the client asks where the upload stands.
    let lost = false;
    gcs.api.failWhen((req) => {
      if (req.method !== 'PUT' || req.bytes.length === 0 || lost) return undefined;
      lost = true;
      return fault.lost();
    });
    const r = await run('people_keyed', ['--endpoint', `keyed=${gcs.api.url}`], keyed());
    expect(r.code, String(r.plan.error)).toBe(0);
    expect(r.plan).toMatchObject({ status: 'ok', operations: { gcs: 50 } });
    expect(gcs.text('acme-gcs', 'keyed/people.jsonl')?.trimEnd().split('\n')).toHaveLength(50);
    expect(oauth.refused).toEqual([]);
    expect(oauth.issued).toHaveLength(1);
    // Session initiation, the chunk, the status query after the lost answer (and the chunk again,
    // which the finalised session answers with the object): each with the token.
    const sent = gcs.api.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f]{32}/, 'ID')} ${String(q.headers['content-range'] ?? '')}`.trim());
    expect(sent.slice(0, 3)).toEqual([
      'POST /upload/storage/v1/b/acme-gcs/o',
      expect.stringMatching(/^PUT \/upload\/sessions\/ID bytes 0-\d+\/\d+$/),
      'PUT /upload/sessions/ID bytes */*',
    ]);
    expect(gcs.api.requests.map(authorization)).toEqual(gcs.api.requests.map(() => `Bearer ${oauth.issued[0]}`));
    expect(gcs.refused).toEqual([]);
    // Only the token endpoint went through the proxy; storage was the override, on 127.0.0.1.
    expect(proxy.connects).toEqual(['www.googleapis.com:443']);
    expect(proxy.refused).toEqual([]);
  });
});

describe('GCS with a key the destination names but whose variable is empty', () => {
  it('stops the step: nothing is written as the identity the machine has (Application Default Credentials)', async () => {
    // A change, so that the mirror has an object to write (an earlier test may have written this one), undone after.
    await sql(db, `UPDATE crm.people SET email = 'changed@example.com' WHERE id = 1`);
    try {
      const r = await run('people_keyed', ['--endpoint', `keyed=${gcs.api.url}`], { GCS_KEY: '', ...ambient() });
      expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining("the destination's credentials is empty") });
      expect(gcs.api.requests).toEqual([]);
      expect(metadata.issued).toEqual([]);
    } finally {
      await sql(db, `UPDATE crm.people SET email = 'user1@example.com' WHERE id = 1`);
    }
  });
});

describe('GCS: a token the service echoes back is never printed or written', () => {
  // As a hostile or broken server might: the Authorization header in a 403's message.
  const echo = (req: Recorded) =>
    req.method === 'POST'
      ? fault.status(403, {
          error: { code: 403, message: `${authorization(req)} does not have storage.objects.create access to the Google Cloud Storage object.` },
        })
      : undefined;

  const cases = [
    {
      name: 'a service account key, endpoint override',
      sync: 'people_keyed',
      args: () => ['--endpoint', `keyed=${gcs.api.url}`],
      env: keyed,
      issued: () => oauth.issued,
    },
    { name: 'a service account key, storage.googleapis.com', sync: 'people_keyed', args: () => [], env: keyed, issued: () => oauth.issued },
    {
      name: 'Application Default Credentials (metadata server), storage.googleapis.com',
      sync: 'people_ambient',
      args: () => [],
      env: ambient,
      issued: () => metadata.issued,
    },
  ];
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      // A change to send, whatever the runs before sent.
      await sql(db, `UPDATE crm.people SET email = 'changed${i}@example.com' WHERE id = 1`);
      gcs.api.failWhen(echo);
      const r = await run(c.sync, c.args(), c.env());
      expect(r.code, r.stderr).toBe(6);
      // The service was sent the token, and said it back.
      expect(c.issued()).toHaveLength(1);
      const [token] = c.issued();
      const post = gcs.api.requests.find((q) => q.method === 'POST');
      expect(post && authorization(post)).toBe(`Bearer ${token}`);
      expect(r.plan).toMatchObject({
        status: 'failed',
        committed: 0,
        error: expect.stringContaining('Bearer [redacted] does not have storage.objects.create access'),
      });
      for (const text of [r.stdout, r.stderr, r.reportText]) expect(text).not.toContain(String(token));
      expect(proxy.refused).toEqual([]);
    });
  }
});

describe('GCS: the signed assertion a key is exchanged with, echoed by the token endpoint', () => {
  it('is never printed or written: it is a credential for an hour of tokens', async () => {
    await sql(db, `UPDATE crm.people SET email = 'assertion@example.com' WHERE id = 1`);
    let assertion = '';
    oauth.api.failWhen((req) => {
      assertion = String((req.body as { assertion?: unknown } | null)?.assertion ?? '');
      return fault.status(400, { error: 'invalid_grant', error_description: `the assertion ${assertion} is not accepted` });
    });
    try {
      const r = await run('people_keyed', ['--endpoint', `keyed=${gcs.api.url}`], keyed());
      expect(assertion.length).toBeGreaterThan(100);
      expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('invalid_grant') });
      for (const text of [r.stdout, r.stderr, r.reportText]) expect(text).not.toContain(assertion.slice(0, 60));
    } finally {
      oauth.api.failWhen(undefined);
    }
  });
});

describe('GCS: a session URI on another server', () => {
  it('gets neither the rows nor the token: the upload goes to the service, at the session URI path', async () => {
    // The initiation's answer names a session URI on a server of its choosing (a Location header, as a redirect's),
    // or an emulator its bind address.
    const other = await startFakeApi(() => ({ status: 200, body: {} }));
    try {
      gcs.sessionBase = other.url;
      await sql(db, `UPDATE crm.people SET email = 'elsewhere@example.com' WHERE id = 2`);
      const r = await run('people_keyed', ['--endpoint', `keyed=${gcs.api.url}`], keyed());
      expect(r.code, r.stderr).toBe(0);
      expect(other.requests).toEqual([]);
      expect(r.plan).toMatchObject({ status: 'ok', rejected: [] });
      expect([...gcs.objects.values()].some((o) => o.data.toString('utf8').includes('elsewhere@example.com'))).toBe(true);
    } finally {
      gcs.sessionBase = undefined;
      await other.close();
    }
  });
});
