// Secrets a server echoes, in the forms servers echo them in, are never shown: not on stdout or
// stderr, not in the --report file. A webhook whose server answers each row with one echo of the
// credentials it was sent, and a Postgres server that puts the password PGPASSWORD gave in its error.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redactor } from '../src/run/output/redact.js';
import { startFakeApi, type FakeApi, type Recorded } from './servers/fake-api.js';
import { cli, compileText, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';

// An AWS-like key ('/', '+'; base64 padded), a key as an env file gives it (a trailing line break, which fetch trims
// from the header), a token of quotes, a backslash and HTML's characters, a password of words.
const KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const NEWLINE_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc\n';
const TOKEN = 'tok"en\\with-quote&amp<1>';
const PASSWORD = 'correct horse battery staple';
// Escaped by Go (<, >, & but not ') and by .NET (upper-case hex, + too).
const QUOTED = "p&ss'word-2024";
const b64 = (s: string) => Buffer.from(s).toString('base64');
const go = (s: string) =>
  JSON.stringify(s)
    .slice(1, -1)
    .replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
/** Row n's answer: an echo of the headers it was sent with. */
const echoes: ((h: Recorded['headers']) => unknown)[] = [
  (h) => `bad key ${String(h['x-key']).replaceAll('/', '\\/')}`, // PHP's json_encode
  (h) => `bad key ${encodeURIComponent(String(h['x-key'])).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
  (h) => `login?return_to=${encodeURIComponent(encodeURIComponent(String(h['x-key'])))}`,
  (h) => `bad key ${b64(String(h['x-key'])).replace(/=+$/, '')}`,
  (h) => `bad key ${b64(String(h['x-key'])).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')}`,
  (h) => `next cursor ${b64(JSON.stringify({ after: 7, auth: h['x-key'] }))}`,
  (h) => `unknown api key ${String(h['x-newline'])}`,
  (h) => ({ error: 'bad auth', headers: { authorization: h.authorization } }),
  (h) => `{"error":"bad auth ${go(String(h.authorization))}"}`,
  (h) => `${'x'.repeat(270)} password ${String(h['x-password'])} was refused`,
  (h) => `password ${String(h['x-password']).replace(' ', '  ')} was refused`,
  (h) => `bad ${JSON.stringify(String(h['x-quoted'])).slice(1, -1).replace('&', '\\u0026')}`,
  (h) => `bad key ${String(h['x-key']).replace('+', '\\u002B')}`,
  // .NET's encoder: a backslash doubled, HTML's characters and + as \u00XX in upper case.
  (h) =>
    `bad auth ${String(h.authorization).replace(/[\\<>&'"+`]/g, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`))}`,
  // A value of three letters and a line break is no secret: the text around it stays as it is.
  () => 'amount 12.00 USD (USD 12.00)',
];

let db: ScratchDb;
let api: FakeApi;
let pg: Server;
const work = scratchFolder();
beforeAll(async () => {
  db = scratchPglite();
  await sql(
    db,
    `CREATE SCHEMA crm; CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL);
    INSERT INTO crm.people SELECT g, 'u' || g || '@x.io' FROM generate_series(1, ${echoes.length}) g;`,
  );
  api = await startFakeApi((req: Recorded) => {
    const echo = echoes[Number((req.body as { key: string }).key) - 1];
    return { status: 400, body: echo ? echo(req.headers) : 'no such row' };
  });
  // Postgres's protocol: no TLS, then the password asked for in clear text, then a FATAL error that holds it.
  const message = (type: string, body: Buffer) =>
    Buffer.concat([Buffer.from(type), Buffer.from([0, 0, 0, 0].map((_, i) => ((body.length + 4) >> (24 - 8 * i)) & 255)), body]);
  const field = (t: string, v: string) => Buffer.from(`${t}${v}\0`);
  pg = createServer((sock) => {
    let buf = Buffer.alloc(0);
    let started = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!started) {
        if (buf.length < 8 || buf.length < buf.readInt32BE(0)) return;
        const code = buf.readInt32BE(4);
        buf = buf.subarray(buf.readInt32BE(0));
        if (code === 80877103) return void sock.write('N');
        started = true;
        return void sock.write(message('R', Buffer.from([0, 0, 0, 3])));
      }
      if (buf.length < 5 || buf[0] !== 0x70) return;
      const password = buf.subarray(5, buf.readInt32BE(1)).toString().replace(/\0$/, '');
      const error = `password authentication failed: "${password}" is not the password of the postgres server`;
      sock.end(message('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', '28P01'), field('M', error), Buffer.from([0])])));
    });
  });
  await new Promise<void>((r) => pg.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await api.close();
  await new Promise((r) => pg.close(r));
  await db.drop();
  work.remove();
});

const project = `
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination hook : webhook {
  url "https://hooks.example.com"
  header_x_key env("HOOK_KEY")
  header_x_newline env("HOOK_NEWLINE")
  header_authorization env("HOOK_TOKEN")
  header_x_password env("HOOK_PASSWORD")
  header_x_quoted env("HOOK_QUOTED")
  header_x_currency env("HOOK_CURRENCY")
}
sync to_hook { from people to hook mode insert identifier id map { email -> email } }
`;

it('every echo of every credential is redacted, in the output and in the report', async () => {
  const build = await compileText(project);
  const report = join(work.dir, 'report.json');
  const r = await cli(
    ['run', '--plan', join(build, 'to_hook', 'plan.json'), '--db', db.folder as string, '--endpoint', `hook=${api.url}`, '--report', report],
    {
      HOOK_KEY: KEY,
      HOOK_NEWLINE: NEWLINE_KEY,
      HOOK_TOKEN: TOKEN,
      HOOK_PASSWORD: PASSWORD,
      HOOK_QUOTED: QUOTED,
      HOOK_CURRENCY: 'USD\n',
    },
  );
  const reasons = (JSON.parse(readFileSync(report, 'utf8')) as { plans: { rejected: { key: string; reason: string }[] }[] }).plans[0]!.rejected;
  expect(reasons).toHaveLength(echoes.length);
  const last = String(echoes.length);
  expect(reasons.filter((x) => x.key !== last && !x.reason.includes('[redacted]'))).toEqual([]);
  expect(reasons.find((x) => x.key === last)?.reason).toBe('HTTP 400: amount 12.00 USD (USD 12.00)');
  const shown = `${r.out}\n${r.err}\n${readFileSync(report, 'utf8')}\n${reasons.map((x) => x.reason).join('\n')}`;
  const looked = [
    KEY,
    'wJalrXUtnFEMI',
    b64(KEY).slice(0, 24),
    NEWLINE_KEY.trim(),
    'tok"en',
    'tok\\"en',
    'with-quote',
    'correct horse',
    'correct  horse',
    'battery',
    "ss'word",
    'MDENG',
  ];
  expect(looked.filter((s) => shown.includes(s))).toEqual([]);
});

it('the report stays JSON where a variable the plan names holds a word or a number JSON writes (true, null, a count)', async () => {
  const build = await compileText(project);
  const report = join(work.dir, 'report-words.json');
  const r = await cli(
    ['run', '--plan', join(build, 'to_hook', 'plan.json'), '--db', db.folder as string, '--endpoint', `hook=${api.url}`, '--report', report],
    { HOOK_KEY: 'true', HOOK_NEWLINE: 'false', HOOK_TOKEN: 'null', HOOK_PASSWORD: KEY, HOOK_QUOTED: QUOTED, HOOK_CURRENCY: 'USD\n' },
  );
  const text = readFileSync(report, 'utf8');
  // Before, every `true`, `false` and `null` of the report was replaced by [redacted]: no JSON reader took it.
  const parsed = JSON.parse(text) as { exitCode: number; plans: { rejected: unknown[] }[] };
  expect(parsed.exitCode).toBe(r.code);
  expect(parsed.plans[0]!.rejected).toHaveLength(echoes.length);
  expect(text).not.toContain('MDENG');
  // A number that is a secret is written as the word, and the JSON around it stays JSON; a count that only holds its digits stays a count.
  const secrets = new Redactor();
  secrets.add('31298760');
  expect(JSON.stringify(secrets.redactValues({ project: 31298760, ms: 131298760, rows: 12, ok: true }))).toBe(
    '{"project":"[redacted]","ms":131298760,"rows":12,"ok":true}',
  );
});

it('a password PGPASSWORD gives is redacted as one of --database is, with the server in the settings or in a URL without a password', async () => {
  const build = await compileText(project);
  const port = String((pg.address() as { port: number }).port);
  for (const args of [[], ['--database', `postgres://sync@127.0.0.1:${port}/app`]]) {
    const r = await cli(
      ['run', '--plan', join(build, 'to_hook', 'plan.json'), ...args],
      { PGHOST: '127.0.0.1', PGPORT: port, PGUSER: 'sync', PGPASSWORD: 'pg-Secret-Passw0rd-2024' },
      work.dir,
    );
    expect(r.code).toBe(6);
    expect(`${r.out}\n${r.err}`).toContain('[redacted]');
    expect(`${r.out}\n${r.err}`).not.toContain('Passw0rd');
  }
});

it("the password file's password for the connection is redacted, and only that one", async () => {
  const build = await compileText(project);
  const port = String((pg.address() as { port: number }).port);
  const passfile = join(work.dir, 'pgpass');
  // Another server's entry, a word the output holds ("postgres://..."), is no secret of this run.
  writeFileSync(passfile, `otherhost:5432:*:postgres:postgres\n127.0.0.1:${port}:app:sync:pg-File-Passw0rd-2024\n`);
  chmodSync(passfile, 0o600);
  for (const args of [[], ['--database', `postgres://sync@127.0.0.1:${port}/app`]]) {
    const r = await cli(
      ['run', '--plan', join(build, 'to_hook', 'plan.json'), ...args],
      { PGHOST: '127.0.0.1', PGPORT: port, PGUSER: 'sync', PGDATABASE: 'app', PGPASSFILE: passfile },
      work.dir,
    );
    expect(r.code).toBe(6);
    expect(`${r.out}\n${r.err}`).toContain('[redacted]');
    expect(`${r.out}\n${r.err}`).not.toContain('File-Passw0rd');
    expect(`${r.out}\n${r.err}`).toContain('the password of the postgres server');
  }
});

it("a URL's query value is redacted as it was written, a + in it as +, %2B or %2b, and as the space a form decoder reads", () => {
  const secrets = new Redactor();
  secrets.add('http://hooks.example.com/hook?key=Sec/ret+Value1234&v=2');
  const echoes = [
    'Sec/ret+Value1234',
    'Sec%2Fret%2BValue1234',
    'Sec%2fret%2bValue1234',
    'Sec/ret%2BValue1234',
    'Sec/ret%2bValue1234',
    'Sec/ret Value1234',
    'Sec%2Fret+Value1234',
    'Sec%2Fret%20Value1234',
  ];
  expect(echoes.map((e) => secrets.redact(`no such hook: /hook?key=${e}&v=2`))).toEqual(echoes.map(() => 'no such hook: /hook?key=[redacted]&v=2'));
  // Written percent-encoded, it is redacted decoded too.
  secrets.add('http://hooks.example.com/hook?key=An%2Fother%2BValue99');
  expect(secrets.redact('key=An/other+Value99 key=An%2Fother%2BValue99 key=An/other%2BValue99')).toBe('key=[redacted] key=[redacted] key=[redacted]');
});

/** A Salesforce sync run against `sf` (a fake whose sign-in answers as the test wants): its exit code, and all it showed (stdout, stderr, the report). */
async function runSalesforce(sf: { url: string }, name: string): Promise<{ code: number; shown: string }> {
  const build = await compileText(`
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint email string } }
destination sf : salesforce { instance_url "https://acme.my.salesforce.com" client_id "ck" client_secret env("SF_SECRET") refresh_token env("SF_REFRESH") }
sync to_sf { from people to sf object Contact mode upsert identifier email -> Email }
`);
  const report = join(work.dir, `${name}.json`);
  const r = await cli(['run', '--plan', join(build, 'to_sf', 'plan.json'), '--db', db.folder as string, '--endpoint', `sf=${sf.url}`, '--report', report], {
    SF_SECRET: 'sf-client-secret',
    SF_REFRESH: 'sf-refresh-token',
  });
  return { code: r.code, shown: `${r.out}\n${r.err}\n${readFileSync(report, 'utf8')}` };
}

it('a token a sign-in answers, white space and all, is redacted wherever the server echoes it, with its scheme or without', async () => {
  // A Salesforce sign-in whose token holds spaces (no issuer's token should), then data calls whose refusal echoes it without "Bearer".
  const token = 'tok en-with Spaces-2024';
  const sf = await startFakeApi((req: Recorded) =>
    req.path === '/services/oauth2/token'
      ? { status: 200, body: { access_token: token, instance_url: 'https://acme.my.salesforce.com', token_type: 'Bearer' } }
      : {
          status: 401,
          body: [{ message: `Session ${String(req.headers.authorization).replace(/^Bearer /, '')} expired or invalid`, errorCode: 'INVALID_SESSION_ID' }],
        },
  );
  try {
    const { code, shown } = await runSalesforce(sf, 'sf-report');
    expect(code).toBe(3);
    expect(shown).toContain('Session [redacted] expired');
    expect(shown).not.toContain('en-with');
  } finally {
    await sf.close();
  }
});

it('a sign-in whose instance_url is no URL (its token, say) fails the sync without printing the token', async () => {
  const token = 'Tok3nIn5tead0fAnInstance';
  const sf = await startFakeApi(() => ({ status: 200, body: { access_token: token, instance_url: token, token_type: 'Bearer' } }));
  try {
    const { code, shown } = await runSalesforce(sf, 'sf-url-report');
    expect(code).not.toBe(0);
    expect(shown).toContain('[redacted]');
    expect(shown).not.toContain(token);
  } finally {
    await sf.close();
  }
});
