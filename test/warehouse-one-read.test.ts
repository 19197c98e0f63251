// Snowflake and BigQuery stage the change set before the transaction and read each statement at
// its own snapshot, so a count the guards test that reads the model again can see another model
// than the change set did. Their compiled scripts run here on Postgres (PGlite and PostgreSQL 15),
// translated mechanically, statement by statement, with a reload of the model committed between two.
import { beforeEach, describe, expect, it } from 'vitest';
import { describeEngines, type Engine } from './support/engines.js';
import { applySql, compileText } from './fixtures/warehouse/compile.js';
import { audienceModes, audienceSync, crossProject, project, recordModes, recordSync } from './fixtures/warehouse/dialects.js';
import { getDialect } from '../src/dialect/index.js';
import { statementEnds } from '../src/dialect/sql-text.js';
import type { Dialect } from '../src/check/model.js';

const sources: Record<Dialect, string> = {
  postgres: 'source wh : postgres { database "test" }',
  snowflake: 'source wh : snowflake { account "acme" database "DB" }',
  bigquery: 'source wh : bigquery { project "acme-data" }',
};

const mirror = (dialect: Dialect) => `${sources[dialect]}
model users {
  from wh
  table analytics.users
  columns {
    id bigint?
    name string?
  }
}
sync um {
  from users
  to wh table crm.users
  mode mirror
  identifier id -> id
  map { name -> name }
  guard deletes <= 60%
}
`;

/** The model and the target as each dialect names them (Snowflake folds bare names to upper case). */
const names = (dialect: Dialect) => {
  const n = (s: string) => `"${dialect === 'snowflake' ? s.toUpperCase() : s}"`;
  return { model: `${n('analytics')}.${n('users')}`, target: `${n('crm')}.${n('users')}`, id: n('id'), name: n('name'), schemas: [n('analytics'), n('crm')] };
};

const guardBlock = (cond: string, message: string) => `DO $g$ BEGIN IF ${cond} THEN RAISE EXCEPTION USING MESSAGE = ${message}; END IF; END $g$`;

/** The statements of a compiled apply.sql in Postgres's SQL; only what this sync's script uses is translated. */
function onPostgres(dialect: Dialect, sql: string): string[] {
  let text = sql;
  if (dialect === 'snowflake') {
    text = text
      .replace("ALTER SESSION SET TIMEZONE = 'UTC'", "SET TimeZone = 'UTC'")
      .replace(/CREATE OR REPLACE TEMPORARY TABLE/g, 'CREATE TEMPORARY TABLE')
      .replace(/NOT EQUAL_NULL\(([^,()]+), ([^,()]+)\)/g, '$1 IS DISTINCT FROM $2')
      .replace(
        /EXECUTE IMMEDIATE \$\$\nDECLARE\n\s+guard_tripped EXCEPTION \(-20001, ('[^\n]*')\);\nBEGIN\n\s+IF \((EXISTS \([^\n]*\))\) THEN\n\s+RAISE guard_tripped;\n\s+END IF;\nEND;\n\$\$/g,
        (_, message: string, cond: string) => guardBlock(cond, message),
      );
  } else if (dialect === 'bigquery') {
    text = text
      .replace(/`/g, '"')
      .replace(/^IF (EXISTS \([\s\S]*?\n\)) THEN\nRAISE USING MESSAGE = ('[^\n]*');\s*END IF/gm, (_, cond: string, message: string) =>
        guardBlock(cond, message),
      );
  }
  // Translated onto Postgres: split as Postgres reads it.
  const ends = statementEnds(getDialect('postgres'), text);
  // Without the header's comment lines, so that each statement can be told by how it starts.
  return ends.map((end, i) => text.slice(i === 0 ? 0 : ends[i - 1]! + 1, end).replace(/^\s*(--[^\n]*\n\s*)*/, ''));
}

const changeSet = (stmt: string) => /^CREATE (TEMPORARY|TEMP) TABLE "sw_changes"/.test(stmt);

type Summary = Record<'staged' | 'inserted' | 'updated' | 'deleted' | 'target_rows' | 'skipped_null_keys' | 'duplicate_keys', number>;

/**
 * Runs the script one statement at a time in one session, outside a transaction where the script
 * is; `around` runs just before and after the statement that builds the change set. Returns
 * sw_summary's row as the final SELECT sees it (Postgres drops the table at COMMIT).
 */
async function run(engine: Engine, statements: string[], around?: { before: string; after: string }): Promise<Summary> {
  let summary: Summary | undefined;
  if (around && !statements.some(changeSet)) throw new Error('no statement builds the change set');
  await engine.exec('DISCARD TEMP');
  for (const stmt of statements) {
    const changes = changeSet(stmt);
    if (changes && around) await engine.exec(around.before);
    if (/^SELECT\s+"inserted"/.test(stmt)) {
      const [row] = await engine.query<Record<string, unknown>>('SELECT * FROM "sw_summary"');
      summary = Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)])) as Summary;
    }
    await engine.exec(stmt);
    if (changes && around) await engine.exec(around.after);
  }
  if (!summary) throw new Error('the script returned no summary');
  return summary;
}

const dialects: Dialect[] = ['postgres', 'snowflake', 'bigquery'];

describeEngines("a mirror's guards judge the rows the change set holds", (engine) => {
  async function setUp(dialect: Dialect, model: string, target: string): Promise<ReturnType<typeof names>> {
    const n = names(dialect);
    await engine.exec(`DROP SCHEMA IF EXISTS ${n.schemas.join(', ')} CASCADE; CREATE SCHEMA ${n.schemas[0]}; CREATE SCHEMA ${n.schemas[1]};
      CREATE TABLE ${n.model} (${n.id} bigint, ${n.name} text);
      CREATE TABLE ${n.target} (${n.id} bigint, ${n.name} text);
      INSERT INTO ${n.model} ${model}; INSERT INTO ${n.target} ${target};`);
    return n;
  }
  const count = async (table: string) => Number((await engine.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  beforeEach(async () => {
    await engine.exec('DISCARD TEMP');
  });

  for (const dialect of ['snowflake', 'bigquery'] as const) {
    it(`${dialect}: a reload of the model committed between statements trips the empty-model guard; the target keeps its rows`, async () => {
      const hundred = `SELECT g, 'n' || g FROM generate_series(1, 100) g`;
      const n = await setUp(dialect, hundred, hundred);
      // The reload: its DELETE committed before the change set is read, its INSERT just after.
      const reload = { before: `DELETE FROM ${n.model}`, after: `INSERT INTO ${n.model} ${hundred}` };
      // Which summary got past the guards, when one did.
      const outcome = await run(engine, onPostgres(dialect, applySql(mirror(dialect))), reload).then(
        (summary) => JSON.stringify(summary),
        (err: Error) => err.message,
      );
      expect(outcome).toMatch(/^syncwright guard: the model has no rows, so every row would be deleted/);
      expect(await count(n.target)).toBe(100);
      expect(await count(n.model)).toBe(100);
    });
  }

  const cases = [
    {
      what: 'unchanged, changed, new, a duplicate identifier, a NULL identifier; id 3 only in the target',
      model: `VALUES (1, 'a'), (2, 'b2'), (4, 'd'), (6, 'old'), (6, 'new'), (NULL, 'nk'), (7, 'g')`,
      target: `VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
      summary: { staged: 5, inserted: 3, updated: 1, deleted: 1, target_rows: 3, skipped_null_keys: 1, duplicate_keys: 1 },
      after: [
        [1, 'a'],
        [2, 'b2'],
        [4, 'd'],
        [6, 'new'],
        [7, 'g'],
      ],
    },
    {
      what: 'nothing to change: the counts still reach the summary',
      model: `VALUES (1, 'a'), (2, 'b'), (NULL, 'nk')`,
      target: `VALUES (1, 'a'), (2, 'b')`,
      summary: { staged: 2, inserted: 0, updated: 0, deleted: 0, target_rows: 2, skipped_null_keys: 1, duplicate_keys: 0 },
      after: [
        [1, 'a'],
        [2, 'b'],
      ],
    },
  ];
  for (const c of cases) {
    it(`every dialect counts the same, staged and target_rows included: ${c.what}`, async () => {
      for (const dialect of dialects) {
        const n = await setUp(dialect, c.model, c.target);
        expect(await run(engine, onPostgres(dialect, applySql(mirror(dialect)))), dialect).toEqual(c.summary);
        const rows = await engine.query(`SELECT ${n.id} AS id, ${n.name} AS name FROM ${n.target} ORDER BY 1`);
        expect(
          rows.map((r) => [Number(r.id), r.name]),
          dialect,
        ).toEqual(c.after);
      }
    });
  }
});

describe('the compiled text', () => {
  const modelRelation: Record<Dialect, string> = { postgres: '"analytics"."users"', snowflake: '"ANALYTICS"."USERS"', bigquery: '`analytics`.`users`' };
  const summaryOf = (sql: string) => sql.slice(sql.indexOf('sw_summary'), sql.indexOf(';', sql.indexOf('sw_summary')));

  it("reads the model once, in the change set's statement; the summary reads only the change set", () => {
    const keyed = [...recordModes.map((m) => recordSync(m)), ...audienceModes.map((m) => audienceSync(m))];
    for (const dialect of dialects) {
      for (const sync of keyed) {
        const sql = compileText(project(dialect, sync))[0]!.files[0]!.content;
        const label = `${dialect} ${sync.split('\n')[1]}`;
        expect(sql.split(modelRelation[dialect]).length - 1, label).toBe(1);
        expect(summaryOf(sql), label).not.toContain(modelRelation[dialect]);
      }
    }
    // Into another warehouse, the loaded table is the model's rows.
    for (const [from, to, loaded] of [
      ['postgres', 'snowflake', '"CRM"."sw_load_users_to_dw"'],
      ['snowflake', 'bigquery', '`sw_load`'],
      ['bigquery', 'postgres', '"sw_load"'],
    ] as const) {
      const sql = compileText(crossProject(from, to))[0]!.files.find((f) => f.name === 'apply.sql')!.content;
      expect(sql.split(loaded).length - 1, `${from} to ${to}`).toBe(1);
      expect(summaryOf(sql), `${from} to ${to}`).not.toContain(loaded);
    }
  });
});
