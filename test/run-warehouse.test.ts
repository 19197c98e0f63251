// Warehouse plans run by the executor end in the same tables, with the same summary, as the
// compiled script run whole (as psql -f runs it, and as the warehouse tests check it), on
// every engine the tests have; guards abort; other engines' plans are refused.
import { describe, expect, it } from 'vitest';
import { setupSql, syncProject } from './fixtures/warehouse/scenario.js';
import { compileText, runSync, sql } from './servers/run-harness.js';
import { scratchEngines, type ScratchDb } from './servers/scratch-db.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const tables = `SELECT 'target' AS t, "Id" AS id, "a""b; drop table x; --" AS name, "select" AS ord, NULL AS audience FROM "Sales Data"."Target ""Q"" Table"
  UNION ALL SELECT 'members', "Id", "a""b; drop table x; --", "select", audience FROM "Sales Data"."Members" ORDER BY 1, 5, 2`;

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

/** The script run whole in one session: the final tables and its last statement's row. */
async function direct(db: ScratchDb, build: string): Promise<{ rows: unknown[]; summary: Record<string, number> }> {
  const results = await sql(db, setupSql() + readFileSync(join(build, 's', 'apply.sql'), 'utf8'));
  const summary = numbers(results.filter((r) => r.length).at(-1)?.[0]);
  return { rows: (await sql(db, tables))[0] ?? [], summary };
}

for (const engine of scratchEngines) {
  describe(`warehouse plans run by the executor [${engine.name}]`, () => {
    // The embedded database is Postgres 17: it runs the scripts for 15 (anti-join DELETE) and 17 (BY SOURCE).
    const versions = engine.name === 'pglite' ? [15, 17] : [15];

    for (const c of cases) {
      it(`${c.kind} ${c.mode}: the same tables and summary as the script run whole; a rerun writes nothing`, async () => {
        const db = await engine.open();
        try {
          for (const version of versions) {
            const build = await compileText(syncProject({ kind: c.kind, mode: c.mode, ...('guard' in c ? { guard: c.guard } : {}) }), version);
            const expected = await direct(db, build);
            await sql(db, setupSql());
            const r = await runSync(db, build, 's');
            expect(r.status, r.error).toBe('ok');
            expect(r.steps.map((s) => s.operation)).toEqual(['apply.sql']);
            expect(numbers(r.steps[0]?.result?.[0]), `Postgres ${version}`).toEqual(expected.summary);
            expect((await sql(db, tables))[0]).toEqual(expected.rows);
            const again = await runSync(db, build, 's');
            expect(numbers(again.steps[0]?.result?.[0])).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
            expect((await sql(db, tables))[0]).toEqual(expected.rows);
          }
        } finally {
          await db.drop();
        }
      });
    }

    it('into another Postgres: the extract streams into the load table, then apply runs in that session', async () => {
      const db = await engine.open();
      try {
        const text = syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' })
          .replace('to wh table', 'to dw table')
          .replace('source wh : postgres { database "test" }', 'source wh : postgres { database "test" }\ndestination dw : postgres { host "dw" database "dw" user "u" password env("DW_PASSWORD") }');
        const build = await compileText(text, 15);
        const same = await compileText(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 25%' }), 15);
        const expected = await direct(db, same);
        await sql(db, setupSql());
        const r = await runSync(db, build, 's');
        expect(r.status, r.error).toBe('ok');
        expect(r.steps.map((s) => s.kind)).toEqual(['load', 'sql']);
        // Every model row travels; the apply script drops NULL and duplicate keys, as in one warehouse.
        expect(r.steps[0]).toMatchObject({ rows: 8 });
        expect(numbers(r.steps[1]?.result?.[0])).toEqual(expected.summary);
        expect((await sql(db, tables))[0]).toEqual(expected.rows);
      } finally {
        await db.drop();
      }
    });

    it('a guard that trips stops the run (status guarded) and changes nothing', async () => {
      const db = await engine.open();
      try {
        const build = await compileText(syncProject({ kind: 'record', mode: 'mirror', guard: 'guard deletes <= 0' }), 15);
        await sql(db, setupSql());
        const before = (await sql(db, tables))[0];
        const r = await runSync(db, build, 's');
        expect(r.status).toBe('guarded');
        expect(r.error).toMatch(/syncwright guard/);
        expect((await sql(db, tables))[0]).toEqual(before);
      } finally {
        await db.drop();
      }
    });
  });
}

describe('plans for other engines', () => {
  it('a Snowflake plan is refused, naming the scripts to run there in order', async () => {
    const build = await compileText(syncProject({ kind: 'record', mode: 'upsert' }).replace('source wh : postgres { database "test" }', 'source wh : snowflake { account "acme-prod" database "ANALYTICS" }'));
    const r = await runSync({ folder: join(build, '..', 'db'), drop: async () => undefined }, build, 's');
    expect(r.status).toBe('failed');
    expect(r.error).toBe(`sync s runs SQL on snowflake, which this executor does not connect to: run ${join(build, 's')}/apply.sql there in order (with dbt or Airflow, for example)`);
  });
});
