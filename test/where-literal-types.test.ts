/**
 * A `where` literal is written as the column it is compared with reads it, so that an audience
 * has on BigQuery (and Snowflake) the members it has on Postgres, the reference:
 *
 * - a decimal column meeting a number with a point: BigQuery reads `1.5` as FLOAT64 and coerces
 *   NUMERIC to FLOAT64 to compare them, so two balances a double cannot tell apart compared
 *   alike; an exact NUMERIC (BIGNUMERIC past 29 digits before the point or 9 after) is compared
 *   exactly, as Postgres compares NUMERIC;
 * - a date meeting a timestamp: BigQuery compares no DATE with a TIMESTAMP (the query fails);
 *   Postgres promotes the date to its midnight, and so does the SQL now;
 * - a `timestamp` column may be a BigQuery DATETIME (the language has one type for both), which
 *   compares with no TIMESTAMP and which FORMAT_TIMESTAMP does not take;
 * - a timestamp is UTC: its literal is the instant's text at UTC, its own offset applied by the
 *   compiler (test/where-time-zones.test.ts runs it on Postgres in sessions of several zones).
 *
 * BigQuery cannot run here: its SQL is asserted as text (and parsed by sqlfluff), and the
 * Postgres SQL of the same audience is run, its members compared with those BigQuery's
 * documented semantics give for the text asserted.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { compileText, statements } from './fixtures/warehouse/compile.js';
import { describeEngines, type Engine } from './support/engines.js';
import { describeWithSqlfluff, parseManyWithSqlfluff } from './support/sqlfluff.js';

type Dialect = 'postgres' | 'snowflake' | 'bigquery';
const sources: Record<Dialect, string> = {
  postgres: 'source wh : postgres { database "syncwright_test" schema "crm" }',
  snowflake: 'source wh : snowflake { account "acme-prod" database "ANALYTICS" }',
  bigquery: 'source wh : bigquery { project "my-project" dataset "crm" }',
};

const columns = `
    id         bigint
    email      string
    balance    decimal(38, 9)
    score      float
    signup_day date
    created_at timestamp`;

/** A mirror of `where` into the model's own warehouse, and a HubSpot sync sending created_at. */
function project(dialect: Dialect, where: string): string {
  return `${sources[dialect]}
model users {
  from wh
  table crm.users
  primary key id
  columns {${columns}
  }
}
audience picked {
  from users
  where ${where}
}
sync picked_members {
  from picked
  to wh table crm.members
  mode mirror
  identifier id -> id
  map { email -> email }
}
destination hubspot : hubspot {
  token env("HUBSPOT_TOKEN")
}
sync picked_to_hubspot {
  from picked
  to hubspot list "Picked"
  mode add
  identifier email -> email
}
sync users_to_hubspot {
  from users
  to hubspot object contacts
  mode upsert
  identifier email -> email
  map { created_at -> created_at_ms }
}`;
}

const compiled = new Map<string, Map<string, string>>();
function files(dialect: Dialect, where: string): Map<string, string> {
  const key = `${dialect} ${where}`;
  let out = compiled.get(key);
  if (!out) {
    out = new Map();
    for (const a of compileText(project(dialect, where))) for (const f of a.files) out.set(`${a.plan.sync.name}/${f.name}`, f.content);
    compiled.set(key, out);
  }
  return out;
}

/** The condition a file reads the model's rows with, on one line, without the model's alias. */
function conditionIn(sql: string): string {
  const m = /FROM\s+\S*users\S*(?: AS [`"]m[`"])?\s+WHERE\n([\s\S]*?)\n\s*\)/i.exec(sql);
  if (!m) throw new Error(`no condition in\n${sql}`);
  return m[1]!
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .replace(/[`"]m[`"]\./g, '')
    .trim();
}

/** The condition of the warehouse mirror, the same in the API change set. */
function condition(dialect: Dialect, where: string): string {
  const f = files(dialect, where);
  const mirror = conditionIn(f.get('picked_members/apply.sql')!);
  expect(conditionIn(f.get('picked_to_hubspot/changes.sql')!)).toBe(mirror);
  return mirror;
}

describe('numbers are compared exactly unless a float column takes part', () => {
  it.each([
    ['balance > 12345678901.123456788', "`balance` > NUMERIC '12345678901.123456788'"],
    // More than NUMERIC's 9 digits after the point, or 29 before: BIGNUMERIC.
    ['balance >= 1.0000000001', "`balance` >= BIGNUMERIC '1.0000000001'"],
    ['balance < 123456789012345678901234567890', "`balance` < BIGNUMERIC '123456789012345678901234567890'"],
    // An integer past INT64 (18 digits always fit), and a decimal against an INT64 column.
    ['id = 99999999999999999999 or id > 1.5', "`id` = NUMERIC '99999999999999999999' OR `id` > NUMERIC '1.5'"],
    // An exponent is FLOAT64 on BigQuery too: written in plain decimal.
    ['balance > 1.5e-3', "`balance` > NUMERIC '0.0015'"],
    ['balance in (1.25, 2, 3.5)', "`balance` IN (NUMERIC '1.25', 2, NUMERIC '3.5')"],
    ['balance between 0.5 and 100', "`balance` BETWEEN NUMERIC '0.5' AND 100"],
    // A FLOAT64 column: Postgres converts the NUMERIC literal to a double, BigQuery reads it as one.
    ['score > 0.1', '`score` > 0.1'],
  ])('BigQuery: %s', (where, expected) => {
    expect(condition('bigquery', where)).toBe(expected);
  });

  it('Snowflake reads a number in plain decimal as an exact NUMBER; Postgres as NUMERIC', () => {
    expect(condition('snowflake', 'balance > 12345678901.123456788 or balance > 1.5e-3')).toBe('"BALANCE" > 12345678901.123456788 OR "BALANCE" > 0.0015');
    expect(condition('postgres', 'balance > 12345678901.123456788')).toBe('"balance" > 12345678901.123456788');
  });

  it('a number the warehouse holds in no exact type is refused, where it is compared exactly', () => {
    const check = (dialect: Dialect, where: string) =>
      compile([{ path: 'p.sync', text: project(dialect, where) }])
        .diagnostics.filter((d) => d.severity === 'error')
        .map((d) => `${d.code} ${d.message}`);
    expect(check('bigquery', 'balance > 0.000000000000000000000000000000000000001')).toEqual([
      'SW0004 `0.000000000000000000000000000000000000001` has more digits than bigquery compares exactly',
    ]);
    expect(check('snowflake', 'id in (1, 1e40)')).toEqual(['SW0004 `1e40` has more digits than snowflake compares exactly']);
    expect(check('postgres', 'id in (1, 1e40)')).toEqual([]);
    // Against a float it is a float wherever it is read.
    expect(check('bigquery', 'score > 0.000000000000000000000000000000000000001')).toEqual([]);
  });
});

describe('a date meeting a timestamp is its midnight, as on Postgres', () => {
  it('BigQuery: a date literal against a timestamp column, a timestamp literal against a date column', () => {
    // A string literal is coerced to the column's type: TIMESTAMP (in UTC) or DATETIME.
    expect(condition('bigquery', "created_at >= date '2024-01-01' or signup_day >= timestamp '2024-06-01 12:00:00'")).toBe(
      "`created_at` >= '2024-01-01 00:00:00' OR CAST(`signup_day` AS TIMESTAMP) >= CAST('2024-06-01 12:00:00' AS TIMESTAMP)",
    );
    expect(condition('bigquery', "created_at in (timestamp '2024-01-01 10:00:00', date '2024-01-02')")).toBe(
      "`created_at` IN ('2024-01-01 10:00:00', '2024-01-02 00:00:00')",
    );
    expect(condition('bigquery', "signup_day between date '2024-01-01' and timestamp '2024-02-01 12:00:00'")).toBe(
      "CAST(`signup_day` AS TIMESTAMP) BETWEEN CAST('2024-01-01 00:00:00' AS TIMESTAMP) AND CAST('2024-02-01 12:00:00' AS TIMESTAMP)",
    );
    // Dates with dates stay dates.
    expect(condition('bigquery', "signup_day >= date '2024-01-01'")).toBe("`signup_day` >= CAST('2024-01-01' AS DATE)");
  });

  it('Snowflake and Postgres write the same meaning in their own types', () => {
    // Against a `timestamp` column, a string at +00:00 read as the column's type: an instant by a
    // column with a zone, a wall clock by one without (a TIMESTAMP_NTZ or TIMESTAMP literal was
    // read in the session's time zone by an LTZ, a TZ or a timestamptz).
    expect(condition('snowflake', "created_at >= date '2024-01-01' or signup_day >= timestamp '2024-06-01 12:00:00'")).toBe(
      '"CREATED_AT" >= \'2024-01-01 00:00:00+00:00\' OR CAST("SIGNUP_DAY" AS TIMESTAMP_NTZ) >= CAST(\'2024-06-01 12:00:00\' AS TIMESTAMP_NTZ)',
    );
    expect(condition('postgres', "created_at >= date '2024-01-01' or signup_day >= timestamp '2024-06-01 12:00:00'")).toBe(
      '"created_at" >= \'2024-01-01 00:00:00+00:00\' OR CAST("signup_day" AS TIMESTAMP) >= CAST(\'2024-06-01 12:00:00\' AS TIMESTAMP)',
    );
  });

  it('a timestamp with an offset of its own is written as its instant at UTC, on every dialect', () => {
    const between = "created_at between timestamp '2024-01-01T05:30+05:30' and timestamp '2023-12-31 23:00:00.5-0100'";
    const dateColumn = "signup_day > timestamp '2024-06-01 20:00:00-05'";
    // BigQuery: no offset, which a DATETIME does not take.
    expect(condition('bigquery', between)).toBe("`created_at` BETWEEN '2024-01-01 00:00:00' AND '2024-01-01 00:00:00.5'");
    expect(condition('bigquery', dateColumn)).toBe("CAST(`signup_day` AS TIMESTAMP) > CAST('2024-06-02 01:00:00' AS TIMESTAMP)");
    expect(condition('snowflake', between)).toBe("\"CREATED_AT\" BETWEEN '2024-01-01 00:00:00+00:00' AND '2024-01-01 00:00:00.5+00:00'");
    expect(condition('snowflake', dateColumn)).toBe('CAST("SIGNUP_DAY" AS TIMESTAMP_NTZ) > CAST(\'2024-06-02 01:00:00\' AS TIMESTAMP_NTZ)');
    expect(condition('postgres', between)).toBe("\"created_at\" BETWEEN '2024-01-01 00:00:00+00:00' AND '2024-01-01 00:00:00.5+00:00'");
    expect(condition('postgres', dateColumn)).toBe('CAST("signup_day" AS TIMESTAMP) > CAST(\'2024-06-02 01:00:00\' AS TIMESTAMP)');
  });

  it('a timestamp whose offset is no offset in use, or whose instant at UTC is past the years 1 to 9999, is refused', () => {
    const check = (where: string) =>
      compile([{ path: 'p.sync', text: project('postgres', where) }])
        .diagnostics.filter((d) => d.severity === 'error')
        .map((d) => `${d.code} ${d.message}`);
    expect(check("created_at > timestamp '2024-01-01 00:00+14:00' and created_at < timestamp '2024-01-01 00:00-1200'")).toEqual([]);
    for (const text of ['2024-01-01 00:00+14:01', '2024-01-01 00:00:00-15', '2024-01-01 00:00+05:60', '9999-12-31 23:00:00-01:00', '0001-01-01T00:30+01']) {
      expect(check(`created_at > timestamp '${text}'`)).toEqual([`SW0004 \`${text}\` is not a valid timestamp`]);
    }
  });

  it('BigQuery formats a `timestamp` column that may be a DATETIME as a TIMESTAMP read in UTC', () => {
    const changes = files('bigquery', 'id > 0').get('users_to_hubspot/changes.sql')!;
    // CAST(DATETIME AS TIMESTAMP) reads it in UTC; a TIMESTAMP is left as it is.
    expect(changes.replace(/\s+/g, ' ')).toContain("FORMAT_TIMESTAMP( '%Y-%m-%dT%H:%M:%E3SZ', CAST(`created_at` AS TIMESTAMP), 'UTC' )");
  });
});

describeWithSqlfluff('the BigQuery and Snowflake text parses', () => {
  it('NUMERIC and BIGNUMERIC literals, casts of dates and of DATETIME columns', async () => {
    const where =
      "balance > 12345678901.123456788 and balance < 1.0000000001 and id in (99999999999999999999, 2) or created_at >= date '2024-01-01' or signup_day >= timestamp '2024-06-01 12:00:00'";
    const f = files('bigquery', where);
    const all = ['picked_members/apply.sql', 'picked_to_hubspot/changes.sql', 'users_to_hubspot/changes.sql'].map((name) => ({
      sql: f.get(name)!,
      dialect: 'bigquery' as const,
    }));
    const results = await parseManyWithSqlfluff(all);
    expect(results.flatMap((r) => r.unparsable)).toEqual([]);
  });

  it('timestamp literals against timestamp and date columns', async () => {
    const where =
      "created_at between date '2024-01-01' and timestamp '2024-06-01T12:00:00+02:00' or created_at in (timestamp '2024-01-01 00:00:00.123456789Z') or signup_day >= timestamp '2024-06-01 12:00:00'";
    // Snowflake's apply.sql raises its guard in a Snowflake Scripting block, which sqlfluff does not parse: its change set holds the same condition.
    const all = [
      { sql: files('bigquery', where).get('picked_members/apply.sql')!, dialect: 'bigquery' as const },
      { sql: files('bigquery', where).get('picked_to_hubspot/changes.sql')!, dialect: 'bigquery' as const },
      { sql: files('snowflake', where).get('picked_to_hubspot/changes.sql')!, dialect: 'snowflake' as const },
    ];
    expect(all[0]!.sql).toContain("'2024-06-01 10:00:00'");
    expect(all[2]!.sql).toContain("'2024-01-01 00:00:00.123456789+00:00'");
    const results = await parseManyWithSqlfluff(all);
    expect(results.flatMap((r) => r.unparsable)).toEqual([]);
  });
});

// The members each audience has on Postgres, run on PGlite and PostgreSQL 15, against those the
// BigQuery text above has by BigQuery's documented semantics (stated with each case).
const rows = [
  // id, balance, signup_day, created_at
  [1, '12345678901.123456789', '2024-06-01', '2023-12-31 23:59:59.999999'],
  [2, '12345678901.123456788', '2024-06-02', '2024-01-01 00:00:00'],
  [3, '12345678901.123456787', '2024-05-31', '2024-01-01 00:00:01'],
] as const;

async function members(engine: Engine, where: string): Promise<number[]> {
  await engine.exec(`
    DROP SCHEMA IF EXISTS crm CASCADE;
    CREATE SCHEMA crm;
    CREATE TABLE crm.users (id BIGINT, email TEXT, balance NUMERIC(38, 9), score DOUBLE PRECISION, signup_day DATE, created_at TIMESTAMP);
    CREATE TABLE crm.members (id BIGINT, email TEXT, audience TEXT);
    INSERT INTO crm.users VALUES ${rows.map(([id, b, d, t]) => `(${id}, 'u${id}@x.com', ${b}, 0, DATE '${d}', TIMESTAMP '${t}')`).join(', ')};
  `);
  const sql = files('postgres', where).get('picked_members/apply.sql')!;
  for (const s of statements(sql)) await engine.exec(s);
  const got = await engine.query<{ id: unknown }>('SELECT id FROM crm.members ORDER BY id');
  return got.map((r) => Number(r.id));
}

describeEngines('the same members on Postgres as the BigQuery text has', (engine) => {
  it('a balance one billionth above the literal is a member, one equal to it is not', async () => {
    // BigQuery: `balance` > NUMERIC '12345678901.123456788' compares NUMERIC with NUMERIC, exactly:
    // only row 1 (…789). As FLOAT64 (the text before) the three balances and the literal are one
    // double, and no row was a member.
    expect(Number(rows[0][1])).toBe(Number(rows[1][1]));
    expect(await members(engine, 'balance > 12345678901.123456788')).toEqual([1]);
    // NUMERIC '12345678901.123456788' = balance: row 2 alone (as FLOAT64: all three).
    expect(await members(engine, 'balance in (12345678901.123456788)')).toEqual([2]);
  });

  it('a date against a timestamp is its midnight; a date column against a timestamp too', async () => {
    // BigQuery: `created_at` >= '2024-01-01 00:00:00' (the string coerced to TIMESTAMP, UTC, or to
    // DATETIME): rows 2 and 3. CAST(`signup_day` AS TIMESTAMP) is the day's midnight in UTC, and
    // only 2024-06-02 00:00 is at or after 2024-06-01 12:00 UTC: row 2.
    expect(await members(engine, "created_at >= date '2024-01-01'")).toEqual([2, 3]);
    expect(await members(engine, "signup_day >= timestamp '2024-06-01 12:00:00'")).toEqual([2]);
    expect(await members(engine, "signup_day <= timestamp '2024-06-01 00:00:00'")).toEqual([1, 3]);
    expect(await members(engine, "created_at < date '2024-01-01' or signup_day > timestamp '2024-06-01 23:59:59'")).toEqual([1, 2]);
  });
});
