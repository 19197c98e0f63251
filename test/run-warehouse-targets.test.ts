// The target of a warehouse sync checked before its script runs, on Snowflake and BigQuery (the
// local servers, their catalog statements answered by twins over PGlite's catalog,
// test/servers/target-twins.ts): a missing table, a missing column (with a NOT NULL column the
// sync leaves out) and a column of another type each stop the sync with what to do, and nothing
// of the plan is sent; a fitting table runs.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { freshPglite, pgliteCopy } from './support/pglite-template.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/contract/plan.js';
import { runPlans, type Databases, type PlanReport } from '../src/run/index.js';
import { openPgliteSession } from '../src/run/engines/pglite-session.js';
import { lockRowTiming } from '../src/run/locks/sync-lock.js';
import { compileText, execOptions } from './servers/run-harness.js';
import { setupSql, syncProject } from './fixtures/warehouse/scenario.js';
import { scratchFolder } from './servers/scratch-db.js';
import { startSnowflake, type Received, type SnowflakeServer, type Twin } from './servers/snowflake.js';
import { statementTwins } from './servers/snowflake-twin.js';
import { FakeBigQuery } from './servers/bigquery.js';
import { adcFile, teach } from './servers/bigquery-twin.js';

/** The Snowflake account of these tests: a key pair, the endpoint block, and its local server over `db`. */
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const snowflakeEnv = { SNOWFLAKE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
const snowflakeBlock =
  'snowflake { account "acme-prod" user "SYNC" private_key env("SNOWFLAKE_PRIVATE_KEY") database "TEST" schema "PUBLIC" warehouse "WH" role "SYNCER" }';
const snowflakeOn = (db: PGlite, twins: Map<string, Twin>) =>
  startSnowflake({
    db,
    twins,
    account: 'acme-prod',
    user: 'SYNC',
    publicKey,
    context: { database: 'TEST', schema: 'PUBLIC', warehouse: 'WH', role: 'SYNCER' },
  });

/** A run of `sync` whose endpoint `name` is the local Snowflake server: its report and the labels of the statements it sent. */
async function runOn(server: SnowflakeServer, name: string, build: string, sync: string, databases: Databases) {
  const before = server.labels().length;
  const report = await runPlans([join(build, sync, 'plan.json')], databases, execOptions({ env: snowflakeEnv, endpoints: { [name]: server.url } }));
  return { r: report.plans[0] as PlanReport, sent: server.labels().slice(before) };
}

describe('the target of a warehouse sync on Snowflake, checked before its script', () => {
  const source = `source wh : ${snowflakeBlock}`;
  const table = '"Sales Data"."Target ""Q"" Table"';
  let wdb: PGlite;
  let server: SnowflakeServer;
  let build: string;

  beforeAll(async () => {
    const project = syncProject({ kind: 'record', mode: 'mirror' });
    build = await compileText(project.replace('source wh : postgres { database "test" }', source));
    const twin = await compileText(project);
    wdb = await freshPglite();
    await wdb.exec(setupSql());
    server = await snowflakeOn(wdb, statementTwins(build, twin, ['s']));
  });
  afterAll(async () => {
    await server?.close();
    await wdb?.close();
  });

  const run = () => runOn(server, 'wh', build, 's', { byName: {}, folder: '' });
  const checked = ['s/target exists', 's/target columns', 's/target required'];

  it('a missing table, a missing column, a NOT NULL column left out, a column of another type: said with the fix, the script not sent', async () => {
    await wdb.exec(`ALTER TABLE ${table} RENAME TO "Gone"`);
    const missing = await run();
    expect(missing.r.status).toBe('failed');
    expect(missing.r.error).toMatch(
      /^sync s: the target table Sales Data\.Target "Q" Table does not exist on \S+ \(account acme-prod, database TEST\); create it first, for example: CREATE TABLE "Sales Data"\."Target ""Q"" Table" \("Id" BIGINT, "a""b; drop table x; --" VARCHAR, "select" INTEGER\)$/,
    );
    expect(missing.sent.filter((l) => !l.startsWith('lock '))).toEqual(['s/target exists']);
    await wdb.exec(`ALTER TABLE "Sales Data"."Gone" RENAME TO "Target ""Q"" Table"`);

    await wdb.exec(`ALTER TABLE ${table} RENAME COLUMN "select" TO "Select"; ALTER TABLE ${table} ADD COLUMN "owner" text NOT NULL DEFAULT 'o'`);
    await wdb.exec(`ALTER TABLE ${table} ALTER COLUMN "owner" DROP DEFAULT`);
    const column = await run();
    expect(column.r.status).toBe('failed');
    expect(column.r.error).toContain(
      `cannot take the sync's rows; nothing was run: it has no column select (from the model's column Order): ALTER TABLE ${table} ADD COLUMN "select" INTEGER; its column owner is NOT NULL without a default, and the sync does not write it: map a model column to it, or give it a default`,
    );
    expect(column.sent.filter((l) => !l.startsWith('lock '))).toEqual(checked);
    await wdb.exec(`ALTER TABLE ${table} RENAME COLUMN "Select" TO "select"; ALTER TABLE ${table} DROP COLUMN "owner"`);

    await wdb.exec(`ALTER TABLE ${table} ALTER COLUMN "select" TYPE text`);
    const typed = await run();
    expect(typed.r.error).toContain(
      `nothing was run: its column select is TEXT, but the sync writes INTEGER (from the model's column Order): change the column's type (or the model's)`,
    );
    expect(typed.sent.filter((l) => !l.startsWith('lock '))).toEqual(checked);
    await wdb.exec(`ALTER TABLE ${table} ALTER COLUMN "select" TYPE int USING "select"::int`);

    const fits = await run();
    expect(fits.r.status, fits.r.error).toBe('ok');
    expect(fits.sent.filter((l) => !l.startsWith('lock '))).toEqual([...checked, 's/apply.sql']);
    expect(fits.r.steps[0]?.result?.[0]).toMatchObject({ inserted: 3, updated: 1, deleted: 1 });
    // The statements were sent as their documented requests: the columns as one JSON text, bound as TEXT.
    const columns = server.received.filter((q) => q.label === 's/target columns').at(-1);
    expect(columns?.bindings?.['1']).toEqual({
      type: 'TEXT',
      value: JSON.stringify([
        { name: 'Id', type: 'BIGINT' },
        { name: 'a"b; drop table x; --', type: 'VARCHAR' },
        { name: 'select', type: 'INTEGER' },
      ]),
    });
    expect(server.unexpected).toEqual([]);
  });
});

/**
 * A sync from a Postgres source into the warehouse `destination` (a block) declares, and the source's
 * rows. Quoted names: the warehouse's target and its Postgres twin are the same tables.
 */
const usersProject = (destination: string) => `source app : postgres { database "app" }
destination dw : ${destination}
model users {
  from app
  table app.users
  columns { user_id bigint  email string  ltv decimal(12, 2)  updated_at timestamp }
}
sync users_to_dw {
  from users
  to dw table "crm"."users"
  mode mirror
  identifier user_id -> "id"
  map { email -> "email"  ltv -> "ltv"  updated_at -> "updated_at" }
  guard deletes <= 50%
}
`;
const twinDestination = 'postgres { host "dw.internal" database "dw" user "loader" password env("DW_PASSWORD") }';
async function seedUsers(folder: string, rows: number): Promise<void> {
  const app = await openPgliteSession(folder);
  await app.script(
    `CREATE SCHEMA app; CREATE TABLE app.users (user_id bigint PRIMARY KEY, email text NOT NULL, ltv numeric(12, 2), updated_at timestamp);
     INSERT INTO app.users SELECT g, 'u' || g || '@example.com', g * 1.5, timestamp '2024-01-01' + make_interval(mins => g) FROM generate_series(1, ${rows}) g`,
  );
  await app.close();
}

describe('the target of a warehouse sync on BigQuery, checked before the load and its script', () => {
  let engine: PGlite;
  let bq: FakeBigQuery;
  let build: string;
  let env: Record<string, string>;
  const source = { dir: pgliteCopy(scratchFolder('syncwright-app-').dir) };

  beforeAll(async () => {
    engine = await freshPglite();
    await engine.exec(`CREATE SCHEMA crm; CREATE TABLE crm.users (id bigint, email text, ltv numeric(12, 2), updated_at timestamptz)`);
    bq = await new FakeBigQuery(engine, 'acme-dw', 'US', 'subject-token-targets').start();
    let pgBuild: string;
    [build, pgBuild] = await Promise.all([
      compileText(usersProject('bigquery { project "acme-dw" location "US" }')),
      compileText(usersProject(twinDestination)),
    ]);
    teach(bq, build, pgBuild, 'users_to_dw');
    await seedUsers(source.dir, 20);
    env = { GOOGLE_APPLICATION_CREDENTIALS: adcFile(bq, 'subject-token-targets') };
  });
  afterAll(async () => {
    await bq?.api.close();
    await engine?.close();
  });

  const run = async () => {
    const before = bq.ranFor('users_to_dw').length;
    const report = await runPlans(
      [join(build, 'users_to_dw', 'plan.json')],
      { byName: {}, folder: source.dir, embedded: true },
      execOptions({ env, endpoints: { dw: bq.api.url } }),
    );
    const sent = bq
      .ranFor('users_to_dw')
      .slice(before)
      .filter((l) => !l.startsWith('lock ') && l !== 'close');
    return { r: report.plans[0] as PlanReport, sent };
  };
  const checked = ['target exists', 'target columns', 'target required'];

  it('a missing table, a missing column, a column of another type: said with the fix, nothing loaded or run', async () => {
    await engine.exec('ALTER TABLE crm.users RENAME TO users_gone');
    const noTable = await run();
    expect(noTable.r.status).toBe('failed');
    expect(noTable.r.error).toMatch(
      /^sync users_to_dw: the target table crm\.users does not exist on .*; create it first, for example: CREATE TABLE `crm`\.`users` \(`id` INT64, `email` STRING, `ltv` NUMERIC\(12, 2\), `updated_at` TIMESTAMP\)$/,
    );
    expect(noTable.sent).toEqual(['target exists']);
    await engine.exec('ALTER TABLE crm.users_gone RENAME TO users');

    await engine.exec('ALTER TABLE crm.users RENAME COLUMN ltv TO value');
    const column = await run();
    expect(column.r.status).toBe('failed');
    expect(column.r.error).toContain(
      "nothing was run: it has no column ltv (from the model's column ltv): ALTER TABLE `crm`.`users` ADD COLUMN `ltv` NUMERIC(12, 2)",
    );
    expect(column.sent).toEqual(checked);
    await engine.exec('ALTER TABLE crm.users RENAME COLUMN value TO ltv');

    await engine.exec('ALTER TABLE crm.users ALTER COLUMN updated_at TYPE text');
    const typed = await run();
    expect(typed.r.error).toContain(
      "nothing was run: its column updated_at is STRING, but the sync writes TIMESTAMP (from the model's column updated_at): change the column's type (or the model's)",
    );
    expect(typed.sent).toEqual(checked);
    await engine.exec('ALTER TABLE crm.users ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz');

    // Of the kind but narrower: BigQuery would round the values on every write.
    const narrower = (actual: string) =>
      `nothing was run: its column ltv is ${actual}, narrower than the NUMERIC(12, 2) the sync writes (from the model's column ltv): it would round the values, and every run would find them changed and write them again; give the column the type the sync writes (or change the model's)`;
    await engine.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE numeric(12, 1)');
    const scale = await run();
    expect(scale.r.error).toContain(narrower('NUMERIC(12, 1)'));
    expect(scale.sent).toEqual(checked);
    await engine.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE bigint');
    const whole = await run();
    expect(whole.r.error).toContain(narrower('INT64'));
    expect(whole.sent).toEqual(checked);
    await engine.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE numeric(12, 2)');

    const fits = await run();
    expect(fits.r.status, fits.r.error).toBe('ok');
    expect(fits.sent).toEqual([...checked, 'load create', 'load insert', 'apply.sql']);
    expect(bq.refused).toEqual([]);
  });
});

describe('a cross-warehouse load from Postgres into Snowflake', () => {
  const rows = 1200;
  let wdb: PGlite;
  let server: SnowflakeServer;
  let build: string;
  const source = { dir: pgliteCopy(scratchFolder('syncwright-app-').dir) };

  beforeAll(async () => {
    build = await compileText(usersProject(snowflakeBlock));
    const twin = await compileText(usersProject(twinDestination));
    wdb = await freshPglite();
    await wdb.exec('CREATE SCHEMA crm; CREATE TABLE crm.users (id bigint, email text, ltv numeric(12, 2), updated_at timestamp)');
    server = await snowflakeOn(wdb, statementTwins(build, twin, ['users_to_dw']));
    await seedUsers(source.dir, rows);
  });
  afterAll(async () => {
    await server?.close();
    await wdb?.close();
  });

  const run = async () => {
    const { r, sent } = await runOn(server, 'dw', build, 'users_to_dw', { byName: {}, folder: source.dir, embedded: true });
    const planned = sent.filter((l) => !l.startsWith('lock ') && !l.includes('/target '));
    return { r, sent: planned, loaded: r.steps.find((s) => s.kind === 'load')?.rows, result: r.steps.at(-1)?.result?.[0] };
  };
  const loadTables = async () =>
    (await wdb.query<{ name: string }>(`SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_name LIKE 'sw_load%'`))
      .rows;
  const target = async () => (await wdb.query<{ n: number; ltv: string }>('SELECT count(*)::int AS n, sum(ltv)::text AS ltv FROM crm.users')).rows[0];
  const loadRun = ['users_to_dw/load create', 'users_to_dw/load insert', 'users_to_dw/apply.sql', 'users_to_dw/load drop'];
  const app = async (script: string) => {
    const s = await openPgliteSession(source.dir);
    await s.script(script);
    await s.close();
  };

  it('first run, unchanged rerun, changed rerun: the summary row of each; the load table is dropped after each, and after a failed apply', async () => {
    const plan = JSON.parse(readFileSync(join(build, 'users_to_dw', 'plan.json'), 'utf8')) as Plan;
    expect(plan.steps.find((s) => s.kind === 'load')).toMatchObject({
      table: 'crm.sw_load_users_to_dw',
      create: expect.stringMatching(/^CREATE OR REPLACE TRANSIENT TABLE "crm"\."sw_load_users_to_dw" \(/),
      drop: 'DROP TABLE IF EXISTS "crm"."sw_load_users_to_dw"',
    });

    // On a machine east of UTC: the drivers would read a timestamp without zone in local time,
    // and its bind (in UTC) would shift it by the offset.
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    const first = await run().finally(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });
    expect(first.r.status, first.r.error).toBe('ok');
    expect((await wdb.query<{ t: string }>("SELECT to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS t FROM crm.users WHERE id = 1")).rows).toEqual([
      { t: '2024-01-01 00:01:00' },
    ]);
    expect(first.sent).toEqual(loadRun);
    expect(first.loaded).toBe(rows);
    expect(first.result).toMatchObject({ inserted: rows, updated: 0, deleted: 0 });
    expect(await target()).toEqual({ n: rows, ltv: String((rows * (rows + 1) * 1.5) / 2) + '.00' });
    expect(await loadTables()).toEqual([]);
    // The rows went by array binding: one request for the batch, each column an array of text,
    // a timestamp as Postgres writes it (exact-text.ts).
    const insert = server.received.find((q) => q.label === 'users_to_dw/load insert');
    expect(insert?.bindings?.['1']?.value).toHaveLength(rows);
    expect(insert?.bindings?.['4']?.value).toContain('2024-01-01 00:01:00');

    const unchanged = await run();
    expect(unchanged.result).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect(await loadTables()).toEqual([]);

    await app(
      `UPDATE app.users SET email = 'new@example.com' WHERE user_id = 3; DELETE FROM app.users WHERE user_id = 4; INSERT INTO app.users VALUES (${rows + 1}, 'x@example.com', 1, now())`,
    );
    const changed = await run();
    expect(changed.result).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
    expect((await wdb.query('SELECT id, email FROM crm.users WHERE id IN (3, 4, $1) ORDER BY id', [rows + 1])).rows).toEqual([
      { id: 3, email: 'new@example.com' },
      { id: rows + 1, email: 'x@example.com' },
    ]);
    expect(await loadTables()).toEqual([]);

    // apply.sql fails (Snowflake cancels it): nothing changes, and the load table is dropped all the same.
    await app('UPDATE app.users SET ltv = 0 WHERE user_id = 5');
    const before = await target();
    server.cancel.set('users_to_dw/apply.sql', { skip: 0 });
    const failed = await run();
    expect(failed.r.status).toBe('failed');
    expect(failed.r.error).toContain('canceled');
    expect(failed.sent).toEqual(loadRun);
    expect(await target()).toEqual(before);
    expect(await loadTables()).toEqual([]);

    // A crashed run's table (here: one of another shape) is replaced by the next run, then dropped.
    await wdb.exec('CREATE TABLE crm.sw_load_users_to_dw (leftover int); INSERT INTO crm.sw_load_users_to_dw VALUES (1)');
    const after = await run();
    expect(after.r.status, after.r.error).toBe('ok');
    expect(after.result).toMatchObject({ inserted: 0, updated: 1, deleted: 0 });
    expect(await loadTables()).toEqual([]);
    expect(server.unexpected).toEqual([]);
  });

  it("a run whose lock row lapsed and was taken over stops before its load: the target and the new holder's load table are left alone", async () => {
    const plan = JSON.parse(readFileSync(join(build, 'users_to_dw', 'plan.json'), 'utf8')) as Plan;
    // Run 2 reads a source of its own (the embedded database takes one process at a time), of 10 more users (more rows than the target: the mirror's guard lets it through).
    const other = pgliteCopy(scratchFolder('syncwright-app-').dir);
    const more = rows + 10;
    await seedUsers(other, more);
    const on = (folder: string) => runOn(server, 'dw', build, 'users_to_dw', { byName: {}, folder, embedded: true });
    const before = await target();
    const from = server.received.length;
    const labels = () => server.received.slice(from).map((q) => q.label);
    const firstOwner = () => server.received.slice(from).find((q) => q.label === 'lock take')?.bindings?.['1']?.value;
    // Run 1 is held on its last read before the load, and so are its renewals (a run paused longer
    // than its lease); run 2 is held on its apply.sql, its rows loaded into the sync's load table.
    const paused = gate();
    const renewals = gate();
    const applying = gate();
    server.hold = (q: Received) => {
      if (q.label === 'users_to_dw/target required') return paused.first();
      if (q.label === 'lock renew' && q.bindings?.['3']?.value === firstOwner()) return renewals.every();
      if (q.label === 'users_to_dw/apply.sql') return applying.first();
      return undefined;
    };
    lockRowTiming.renewMs = 50;
    try {
      const first = on(source.dir);
      await Promise.all([paused.reached, renewals.reached]);
      // Its lease lapses, and run 2 takes the row over.
      await wdb.query(`UPDATE ${plan.lock.table} SET expires_at = now() - interval '1 second'`);
      const second = on(other);
      await applying.reached;
      renewals.open();
      paused.open();
      const { r: lost } = await first;
      expect(lost.status).toBe('busy');
      expect(lost.error).toMatch(
        /^sync users_to_dw lost its lock: another run \(.+\) took the lock row in .*syncwright_locks.* over after this run's lease lapsed\. This run stopped before the load into crm\.sw_load_users_to_dw; /,
      );
      // Run 1 wrote nothing: the target as it was, run 2's load table whole.
      expect(await target()).toEqual(before);
      expect(await loadTables()).toEqual([{ name: 'crm.sw_load_users_to_dw' }]);
      expect((await wdb.query('SELECT count(*)::int AS n FROM crm.sw_load_users_to_dw')).rows).toEqual([{ n: more }]);
      applying.open();
      const { r: done } = await second;
      expect(done.status, done.error).toBe('ok');
      expect(done.steps.find((s) => s.kind === 'load')?.rows).toBe(more);
      expect(await target()).toMatchObject({ n: more });
      expect(await loadTables()).toEqual([]);
      // One load, one apply, one drop: run 2's.
      expect(labels().filter((l) => /\/(load create|apply\.sql|load drop)$/.test(l))).toEqual([
        'users_to_dw/load create',
        'users_to_dw/apply.sql',
        'users_to_dw/load drop',
      ]);
      expect(server.unexpected).toEqual([]);
    } finally {
      server.hold = undefined;
      lockRowTiming.renewMs = 60_000;
      for (const g of [paused, renewals, applying]) g.open();
    }
  });

  it('a column of the kind but narrower (fewer decimals, a whole number for a decimal, a date for a timestamp) stops the sync before its load, with the fix', async () => {
    const said = (column: string, actual: string, written: string) =>
      `its column ${column} is ${actual}, narrower than the ${written} the sync writes (from the model's column ${column}): it would round the values, and every run would find them changed and write them again; give the column the type the sync writes (or change the model's)`;
    await wdb.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE numeric(12, 1)');
    const scale = await run();
    expect(scale.r.status).toBe('failed');
    expect(scale.r.error).toContain(`nothing was run: ${said('ltv', 'NUMBER(12, 1)', 'NUMBER(12, 2)')}`);
    expect(scale.r.error).not.toContain('column updated_at');
    expect(scale.sent).toEqual([]);
    await wdb.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE bigint, ALTER COLUMN updated_at TYPE date');
    const whole = await run();
    expect(whole.r.error).toContain(`nothing was run: ${said('ltv', 'NUMBER(38, 0)', 'NUMBER(12, 2)')}; ${said('updated_at', 'DATE', 'TIMESTAMP_NTZ')}`);
    expect(whole.sent).toEqual([]);
    // Wider: more decimals, a timestamp.
    await wdb.exec('ALTER TABLE crm.users ALTER COLUMN ltv TYPE numeric(14, 4), ALTER COLUMN updated_at TYPE timestamp');
    const wider = await run();
    expect(wider.r.status, wider.r.error).toBe('ok');
    expect(wider.sent).toEqual(loadRun);
    expect(server.unexpected).toEqual([]);
  });
});

/** Statements the server holds until `open`: `first` the first to arrive only, `every` each; `reached` once one has. */
function gate() {
  let arrive = () => {};
  let open = () => {};
  const reached = new Promise<void>((r) => (arrive = r));
  const opened = new Promise<void>((r) => (open = r));
  let taken = false;
  const every = () => {
    arrive();
    return opened;
  };
  return {
    reached,
    open: () => open(),
    every,
    first: () => {
      if (taken) return undefined;
      taken = true;
      return every();
    },
  };
}
