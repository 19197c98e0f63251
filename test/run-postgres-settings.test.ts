// Each case keeps its sync's state in a schema of its own, so each first run sends every row.
// A Postgres source is found where its settings, its service or the PG* variables say, as
// libpq finds it; `--database` only overrides. Before, they were ignored and the run used an
// empty embedded database.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverOf, serviceSection } from '../src/run/engines/pg-settings.js';
import { openPgSession } from '../src/run/engines/pg-session.js';
import type { ClientConfig } from 'pg';
import type { PlanEndpoint } from '../src/contract/plan.js';
import { cli, compileText, sql } from './servers/run-harness.js';
import { pgUrl, scratchFolder, scratchPostgres, type ScratchDb } from './servers/scratch-db.js';

let db: ScratchDb;
const work = scratchFolder('syncwright-pgsettings-');

beforeAll(async () => {
  if (!pgUrl) throw new Error('SYNCWRIGHT_TEST_PG_URL is not set: this suite needs the PostgreSQL test server');
  db = await scratchPostgres(pgUrl);
  await sql(
    db,
    `CREATE SCHEMA crm; CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL);
    INSERT INTO crm.people SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 5) g;`,
  );
});
afterAll(async () => {
  await db?.drop();
  work.remove();
});

const syncs = (source: string) => `${source}
destination bus : kafka { brokers "127.0.0.1:9" }
model people { from warehouse  table crm.people  primary key id  columns { id bigint  email string } }
sync people_to_bus { from people  to bus topic people  mode insert  identifier id  map { email -> email } }`;

/** Runs the sync from a folder of its own (so an embedded database would be made there), messages to a sink folder. */
async function runIn(name: string, source: string, env: Record<string, string>) {
  const build = await compileText(syncs(source));
  const cwd = join(work.dir, name);
  const r = await cli(['run', '--plan', join(build, 'people_to_bus', 'plan.json'), '--sink', 'sink'], env, cwd);
  const messages = existsSync(join(cwd, 'sink', 'kafka', 'people.jsonl'))
    ? readFileSync(join(cwd, 'sink', 'kafka', 'people.jsonl'), 'utf8')
        .trimEnd()
        .split('\n')
    : [];
  return { ...r, messages, embedded: existsSync(join(cwd, '.syncwright', 'db')) };
}

describe('where a Postgres source is', () => {
  const u = () => new URL(db.url as string);

  it('runs on the server its settings name (host, port, user, database), not on an empty embedded database', async () => {
    const { hostname, port, username, pathname } = u();
    const r = await runIn(
      'settings',
      `source warehouse : postgres { host "${hostname}"  port ${port}  user "${username}"  database "${pathname.slice(1)}" }`,
      {},
    );
    expect(r.code, r.err).toBe(0);
    expect(r.messages).toHaveLength(5);
    expect(r.embedded).toBe(false);
  });

  it('reads settings given as env("X") from the environment: they were ignored, and the run went to PG* or the embedded database', async () => {
    const { hostname, port, username, pathname } = u();
    const source = `source warehouse : postgres { host env("APP_HOST")  port env("APP_PORT")  user env("APP_USER")  database env("APP_DB")  state_schema "by_env_settings" }`;
    const env = { APP_HOST: hostname, APP_PORT: port, APP_USER: username, APP_DB: pathname.slice(1), PGDATABASE: 'not_this_one' };
    const r = await runIn('env-settings', source, env);
    expect(r.code, r.err).toBe(0);
    expect(r.messages).toHaveLength(5);
    expect(r.embedded).toBe(false);
    // An unset one stops the run before it reads anything, where it would have fallen back to PGDATABASE.
    const unset = await runIn('env-unset', source, { ...env, APP_DB: '' });
    expect(unset.code).not.toBe(0);
    expect(unset.err + unset.out).toContain('environment variable APP_DB is not set (the database of warehouse)');
    expect(unset.messages).toHaveLength(0);
  });

  it('runs where PGHOST, PGPORT and PGUSER say, or a service of PGSERVICEFILE; --database overrides', async () => {
    const { hostname, port, username, pathname } = u();
    // The catalog requires `database`; the rest comes from the environment.
    const source = (state: string) => `source warehouse : postgres { database "${pathname.slice(1)}"  state_schema "${state}" }`;
    const byEnv = await runIn('env', source('by_env'), { PGHOST: hostname, PGPORT: port, PGUSER: username });
    expect(byEnv.code, byEnv.err).toBe(0);
    expect(byEnv.messages).toHaveLength(5);

    const serviceFile = join(work.dir, 'pg_service.conf');
    writeFileSync(serviceFile, `# test services\n[other]\nhost=192.0.2.1\n\n[warehouse]\nhost=${hostname}\nport=${port}\nuser=${username}\n`);
    const byService = await runIn('service', source('by_service'), { PGSERVICEFILE: serviceFile, PGSERVICE: 'warehouse' });
    expect(byService.code, byService.err).toBe(0);
    expect(byService.messages).toHaveLength(5);

    // The settings name a host that answers nothing; --database wins.
    const build = await compileText(syncs('source warehouse : postgres { host "192.0.2.1"  database "nowhere"  state_schema "overridden" }'));
    const cwd = join(work.dir, 'override');
    const over = await cli(['run', '--plan', join(build, 'people_to_bus', 'plan.json'), '--sink', 'sink', '--database', `warehouse=${db.url}`], {}, cwd);
    expect(over.code, over.err).toBe(0);
    expect(
      readFileSync(join(cwd, 'sink', 'kafka', 'people.jsonl'), 'utf8')
        .trimEnd()
        .split('\n'),
    ).toHaveLength(5);
  });

  it('resolves as libpq: settings, then the service, then PG* variables; the password only from the environment or the password file', async () => {
    const endpoint = (settings: PlanEndpoint['settings']): PlanEndpoint => ({ name: 'wh', dialect: 'postgres', settings });
    const file = join(work.dir, 'services.conf');
    writeFileSync(file, '[svc]\nhost=svc.internal\nport=6543\ndbname=svcdb\n');
    const env = {
      PGSERVICEFILE: file,
      PGSERVICE: 'svc',
      PGHOST: 'env.internal',
      PGUSER: 'envuser',
      PGPASSWORD: 'from-pgpassword',
      WH_PASSWORD: 'from-setting',
    };
    expect(serverOf(endpoint({ database: 'app' }), env)?.config).toMatchObject({
      host: 'svc.internal',
      port: 6543,
      database: 'app',
      user: 'envuser',
      password: 'from-pgpassword',
    });
    expect(serverOf(endpoint({ host: 'db.internal', password: { env: 'WH_PASSWORD' } }), env)).toMatchObject({
      config: { host: 'db.internal', database: 'svcdb', password: 'from-setting' },
      location: 'postgres://envuser@db.internal:6543/svcdb',
    });
    // No password anywhere: the password file's, looked up by the host's name as libpq does, also where the connection goes to an address (hostaddr).
    const passfile = join(work.dir, 'pgpass');
    writeFileSync(passfile, 'db.invalid:5432:app:u:by-name\n127.0.0.1:5432:app:u:by-address\nh:5432:u:u:plain\n', { mode: 0o600 });
    const saved = process.env.PGPASSFILE;
    process.env.PGPASSFILE = passfile;
    try {
      const asked = async (config: ClientConfig | undefined) => (typeof config?.password === 'function' ? await config.password() : config?.password);
      expect(await asked(serverOf(endpoint({ host: 'h' }), { PGUSER: 'u' })?.config)).toBe('plain');
      const pinned = serverOf(endpoint({ database: 'app' }), { PGHOST: 'db.invalid', PGHOSTADDR: '127.0.0.1', PGUSER: 'u' })?.config;
      expect(pinned?.host).toBe('127.0.0.1');
      expect(await asked(pinned)).toBe('by-name');
      expect(await asked(serverOf(endpoint({ host: 'nowhere', database: 'app' }), { PGUSER: 'u' })?.config)).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.PGPASSFILE;
      else process.env.PGPASSFILE = saved;
    }
    expect(serverOf(endpoint({ database: 'app' }), {})).toBeUndefined();
    expect(() => serverOf(endpoint({ host: 'h', password: { env: 'MISSING' } }), {})).toThrow('environment variable MISSING is not set (the password of wh)');
    expect(() => serverOf(endpoint({}), { PGSERVICE: 'nope', PGSERVICEFILE: file })).toThrow(/the Postgres service nope \(PGSERVICE\) is not in/);
    // libpq connects to hostaddr where the place that names the server gives one; the host is the certificate's name.
    expect(serverOf(endpoint({ database: 'app' }), { PGHOST: 'db.invalid', PGHOSTADDR: '127.0.0.1', PGSSLMODE: 'verify-full' })?.config).toMatchObject({
      host: '127.0.0.1',
      ssl: { servername: 'db.invalid' },
    });
    expect(serverOf(endpoint({ database: 'app' }), { PGHOSTADDR: '127.0.0.1' })?.config.host).toBe('127.0.0.1');
    // Each read on its own: the service's host is the name, PGHOSTADDR the address.
    expect(serverOf(endpoint({ database: 'app' }), { ...env, PGHOSTADDR: '10.0.0.7', PGSSLMODE: 'verify-ca' })?.config).toMatchObject({
      host: '10.0.0.7',
      ssl: { servername: 'svc.internal' },
    });
    // A host the endpoint names is where it goes, whatever PGHOSTADDR says.
    expect(serverOf(endpoint({ host: 'db.internal', database: 'app' }), { PGHOSTADDR: '127.0.0.1' })?.config.host).toBe('db.internal');
    expect(
      serverOf(endpoint({ host: { env: 'H' }, port: { env: 'P' }, database: { env: 'D' } }), { H: 'h.internal', P: '7000', D: 'envdb' })?.config,
    ).toMatchObject({
      host: 'h.internal',
      port: 7000,
      database: 'envdb',
    });
    expect(() => serverOf(endpoint({ host: 'h', database: { env: 'D' } }), { PGDATABASE: 'other' })).toThrow(
      'environment variable D is not set (the database of wh)',
    );
    expect(serviceSection('[a]\nhost=x\n[b]\nhost=y\n[a]\nport=1\n', 'a')).toEqual({ host: 'x', port: '1' });
  });
});

describe("a run's session on a server notices a peer that vanished", () => {
  // Without keepalives of its own, the server kept the session (and the sync's advisory lock) of a
  // run whose machine died without a word (power loss, a pod gone) until the OS gave up: 7200 s +
  // 9 x 75 s on Linux. The session the run opens sets them: a silent peer is dropped within a minute.
  it("the server probes the run's connection after 30 s idle, every 10 s, 3 times; the zone is still UTC", async () => {
    await sql(
      db,
      `CREATE VIEW crm.run_session AS SELECT 1::bigint AS id, concat_ws(' ', current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count'), current_setting('TimeZone')) AS email`,
    );
    const build = await compileText(`source warehouse : postgres { database "x"  state_schema "keepalive_state" }
destination bus : kafka { brokers "127.0.0.1:9" }
model session { from warehouse  table crm.run_session  primary key id  columns { id bigint  email string } }
sync session_to_bus { from session  to bus topic session  mode insert  identifier id  map { email -> email } }`);
    const cwd = join(work.dir, 'keepalive');
    const r = await cli(['run', '--plan', join(build, 'session_to_bus', 'plan.json'), '--sink', 'sink', '--database', db.url as string], {}, cwd);
    expect(r.code, r.err).toBe(0);
    const [message] = readFileSync(join(cwd, 'sink', 'kafka', 'session.jsonl'), 'utf8')
      .trimEnd()
      .split('\n');
    expect(JSON.parse(message as string)).toMatchObject({ value: { email: '30 10 3 UTC' } });
  });

  // Linux's /proc/net/tcp: the socket's timer (`tr`) is 2 while a keepalive probe is scheduled.
  it.skipIf(!existsSync('/proc/net/tcp'))(
    "the run's own end of the connection sends keepalives too, so a server that vanished fails the statement it waits on",
    async () => {
      const s = await openPgSession(db.url as string);
      try {
        const [{ port }] = (await s.query('SELECT client_port AS port FROM pg_stat_activity WHERE pid = pg_backend_pid()')) as [{ port: number }];
        expect(port, 'the test server is reached over TCP').toBeGreaterThan(0);
        const hex = (n: number | string) => Number(n).toString(16).toUpperCase().padStart(4, '0');
        const ours = `:${hex(port)}`;
        const theirs = `:${hex(new URL(db.url as string).port || 5432)}`;
        const row = ['/proc/net/tcp', '/proc/net/tcp6']
          .flatMap((file) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []))
          .map((line) => line.trim().split(/\s+/))
          .find((f) => f[1]?.endsWith(ours) && f[2]?.endsWith(theirs));
        expect(row, `no socket from port ${port} in /proc/net/tcp`).toBeDefined();
        // Field 5 is "tr:when": the timer and the jiffies until it fires.
        expect(row?.[5]?.split(':')[0]).toBe('02');
      } finally {
        await s.close();
      }
    },
  );
});
