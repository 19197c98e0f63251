// The test harness itself: every engine runs scripts the way a real runner would, the
// server suite really runs on PostgreSQL 15, and sqlfluff tells good SQL from bad.
import { describe, expect, it } from 'vitest';
import { describeEngines, majorVersion } from './support/engines.js';
import { describeWithSqlfluff, parseManyWithSqlfluff, parseWithSqlfluff, sqlPieces } from './support/sqlfluff.js';

describeEngines('harness engine', (db) => {
  it('runs on the Postgres it claims', async () => {
    const expected = db.name === 'postgres15' ? [15] : [17, 18];
    expect(expected).toContain(majorVersion(db));
    const [row] = await db.query<{ server_version_num: string }>('SHOW server_version_num');
    expect(Number(row?.server_version_num)).toBe(db.serverVersionNum);
  });

  it('runs a script with a transaction, an ON COMMIT DROP temp table and a MERGE', async () => {
    await db.exec(`
      CREATE TABLE contacts (id int PRIMARY KEY, email text NOT NULL);
      INSERT INTO contacts VALUES (1, 'old@example.com'), (2, 'keep@example.com');
      BEGIN;
      CREATE TEMP TABLE incoming (id int, email text) ON COMMIT DROP;
      INSERT INTO incoming VALUES (1, 'new@example.com'), (3, 'added@example.com');
      MERGE INTO contacts AS t USING incoming AS s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET email = s.email
        WHEN NOT MATCHED THEN INSERT (id, email) VALUES (s.id, s.email);
      COMMIT;
    `);
    expect(await db.query('SELECT id, email FROM contacts ORDER BY id')).toEqual([
      { id: 1, email: 'new@example.com' },
      { id: 2, email: 'keep@example.com' },
      { id: 3, email: 'added@example.com' },
    ]);
    expect(await db.query(`SELECT to_regclass('incoming') AS t`)).toEqual([{ t: null }]);
  });

  it('surfaces RAISE EXCEPTION from a DO block and commits nothing of the script', async () => {
    await db.exec('CREATE TABLE guarded (id int)');
    // The INSERT before BEGIN joins the transaction too: one simple-protocol message.
    const script = `
      INSERT INTO guarded VALUES (1);
      BEGIN;
      INSERT INTO guarded VALUES (2);
      DO $$ BEGIN
        RAISE EXCEPTION 'sync aborted after % rows', (SELECT count(*) FROM guarded);
      END $$;
      INSERT INTO guarded VALUES (3);
      COMMIT;
    `;
    await expect(db.exec(script)).rejects.toMatchObject({
      message: 'sync aborted after 2 rows',
      code: 'P0001',
    });
    // Usable again (not stuck in an aborted transaction), and empty.
    expect(await db.query('SELECT count(*)::int AS n FROM guarded')).toEqual([{ n: 0 }]);
  });

  it('refuses scripts in query, which takes $n parameters', async () => {
    await expect(db.query('SELECT 1; SELECT 2')).rejects.toThrow();
    expect(await db.query('SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
  });

  it('decodes values the same way on every engine', async () => {
    const rows = await db.query(
      `SELECT 9007199254740991::int8 AS big, 1.50::numeric AS num, DATE '2024-02-29' AS day,
              TIMESTAMPTZ '2024-02-29 12:00:00+00' AS at, '{"a": [1]}'::jsonb AS doc, true AS yes`,
    );
    expect(rows).toEqual([
      {
        big: 9007199254740991,
        num: '1.50',
        day: new Date('2024-02-29T00:00:00Z'),
        at: new Date('2024-02-29T12:00:00Z'),
        doc: { a: [1] },
        yes: true,
      },
    ]);
  });

  it.runIf(db.name === 'postgres15')('works in a database of its own on the server', async () => {
    const [row] = await db.query<{ db: string }>('SELECT current_database() AS db');
    expect(row?.db).toMatch(/^syncwright_t_\d+_[0-9a-f]{8}$/);
  });
});

const snowflakeMerge = `MERGE INTO analytics.crm_contacts AS t
USING (SELECT id, email FROM staging.contacts QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1) AS s
ON t.id = s.id
WHEN MATCHED AND t.email IS DISTINCT FROM s.email THEN UPDATE SET email = s.email
WHEN NOT MATCHED THEN INSERT (id, email) VALUES (s.id, s.email);
`;

const garbage = 'SELECT 1;\n\nthis is not sql at all;\nSELECT 2;\n';

describe('harness sqlfluff: scripts cut into statements', () => {
  it('cuts after each semicolon outside quotes, comments and dollar-quoted bodies, and the pieces spell out the script', () => {
    const sql =
      "-- a; b\nSELECT 'x;''y', \"c;d\", `e;f`, 'g\\';h' FROM t; /* i; j */\nEXECUTE IMMEDIATE $$\nBEGIN x; END;\n$$;\nSELECT $q$;$q$ -- k;\n;\nSELECT 1";
    const pieces = sqlPieces(sql);
    expect(pieces.join('')).toBe(sql);
    expect(pieces).toEqual([
      '-- a; b\n',
      "SELECT 'x;''y', \"c;d\", `e;f`, 'g\\';h' FROM t;",
      ' /* i; j */\n',
      'EXECUTE IMMEDIATE $$\nBEGIN x; END;\n$$;',
      '\n',
      'SELECT $q$;$q$ -- k;\n;',
      '\n',
      'SELECT 1',
    ]);
    expect(sqlPieces('')).toEqual([]);
  });
});

describeWithSqlfluff('harness sqlfluff', () => {
  it('accepts a Snowflake MERGE and reads it as one', async () => {
    const r = await parseWithSqlfluff(snowflakeMerge, 'snowflake');
    expect(r.unparsable).toEqual([]);
    expect(r.statements).toEqual(['merge_statement']);
  });

  it('reports garbage as unparsable, with its line, in snowflake and bigquery', async () => {
    // Same tick: one sqlfluff run for both dialects.
    const [snow, bq] = await Promise.all([parseWithSqlfluff(garbage, 'snowflake'), parseWithSqlfluff(garbage, 'bigquery')]);
    for (const r of [snow, bq]) {
      expect(r?.unparsable).toEqual([{ line: 3, text: 'this is not sql at all' }]);
      expect(r?.statements).toEqual(['select_statement', 'unparsable', 'select_statement']);
    }
  });

  it('applies each input its own dialect within one batch', async () => {
    const backticks = 'SELECT `my-project.crm.contacts`.id FROM `my-project.crm.contacts`;\n';
    const [bq, pg] = await parseManyWithSqlfluff([
      { sql: backticks, dialect: 'bigquery' },
      { sql: backticks, dialect: 'postgres' },
    ]);
    expect(bq?.unparsable).toEqual([]);
    expect(pg?.unparsable).not.toEqual([]);
  });

  it('locates files sqlfluff gives up on entirely', async () => {
    const r = await parseWithSqlfluff('SELECT 1;\nSELECT (2;\n', 'snowflake');
    expect(r.raw).toBeNull();
    expect(r.unparsable).toEqual([{ line: 2, text: expect.stringMatching(/^PRS: .*bracket/) }]);
  });
});
