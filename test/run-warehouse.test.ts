// Warehouse plans run by the executor end in the same tables, with the same summary, as the
// compiled script run whole (as psql -f runs it, and as the warehouse tests check it), on
// every engine the tests have; guards abort; other engines' plans are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberRows, setupSql, syncProject, targetRows } from './fixtures/warehouse/scenario.js';
import { compileText, execOptions, openDb, runSync, sql } from './servers/run-harness.js';
import { runPlans, type PlanReport } from '../src/run/index.js';
import type { SqlSession } from '../src/run/engines/sql-session.js';
import { scratchEngines, type ScratchDb } from './servers/scratch-db.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The target's and the membership table's rows, in one list, for the tables of schema `schema`. */
const tables = (
  schema = 'Sales Data',
) => `SELECT 'target' AS t, "Id" AS id, "a""b; drop table x; --" AS name, "select" AS ord, NULL AS audience FROM "${schema}"."Target ""Q"" Table"
  UNION ALL SELECT 'members', "Id", "a""b; drop table x; --", "select", audience FROM "${schema}"."Members" ORDER BY 1, 5, 2`;

const cases = [
  { kind: 'record', mode: 'upsert' },
  { kind: 'record', mode: 'insert' },
  { kind: 'record', mode: 'update' },
  { kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' },
  { kind: 'audience', mode: 'add' },
  { kind: 'audience', mode: 'remove', guard: 'guard deletes <= 2' },
  { kind: 'audience', mode: 'mirror', guard: 'guard deletes <= 2' },
  { kind: 'audience', mode: 'upsert' },
] as const;

const numbers = (row: Record<string, unknown> | undefined) => Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));

/**
 * Builds by project text and Postgres version: the engines' describes compile the same
 * projects (a plan run writes nothing into its build).
 */
const builds = new Map<string, Promise<string>>();
function compiled(text: string, version: number): Promise<string> {
  const key = `${version}\u0000${text}`;
  let build = builds.get(key);
  if (!build) {
    build = compileText(text, version);
    builds.set(key, build);
  }
  return build;
}

/**
 * The script run whole in `session`, on the tables of `schema`: the final tables and its last
 * statement's row; then those tables seeded afresh for the executor's run.
 */
async function direct(session: SqlSession, build: string, schema = 'Sales Data'): Promise<{ rows: unknown[]; summary: Record<string, number> }> {
  const results = await session.script(setupSql(schema) + readFileSync(join(build, 's', 'apply.sql'), 'utf8'));
  const summary = numbers(results.filter((r) => r.length).at(-1)?.[0]);
  const rows = (await session.script(tables(schema)))[0] ?? [];
  await session.script(setupSql(schema));
  return { rows, summary };
}

/** `direct` in a session of its own (an open is most of the time). */
async function directAlone(db: ScratchDb, build: string): Promise<{ rows: unknown[]; summary: Record<string, number> }> {
  const session = await openDb(db);
  try {
    return await direct(session, build);
  } finally {
    await session.close();
  }
}

const databases = (db: ScratchDb) => ({ ...(db.url ? { default: db.url } : {}), byName: {}, folder: db.folder ?? '', embedded: !db.url });

for (const engine of scratchEngines) {
  describe(`warehouse plans run by the executor [${engine.name}]`, () => {
    // The embedded database is Postgres 17: it runs the scripts for 15 (anti-join DELETE) and 17 (BY SOURCE).
    const versions = engine.name === 'pglite' ? [15, 17] : [15];

    /**
     * Every case on every version, each on tables of its own (a schema per case and version), so
     * that one open of the database runs every script whole, one run (one runPlans, as a run of
     * a project's syncs) runs every plan, one session reads every plan's tables, and the same
     * again for the rerun: an open of the embedded database is most of a plan's time.
     */
    const runs = cases.flatMap((c, i) =>
      versions.map((version) => ({
        c,
        version,
        schema: `Sales Data ${i + 1} v${version}`,
        build: '',
        expected: { rows: [] as unknown[], summary: {} as Record<string, number> },
      })),
    );
    let db: ScratchDb | undefined;
    let first: PlanReport[] = [];
    let again: PlanReport[] = [];
    let afterFirst: unknown[][] = [];
    let afterAgain: unknown[][] = [];
    const plans = () => runs.map((r) => join(r.build, 's', 'plan.json'));
    // Each schema's tables: one statement per run, in the order of `runs`.
    const read = async () => (await sql(db as ScratchDb, runs.map((r) => tables(r.schema)).join(';\n'))).map((rows) => rows as unknown[]);
    beforeAll(async () => {
      db = await engine.open();
      for (const r of runs)
        r.build = await compiled(syncProject({ kind: r.c.kind, mode: r.c.mode, schema: r.schema, ...('guard' in r.c ? { guard: r.c.guard } : {}) }), r.version);
      const session = await openDb(db);
      try {
        for (const r of runs) r.expected = await direct(session, r.build, r.schema);
      } finally {
        await session.close();
      }
      first = (await runPlans(plans(), databases(db), execOptions())).plans;
      afterFirst = await read();
      again = (await runPlans(plans(), databases(db), execOptions())).plans;
      afterAgain = await read();
    });
    afterAll(() => db?.drop());

    for (const c of cases) {
      it(`${c.kind} ${c.mode}: the same tables and summary as the script run whole; a rerun writes nothing`, () => {
        for (const version of versions) {
          const i = runs.findIndex((x) => x.c === c && x.version === version);
          const { expected } = runs[i] as (typeof runs)[number];
          const r = first[i] as PlanReport;
          expect(r.status, r.error).toBe('ok');
          expect(r.steps.map((s) => s.operation)).toEqual(['apply.sql']);
          expect(numbers(r.steps[0]?.result?.[0]), `Postgres ${version}`).toEqual(expected.summary);
          expect(afterFirst[i]).toEqual(expected.rows);
          expect(numbers(again[i]?.steps[0]?.result?.[0])).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
          expect(afterAgain[i]).toEqual(expected.rows);
        }
      });
    }

    it('into another Postgres: the extract streams into the load table, then apply runs in that session', async () => {
      const db = await engine.open();
      try {
        const text = syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' })
          .replace('to wh table', 'to dw table')
          .replace(
            'source wh : postgres { database "test" }',
            'source wh : postgres { database "test" }\ndestination dw : postgres { host "dw" database "dw" user "u" password env("DW_PASSWORD") }',
          );
        const build = await compileText(text, 15);
        const same = await compiled(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' }), 15);
        const expected = await directAlone(db, same);
        const r = await runSync(db, build, 's');
        expect(r.status, r.error).toBe('ok');
        expect(r.steps.map((s) => s.kind)).toEqual(['load', 'sql']);
        // Every model row travels; the apply script drops NULL and duplicate keys, as in one warehouse.
        expect(r.steps[0]).toMatchObject({ rows: 8 });
        expect(numbers(r.steps[1]?.result?.[0])).toEqual(expected.summary);
        expect((await sql(db, tables()))[0]).toEqual(expected.rows);
        // The plans of a run share the session of each database: a second load into it in the
        // same run makes its own load table, whatever the first left there.
        const plan = join(build, 's', 'plan.json');
        const twice = await runPlans([plan, plan], databases(db), execOptions());
        expect(twice.plans.map((p) => [p.status, p.error])).toEqual([
          ['ok', undefined],
          ['ok', undefined],
        ]);
        expect(twice.plans.map((p) => p.steps[0]?.rows)).toEqual([8, 8]);
      } finally {
        await db.drop();
      }
    });

    it('a guard that trips stops the run (status guarded) and changes nothing', async () => {
      const db = await engine.open();
      try {
        const build = await compiled(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 0' }), 15);
        // Seeded, and the seeded tables read, in one session: the last statement's rows.
        const before = (await sql(db, setupSql() + tables())).at(-1);
        expect(before).toHaveLength(targetRows.length + memberRows.length);
        const r = await runSync(db, build, 's');
        expect(r.status).toBe('guarded');
        expect(r.error).toMatch(/syncwright guard/);
        expect((await sql(db, tables()))[0]).toEqual(before);
      } finally {
        await db.drop();
      }
    });
  });
}

const targetProject = `
source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint name string? plan string } }
model ghosts { from wh table crm.nope primary key id columns { id bigint } }
destination hook : webhook { url "https://hooks.example.com" }
sync s { from people to wh table crm.target mode mirror identifier id -> id map { name -> name plan -> plan } }
sync ghosts_to_table { from ghosts to wh table crm.ghost_target mode upsert identifier id -> id }
sync ghosts_to_hook { from ghosts to hook mode insert identifier id }
`;

for (const engine of scratchEngines) {
  describe(`warehouse errors say which sync, table and column, and what to do [${engine.name}]`, () => {
    let db: ScratchDb;
    let build: string;
    const where = () => (db.url ? 'postgres://' : 'the embedded database ');
    /** crm.target made afresh with these columns and one row; `then`: more SQL in the same session (an open of the embedded database is most of the time). */
    const target = (columns: string, then = '') =>
      sql(db, `DROP TABLE IF EXISTS crm.target; CREATE TABLE crm.target (${columns}); INSERT INTO crm.target (id, name) VALUES ('1', 'kept'); ${then}`);
    beforeAll(async () => {
      db = await engine.open();
      build = await compileText(targetProject);
      await sql(
        db,
        `CREATE SCHEMA crm; CREATE TABLE crm.people (id bigint, name text, plan text); INSERT INTO crm.people VALUES (1, 'a', 'pro'), (2, NULL, 'free');`,
      );
    });
    afterAll(() => db.drop());

    it('a column of the wrong type, a missing column and a NOT NULL column the sync leaves out: all said before anything runs', async () => {
      await target(
        "id text PRIMARY KEY, name text, created_by text NOT NULL DEFAULT 'x', owner text NOT NULL DEFAULT 'o'",
        'ALTER TABLE crm.target ALTER COLUMN owner DROP DEFAULT;',
      );
      const r = await runSync(db, build, 's');
      expect(r.status).toBe('failed');
      expect(r.steps).toEqual([]);
      expect(r.error).toContain('sync s: the target table crm.target on ');
      expect(r.error).toContain(
        'cannot take the sync\'s rows; nothing was run: its column id is text, but the sync writes BIGINT (from the model\'s column id): change the column\'s type (or the model\'s); it has no column plan (from the model\'s column plan): ALTER TABLE "crm"."target" ADD COLUMN "plan" TEXT; its column owner is NOT NULL without a default, and the sync does not write it: map a model column to it, or give it a default',
      );
      expect((await sql(db, 'SELECT count(*)::int AS n FROM crm.target'))[0]).toEqual([{ n: 1 }]);
    });

    it('a target holding an identifier twice: said so, with the fix, and nothing changed', async () => {
      const dupBuild = await compileText(`source wh : postgres { database "app" }
model people { from wh table crm.people primary key id columns { id bigint name string? } }
sync dup { from people to wh table crm.twice mode upsert identifier id -> id map { name -> name } }`);
      await sql(db, `CREATE TABLE crm.twice (id bigint, name text); INSERT INTO crm.twice VALUES (1, 'x'), (1, 'y'), (2, NULL);`);
      const r = await runSync(db, dupBuild, 'dup');
      expect(r.status).toBe('failed');
      expect(r.error).toBe(
        "sync dup: the target table crm.twice holds more than one row for an identifier the sync updates, so the write cannot tell which row takes the model's values: keep one row per identifier (a unique key on the identifier keeps it so); nothing was changed (the script rolled back) (MERGE command cannot affect row a second time)",
      );
      expect((await sql(db, 'SELECT id::int AS id, name FROM crm.twice ORDER BY 1, 2'))[0]).toEqual([
        { id: 1, name: 'x' },
        { id: 1, name: 'y' },
        { id: 2, name: null },
      ]);
    });

    it('a column of the type but narrower (fewer decimals, a 4-byte float, a coarser time, a numeric for a float) is said before anything runs', async () => {
      const project = `source wh : postgres { database "app" }
model m { from wh table crm.precise primary key id columns { id bigint n decimal(12, 4)? f float? ts timestamp? d timestamp? ok decimal(12, 2)? i decimal(12, 4)? whole decimal(12, 0)? fl float? dm decimal(12, 4)? tm timestamp? } }
sync narrow { from m to wh table crm.narrow mode upsert identifier id -> id map { n -> n f -> f ts -> ts d -> d ok -> ok i -> i whole -> whole fl -> fl dm -> dm tm -> tm } }`;
      const narrowBuild = await compileText(project);
      await sql(
        db,
        `CREATE DOMAIN crm.cents AS numeric(12, 2);
         CREATE TABLE crm.precise (id bigint, n numeric(12, 4), f float8, ts timestamp, d timestamp, ok numeric(12, 2), i numeric(12, 4), whole numeric(12, 0), fl float8, dm numeric(12, 4), tm timestamp);
         INSERT INTO crm.precise VALUES (1, 1.2345, 0.1, '2024-01-01 00:00:00.5', '2024-01-01 12:00', 1.25, 1.5, 7, 0.1::float8 + 0.2::float8, 2.5, '2024-01-01 08:00');
         CREATE TABLE crm.narrow (id bigint PRIMARY KEY, n numeric(12, 2), f real, ts timestamp(0), d date, ok numeric(14, 3), i bigint, whole bigint, fl numeric, dm crm.cents, tm time);`,
      );
      const r = await runSync(db, narrowBuild, 'narrow');
      expect(r.status).toBe('failed');
      expect(r.steps).toEqual([]);
      const said = (column: string, actual: string, written: string) =>
        `its column ${column} is ${actual}, narrower than the ${written} the sync writes (from the model's column ${column}): it would round the values, and every run would find them changed and write them again; give the column the type the sync writes (or change the model's)`;
      expect(r.error).toContain(
        [
          said('n', 'numeric(12,2)', 'NUMERIC(12, 4)'),
          said('f', 'real', 'DOUBLE PRECISION'),
          said('ts', 'timestamp(0) without time zone', 'TIMESTAMP'),
          said('d', 'date', 'TIMESTAMP'),
          said('i', 'bigint', 'NUMERIC(12, 4)'),
          // Even unconstrained: a float's digits past the 15th are rounded away (0.1 + 0.2 is 0.3).
          said('fl', 'numeric', 'DOUBLE PRECISION'),
          // A domain is held to its type's scale.
          said('dm', 'crm.cents', 'NUMERIC(12, 4)'),
        ].join('; '),
      );
      // A time of day takes no timestamp at all.
      expect(r.error).toContain(
        "its column tm is time without time zone, but the sync writes TIMESTAMP (from the model's column tm): change the column's type (or the model's)",
      );
      // Wider, or whole numbers into an integer (one too big for it fails, loudly).
      expect(r.error).not.toContain('column ok');
      expect(r.error).not.toContain('column whole');
      await sql(
        db,
        'ALTER TABLE crm.narrow ALTER COLUMN n TYPE numeric, ALTER COLUMN f TYPE float8, ALTER COLUMN ts TYPE timestamp, ALTER COLUMN d TYPE timestamptz, ALTER COLUMN i TYPE numeric(20, 4), ALTER COLUMN fl TYPE float8, ALTER COLUMN dm TYPE numeric(12, 4), ALTER COLUMN tm TYPE timestamp USING NULL',
      );
      const first = await runSync(db, narrowBuild, 'narrow');
      expect(first.status, first.error).toBe('ok');
      expect(numbers(first.steps[0]?.result?.[0])).toMatchObject({ inserted: 1 });
      // As wide as the model: nothing rounded, nothing found changed.
      const again = await runSync(db, narrowBuild, 'narrow');
      expect(numbers(again.steps[0]?.result?.[0])).toMatchObject({ inserted: 0, updated: 0 });
    });

    it("a NULL for a NOT NULL column names the column and the model's, and changes nothing", async () => {
      await target('id bigint PRIMARY KEY, name text NOT NULL, plan text');
      const r = await runSync(db, build, 's');
      expect(r.status).toBe('failed');
      expect(r.error).toMatch(
        /^sync s: a row has no value for name of crm\.target, which is NOT NULL \(from the model's column name\): keep such rows out of the model, or give the column a default or drop its NOT NULL; nothing was changed \(the script rolled back\) \(null value in column "name"/,
      );
      expect((await sql(db, 'SELECT id::int AS id, name FROM crm.target'))[0]).toEqual([{ id: 1, name: 'kept' }]);
    });

    it('a target that does not exist: say so, with the table to create', async () => {
      await sql(db, 'DROP TABLE IF EXISTS crm.target');
      const r = await runSync(db, build, 's');
      expect(r.error).toMatch(
        /^sync s: the target table crm.target does not exist on \S+; create it first, for example: CREATE TABLE "crm"."target" \("id" BIGINT, "name" TEXT, "plan" TEXT\)$/,
      );
    });

    it('a model table that does not exist: say where it was looked for, and how to look elsewhere', async () => {
      // Its own table: crm.target is the mirror's, which no other sync may write.
      await sql(db, 'CREATE TABLE IF NOT EXISTS crm.ghost_target (id bigint PRIMARY KEY)');
      // Both plans in one run (each fails before it writes anything): one open of the database.
      const syncs = ['ghosts_to_table', 'ghosts_to_hook'];
      const { plans } = await runPlans(
        syncs.map((sync) => join(build, sync, 'plan.json')),
        databases(db),
        execOptions(),
      );
      expect(plans.map((p) => p.sync)).toEqual(syncs);
      for (const [i, sync] of syncs.entries()) {
        const r = plans[i] as PlanReport;
        expect(r.status).toBe('failed');
        expect(r.error).toContain(`sync ${sync}: crm.nope does not exist in ${where()}`);
        expect(r.error).toContain(
          db.url
            ? "check the model's table, and that --database or DATABASE_URL names the database that has it"
            : `${db.folder}; pass --database or set DATABASE_URL to run on the database that has it`,
        );
      }
    });
  });
}
