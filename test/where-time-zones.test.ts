/**
 * A `where` timestamp is UTC in a session of any time zone. The compiled SQL runs under dbt's and
 * Airflow's sessions too, whose zone is the server's: a timestamp literal was a TIMESTAMP, which
 * a timestamptz column reads in the session's TimeZone, so the same audience had other members
 * under America/New_York than under UTC. A `timestamp` column may be a timestamptz or a timestamp
 * without zone (the language has one type for both), and a literal means the same against
 * either: its instant at UTC, its wall clock at UTC; one with an offset of its own is that wall
 * clock there. The mirror into the source's own warehouse (apply.sql), the extract a load into
 * another warehouse reads, and an API sync's change set are run in three zones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compileText, statements } from './fixtures/warehouse/compile.js';
import { describeEngines, type Engine } from './support/engines.js';

const project = (where: string) => `
source wh : postgres { database "app" }
destination dw : snowflake { account "myorg-dw" warehouse "LOAD_WH" database "DW" user "LOADER" password env("SNOWFLAKE_PASSWORD") }
destination hubspot : hubspot { token env("HUBSPOT_TOKEN") }
model events {
  from wh
  table app.events
  primary key id
  columns { id bigint email string at timestamp local timestamp day date }
}
audience picked {
  from events
  where ${where}
}
sync picked_members {
  from picked
  to wh table app.members
  mode mirror
  identifier id -> id
  map { email -> email }
}
sync picked_to_dw {
  from picked
  to dw table crm.members
  mode mirror
  identifier id -> id
  map { email -> email }
}
sync picked_to_hubspot {
  from picked
  to hubspot list "Picked"
  mode add
  identifier email -> email
}
`;

/** `at` is a timestamptz and `local` a timestamp without zone, both at the same wall clock at UTC; New York is at -05:00. */
const rows = [
  // id, at and local (UTC), day
  [1, '2023-12-31 23:00:00', '2023-12-31'],
  [2, '2024-01-01 00:00:00', '2024-01-01'],
  [3, '2024-01-01 03:00:00', '2024-01-02'], // 2023-12-31 22:00 in New York
  [4, '2024-01-01 06:00:00', '2024-01-03'], // 2024-01-01 01:00 in New York
  [5, '2024-01-02 02:00:00', '2024-01-04'], // 2024-01-01 21:00 in New York
] as const;

interface Files {
  apply: string[];
  extract: string;
  changes: string;
  read: string;
}

function compiled(where: string): Files {
  const artifacts = compileText(project(where));
  const file = (sync: string, name: string) => {
    const f = artifacts.find((a) => a.plan.sync.name === sync)?.files.find((x) => x.name === name);
    if (!f) throw new Error(`no ${sync}/${name}`);
    return f.content;
  };
  return {
    apply: statements(file('picked_members', 'apply.sql')),
    extract: file('picked_to_dw', 'extract.sql'),
    changes: file('picked_to_hubspot', 'changes.sql'),
    read: file('picked_to_hubspot', 'read.sql'),
  };
}

/** The ids each file selects in a session of `zone`: the mirror's table after apply.sql, the extract's rows, the change set's additions. */
async function selected(engine: Engine, f: Files, zone: string): Promise<Record<'mirror' | 'extract' | 'changes', number[]>> {
  await engine.exec(`SET TimeZone TO '${zone}'`);
  for (const s of f.apply) await engine.exec(s);
  const mirror = await engine.query<{ id: unknown }>('SELECT id FROM app.members ORDER BY id');
  const extract = await engine.query<{ sw_c0: unknown }>(f.extract.replace(/;\s*$/, ''));
  await engine.exec(f.changes);
  const changes = await engine.query<{ row_key: string; change: string }>(f.read);
  expect(new Set(changes.map((c) => c.change))).toEqual(new Set(changes.length > 0 ? ['added'] : []));
  const ids = (emails: string[]) => emails.map((e) => Number(/^u(\d+)@/.exec(e)![1]));
  return {
    mirror: mirror.map((r) => Number(r.id)),
    extract: extract.map((r) => Number(r.sw_c0)).sort((a, b) => a - b),
    changes: ids(changes.map((c) => c.row_key)).sort((a, b) => a - b),
  };
}

const cases: [string, number[]][] = [
  // A day at UTC, of a timestamptz: 00:00 and 03:00 UTC are 2023-12-31 in New York.
  ["at >= timestamp '2024-01-01 00:00:00' and at < timestamp '2024-01-02 00:00:00'", [2, 3, 4]],
  // Dates promoted to their midnight at UTC.
  ["at >= date '2024-01-01' and at < date '2024-01-02'", [2, 3, 4]],
  ["at between timestamp '2024-01-01 03:00:00' and timestamp '2024-01-01T06:00'", [3, 4]],
  ["at in (timestamp '2024-01-01 03:00:00', timestamp '2024-01-02T02:00:00Z')", [3, 5]],
  // A timestamp without zone is compared at its wall clock, as it was.
  ["local >= timestamp '2024-01-01 00:00:00' and local < date '2024-01-02'", [2, 3, 4]],
  ["local in (timestamp '2024-01-01 03:00:00', timestamp '2024-01-02T02:00:00Z')", [3, 5]],
  // An offset of the literal's own: 01:00 at +01:00 is 00:00 UTC, for either column.
  ["at >= timestamp '2024-01-01 01:00:00+01:00'", [2, 3, 4, 5]],
  ["local >= timestamp '2024-01-01 01:00:00+01'", [2, 3, 4, 5]],
  ["at < timestamp '2023-12-31T19:00:00.000001-0500'", [1, 2]],
  // A date column meets the instant at UTC: 2024-01-02 20:00 at -05:00 is 2024-01-03 01:00 UTC.
  ["day > timestamp '2024-01-02 20:00:00-05:00'", [5]],
];

describeEngines('where timestamps are UTC in a session of any zone', (engine) => {
  beforeAll(async () => {
    await engine.exec(`
      CREATE SCHEMA app;
      CREATE TABLE app.events (id bigint PRIMARY KEY, email text, at timestamptz, local timestamp, day date);
      CREATE TABLE app.members (id bigint, email text, audience text);
      INSERT INTO app.events VALUES ${rows.map(([id, t, d]) => `(${id}, 'u${id}@x.com', '${t}+00', '${t}', '${d}')`).join(', ')};
    `);
  });

  it.each(cases)('%s', async (where, expected) => {
    const f = compiled(where);
    for (const zone of ['America/New_York', 'UTC', 'Asia/Kolkata']) {
      expect({ zone, ...(await selected(engine, f, zone)) }).toEqual({ zone, mirror: expected, extract: expected, changes: expected });
    }
  });
});

describe('the text of a timestamp literal', () => {
  const where = (w: string) => {
    const f = compiled(w);
    return /WHERE\n([\s\S]*?);?\s*$/.exec(f.extract)?.[1]?.trim();
  };

  it('is the instant at UTC, untyped, so that the column reads it as its own type', () => {
    expect(where("at >= timestamp '2024-01-01T01:00+01:00'")).toBe(`"m"."at" >= '2024-01-01 00:00:00+00:00'`);
    expect(where("at >= date '2024-01-01'")).toBe(`"m"."at" >= '2024-01-01 00:00:00+00:00'`);
    // The fraction as written; an offset that crosses a day, a month and a year.
    expect(where("at < timestamp '2023-12-31 23:30:00.123456789-01:00'")).toBe(`"m"."at" < '2024-01-01 00:30:00.123456789+00:00'`);
    // A day alone is its midnight; back across a leap day; the zone as Z.
    expect(where("at = timestamp '2024-02-29'")).toBe(`"m"."at" = '2024-02-29 00:00:00+00:00'`);
    expect(where("at = timestamp '2024-03-01 00:10+00:30'")).toBe(`"m"."at" = '2024-02-29 23:40:00+00:00'`);
    expect(where("at = timestamp '2024-03-01T00:10:05Z'")).toBe(`"m"."at" = '2024-03-01 00:10:05+00:00'`);
    // Against a date column's midnight, a timestamp without zone at that wall clock.
    expect(where("day > timestamp '2024-01-02 20:00:00-05:00'")).toBe(`CAST("m"."day" AS TIMESTAMP) > CAST('2024-01-03 01:00:00' AS TIMESTAMP)`);
  });
});
