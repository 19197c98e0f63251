// Every record and audience mode executed on Postgres: PGlite (Postgres 17+) and the
// PostgreSQL 15 server. The SQL is the same for every supported version (warehouse-dialects.test.ts).
import { beforeEach, describe, expect, it } from 'vitest';
import { describeEngines, type Engine } from './support/engines.js';
import { applySql, compileText, statements } from './fixtures/warehouse/compile.js';
import { injection, setupSql, syncProject } from './fixtures/warehouse/scenario.js';

type Summary = { inserted: number; updated: number; deleted: number; skipped_null_keys: number; duplicate_keys: number };
const zero: Summary = { inserted: 0, updated: 0, deleted: 0, skipped_null_keys: 0, duplicate_keys: 0 };

/** Runs the script one statement at a time in one session, returning the summary row. */
async function run(engine: Engine, sql: string): Promise<Summary> {
  let summary: Summary | undefined;
  for (const stmt of statements(sql)) {
    if (/^SELECT\s+"inserted"/.test(stmt)) {
      const [row] = await engine.query<Record<keyof Summary, unknown>>(stmt);
      summary = Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)])) as Summary;
    } else {
      await engine.exec(stmt);
    }
  }
  if (!summary) throw new Error('the script returned no summary');
  return summary;
}

const targetTable = '"Sales Data"."Target ""Q"" Table"';
const cols = '"Id" AS id, "a""b; drop table x; --" AS name, "select" AS ord';

async function targetState(engine: Engine): Promise<unknown[]> {
  return engine.query(`SELECT ${cols}, xmin::text AS xmin FROM ${targetTable} ORDER BY 1, 2, 3`);
}
async function target(engine: Engine): Promise<unknown[]> {
  return engine.query(`SELECT ${cols} FROM ${targetTable} ORDER BY 1, 2, 3`);
}
async function members(engine: Engine): Promise<unknown[]> {
  return engine.query(`SELECT audience, ${cols}, xmin::text AS xmin FROM "Sales Data"."Members" ORDER BY 1, 2`);
}
const strip = (rows: unknown[]) => rows.map((r) => Object.fromEntries(Object.entries(r as object).filter(([k]) => k !== 'xmin')));
const row = (id: number | null, name: string | null, ord: number | null) => ({ id, name, ord });
const member = (audience: string, id: number, name: string | null, ord: number | null) => ({ audience, id, name, ord });

const recordCases: { mode: string; identifier?: boolean; guard?: string; expected: ReturnType<typeof row>[]; summary: Summary }[] = [
  {
    mode: 'upsert',
    expected: [row(1, 'a', 10), row(2, 'b2', 20), row(3, 'c', 30), row(4, 'd', 40), row(5, null, null), row(6, 'new', 61), row(7, injection, 70)],
    summary: { inserted: 3, updated: 1, deleted: 0, skipped_null_keys: 1, duplicate_keys: 1 },
  },
  {
    mode: 'insert',
    expected: [row(1, 'a', 10), row(2, 'b', 20), row(3, 'c', 30), row(4, 'd', 40), row(5, null, null), row(6, 'new', 61), row(7, injection, 70)],
    summary: { inserted: 3, updated: 0, deleted: 0, skipped_null_keys: 1, duplicate_keys: 1 },
  },
  {
    mode: 'update',
    expected: [row(1, 'a', 10), row(2, 'b2', 20), row(3, 'c', 30), row(5, null, null)],
    summary: { inserted: 0, updated: 1, deleted: 0, skipped_null_keys: 1, duplicate_keys: 1 },
  },
  {
    mode: 'mirror',
    guard: 'guard deletes <= 25%',
    expected: [row(1, 'a', 10), row(2, 'b2', 20), row(4, 'd', 40), row(5, null, null), row(6, 'new', 61), row(7, injection, 70)],
    summary: { inserted: 3, updated: 1, deleted: 1, skipped_null_keys: 1, duplicate_keys: 1 },
  },
];

const vipBefore = [member('vip', 1, 'a', 10), member('vip', 2, 'b', 20), member('vip', 3, 'c', 30)];
const others = [member('other', 3, 'c', 30), member('other', 9, 'z', 90)];
const joined = [member('vip', 4, 'd', 40), member('vip', 6, 'new', 61), member('vip', 7, injection, 70)];
const audienceCases: { mode: string; guard?: string; vip: ReturnType<typeof member>[]; summary: Summary }[] = [
  { mode: 'add', vip: [...vipBefore, ...joined], summary: { inserted: 3, updated: 0, deleted: 0, skipped_null_keys: 1, duplicate_keys: 1 } },
  {
    mode: 'remove',
    guard: 'guard deletes <= 2',
    vip: [member('vip', 2, 'b', 20)],
    summary: { inserted: 0, updated: 0, deleted: 2, skipped_null_keys: 1, duplicate_keys: 1 },
  },
  {
    mode: 'mirror',
    guard: 'guard deletes <= 2',
    vip: [member('vip', 2, 'b2', 20), ...joined],
    summary: { inserted: 3, updated: 1, deleted: 2, skipped_null_keys: 1, duplicate_keys: 1 },
  },
  {
    mode: 'upsert',
    vip: [member('vip', 1, 'a', 10), member('vip', 2, 'b2', 20), member('vip', 3, 'c', 30), ...joined],
    summary: { inserted: 3, updated: 1, deleted: 0, skipped_null_keys: 1, duplicate_keys: 1 },
  },
];

const byAudienceThenId = (a: ReturnType<typeof member>, b: ReturnType<typeof member>) =>
  a.audience < b.audience ? -1 : a.audience > b.audience ? 1 : a.id - b.id;

describeEngines('warehouse syncs on Postgres', (engine) => {
  beforeEach(async () => {
    await engine.exec(setupSql());
  });

  for (const c of recordCases) {
    it(`record ${c.mode}: target, summary, and a rerun that writes nothing`, async () => {
      const sql = applySql(syncProject({ kind: 'record', mode: c.mode, guard: c.guard }));
      expect(await run(engine, sql)).toEqual(c.summary);
      expect(await target(engine)).toEqual(c.expected);
      const before = await targetState(engine);
      expect(await run(engine, sql)).toEqual({ ...zero, skipped_null_keys: 1, duplicate_keys: 1 });
      expect(await targetState(engine)).toEqual(before);
    });
  }

  for (const c of audienceCases) {
    it(`audience ${c.mode}: membership rows of this audience only, and a rerun that writes nothing`, async () => {
      const sql = applySql(syncProject({ kind: 'audience', mode: c.mode, guard: c.guard }));
      expect(await run(engine, sql)).toEqual(c.summary);
      expect(strip(await members(engine))).toEqual([...others, ...c.vip].sort(byAudienceThenId));
      const before = await members(engine);
      expect(await run(engine, sql)).toEqual({ ...zero, skipped_null_keys: 1, duplicate_keys: 1 });
      expect(await members(engine)).toEqual(before);
    });
  }

  it('insert without an identifier appends every row, each run', async () => {
    const sql = applySql(syncProject({ kind: 'record', mode: 'insert', identifier: false }));
    await engine.exec(`ALTER TABLE ${targetTable} DROP CONSTRAINT "Target ""Q"" Table_pkey", ALTER COLUMN "Id" DROP NOT NULL`);
    expect(await run(engine, sql)).toEqual({ ...zero, inserted: 8 });
    expect(await run(engine, sql)).toEqual({ ...zero, inserted: 8 });
    expect(await target(engine)).toHaveLength(4 + 16);
  });

  it('a declared primary key is no promise: a model that breaks it keeps the order by winner, and counts the loser', async () => {
    for (const mode of ['upsert', 'mirror'] as const) {
      const c = recordCases.find((x) => x.mode === mode)!;
      await engine.exec(setupSql());
      const sql = applySql(syncProject({ kind: 'record', mode, guard: c.guard, primaryKey: true }));
      expect(await run(engine, sql), mode).toEqual(c.summary);
      expect(await target(engine)).toEqual(c.expected);
      expect(await run(engine, sql)).toEqual({ ...zero, skipped_null_keys: 1, duplicate_keys: 1 });
    }
  });

  it('a target without a unique key still gets one row per identifier, and a rerun updates nothing', async () => {
    await engine.exec(`ALTER TABLE ${targetTable} DROP CONSTRAINT "Target ""Q"" Table_pkey"`);
    const sql = applySql(syncProject({ kind: 'record', mode: 'upsert', primaryKey: true }));
    expect(await run(engine, sql)).toEqual(recordCases[0]!.summary);
    expect(await target(engine)).toEqual(recordCases[0]!.expected);
    expect(await run(engine, sql)).toEqual({ ...zero, skipped_null_keys: 1, duplicate_keys: 1 });
  });

  it('mirror deletes target rows whose identifier is NULL, and only with the rows gone from the model', async () => {
    await engine.exec(`ALTER TABLE ${targetTable} DROP CONSTRAINT "Target ""Q"" Table_pkey";
      ALTER TABLE ${targetTable} ALTER COLUMN "Id" DROP NOT NULL;
      INSERT INTO ${targetTable} VALUES (NULL, 'orphan', 0)`);
    const sql = applySql(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 50%' }));
    const c = recordCases[3]!;
    expect(await run(engine, sql)).toEqual({ ...c.summary, deleted: c.summary.deleted + 1 });
    expect(await target(engine)).toEqual(c.expected);
    expect(await run(engine, sql)).toEqual({ ...zero, skipped_null_keys: 1, duplicate_keys: 1 });
  });

  it('of the rows of one identifier, the first by order by (NULLs last), then by the mapped values (NULLs last) is kept, whatever order they are stored in', async () => {
    const project = syncProject({ kind: 'record', mode: 'upsert', primaryKey: true });
    const desc = applySql(project);
    const asc = applySql(project.replace('order by updated_at desc', 'order by updated_at'));
    // [the script, model rows of identifier 6 as (id, name, order, updated_at), the row kept].
    const cases: [string, string[], ReturnType<typeof row>][] = [
      [desc, ["(6, 'x', 2, '2024-02-02')", "(6, 'y', 1, '2024-02-02')"], row(6, 'x', 2)],
      [desc, ["(6, 'a', 1, NULL)", "(6, 'b', 2, '2024-02-02')"], row(6, 'b', 2)],
      [desc, ["(6, NULL, 1, '2024-02-02')", "(6, 'z', 2, '2024-02-02')"], row(6, 'z', 2)],
      [desc, ["(6, 'c', 3, '2024-03-03')", "(6, 'b', 2, '2024-03-03')", "(6, 'a', 1, '2024-01-01')", "(6, 'b', NULL, '2024-03-03')"], row(6, 'b', 2)],
      [asc, ["(6, 'a', 1, NULL)", "(6, 'b', 2, '2024-02-02')"], row(6, 'b', 2)],
      [asc, ["(6, 'b', 2, '2024-01-01')", "(6, 'a', 1, '2024-02-02')", "(6, 'a', NULL, '2024-01-01')"], row(6, 'a', null)],
    ];
    expect(asc).not.toEqual(desc);
    for (const [sql, rows, kept] of cases) {
      for (const stored of [rows, [...rows].reverse()]) {
        await engine.exec(
          `${setupSql()}DELETE FROM "Sales Data"."users; drop table x; --" WHERE "User Id" = 6;
           INSERT INTO "Sales Data"."users; drop table x; --" VALUES ${stored.join(', ')};`,
        );
        expect(await run(engine, sql)).toMatchObject({ duplicate_keys: rows.length - 1 });
        expect((await target(engine)).find((r) => (r as { id: number }).id === 6)).toEqual(kept);
      }
    }
  });

  it('into another Postgres: extract on the source, load into sw_load, apply on the destination', async () => {
    const text = syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' })
      .replace('to wh table', 'to dw table')
      .replace(
        'source wh : postgres { database "test" }',
        'source wh : postgres { database "test" }\ndestination dw : postgres { host "dw" database "dw" user "u" password env("DW_PASSWORD") }',
      );
    const [a] = compileText(text, { postgresVersion: 15 });
    const [extractStep, load, applyStep] = a!.plan.steps;
    expect([extractStep?.kind, load?.kind, applyStep?.kind]).toEqual(['sql', 'load', 'sql']);
    if (load?.kind !== 'load') throw new Error('no load step');
    const file = (name: string) => a!.files.find((f) => f.name === name)!.content;
    const rows = await engine.query<Record<string, unknown>>(statements(file('extract.sql'))[0]!);
    const q = (n: string) => `"${n}"`;
    await engine.exec(`CREATE TEMPORARY TABLE ${q(load.table)} (${load.columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`);
    for (const r of rows) {
      await engine.query(
        `INSERT INTO ${q(load.table)} VALUES (${load.columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        load.columns.map((c) => r[c.name]),
      );
    }
    expect(await run(engine, file('apply.sql'))).toEqual(recordCases[3]!.summary);
    expect(await target(engine)).toEqual(recordCases[3]!.expected);
    await engine.exec(`DROP TABLE ${q(load.table)}`);
  });

  describe('guards', () => {
    const tripped = [
      ['a count', 'guard deletes <= 0', ''],
      ['a percentage', 'guard deletes <= 24%', ''],
      ['an empty model', 'guard deletes <= 100%', 'DELETE FROM "Sales Data"."users; drop table x; --";'],
    ] as const;
    for (const [what, guard, prepare] of tripped) {
      it(`${what} that trips aborts the whole script and changes nothing`, async () => {
        await engine.exec(setupSql() + prepare);
        const before = await targetState(engine);
        const sql = applySql(syncProject({ kind: 'record', mode: 'mirror', guard }));
        await expect(engine.exec(sql)).rejects.toThrow(/syncwright guard/);
        expect(await targetState(engine)).toEqual(before);
      });
    }

    // Removing 2 of the audience's 3 members is 67% of them, whatever the model's members not in the table yet (4, 6 and 7).
    it('a percentage of an audience remove is of the members the table holds: one that trips changes nothing', async () => {
      const before = await members(engine);
      await expect(engine.exec(applySql(syncProject({ kind: 'audience', mode: 'remove', guard: 'guard deletes <= 50%' })))).rejects.toThrow(
        /syncwright guard: more than 50% of the rows would be deleted/,
      );
      expect(await members(engine)).toEqual(before);
      expect(await run(engine, applySql(syncProject({ kind: 'audience', mode: 'remove', guard: 'guard deletes <= 67%' })))).toEqual(audienceCases[1]!.summary);
    });

    it('`guard allow empty` lets an empty model empty the target', async () => {
      await engine.exec('DELETE FROM "Sales Data"."users; drop table x; --"');
      const sql = applySql(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard allow empty' }));
      expect(await run(engine, sql)).toEqual({ ...zero, deleted: 4 });
      expect(await target(engine)).toEqual([]);
    });
  });

  it('a timestamp column into a timestamptz target is the wall clock at UTC in a session of any zone: a rerun elsewhere writes nothing', async () => {
    const project = `source wh : postgres { database "test" }
model events { from wh  table tz.events  primary key id  columns { id bigint  at timestamp } }
sync events_copy { from events  to wh table tz.copy  mode upsert  identifier id -> id  map { at -> at } }`;
    await engine.exec(`DROP SCHEMA IF EXISTS tz CASCADE; CREATE SCHEMA tz;
      CREATE TABLE tz.events (id bigint PRIMARY KEY, at timestamp);
      CREATE TABLE tz.copy (id bigint PRIMARY KEY, at timestamptz);
      INSERT INTO tz.events VALUES (1, '2024-06-01 12:00:00')`);
    const sql = applySql(project);
    try {
      const runs: Summary[] = [];
      for (const zone of ['America/New_York', 'UTC', 'Asia/Kolkata']) {
        await engine.exec(`SET TimeZone = '${zone}'`);
        runs.push(await run(engine, sql));
      }
      expect(runs).toEqual([{ ...zero, inserted: 1 }, zero, zero]);
      expect(await engine.query(`SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc FROM tz.copy`)).toEqual([{ utc: '2024-06-01 12:00' }]);
    } finally {
      await engine.exec('RESET TimeZone; DROP SCHEMA tz CASCADE');
    }
  });

  it("work_mem is at least 8 MB inside the script's transaction: raised where lower, never lowered, the session's own after", async () => {
    const project = `source wh : postgres { database "test" }
model settings { from wh  table wm.settings  primary key id  columns { id bigint  mem string } }
sync settings_copy { from settings  to wh table wm.copy  mode upsert  identifier id -> id  map { mem -> mem } }`;
    await engine.exec(`DROP SCHEMA IF EXISTS wm CASCADE; CREATE SCHEMA wm;
      CREATE VIEW wm.settings AS SELECT 1::bigint AS id, current_setting('work_mem') AS mem;
      CREATE TABLE wm.copy (id bigint PRIMARY KEY, mem text)`);
    const sql = applySql(project);
    try {
      const seen: unknown[] = [];
      for (const session of ['4MB', '64MB', '1MB', '8MB']) {
        await engine.exec(`SET work_mem = '${session}'`);
        await run(engine, sql);
        const [copied] = await engine.query<{ mem: string }>('SELECT mem FROM wm.copy');
        const [after] = await engine.query<{ work_mem: string }>('SHOW work_mem');
        seen.push([session, copied?.mem, after?.work_mem]);
      }
      expect(seen).toEqual([
        ['4MB', '8MB', '4MB'],
        ['64MB', '64MB', '64MB'],
        ['1MB', '8MB', '1MB'],
        ['8MB', '8MB', '8MB'],
      ]);
    } finally {
      await engine.exec('RESET work_mem; DROP SCHEMA wm CASCADE');
    }
  });

  it('the whole file runs as one script, as psql -f would', async () => {
    const sql = applySql(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' }));
    await engine.exec(sql);
    expect(await target(engine)).toEqual(recordCases[3]!.expected);
  });
});
