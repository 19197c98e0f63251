// A load into another warehouse carries each value exactly: read as the source's text and cast
// by the load table's types, not through a driver's Date (milliseconds) or double (JSON
// numbers). The target ends as the same sync run in one warehouse leaves it, value for value
// (compared as each column's text), duplicate identifiers won by the same row; a rerun changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compileText, execOptions, sql } from './servers/run-harness.js';
import { runPlans, type Databases, type PlanReport } from '../src/run/index.js';
import { pgUrl, scratchPglite, scratchPostgres, type ScratchDb } from './servers/scratch-db.js';
import { textFrom } from '../src/run/engines/snowflake-session.js';
import { timestampOfMicros } from '../src/run/engines/exact-text.js';

const table = `id bigint, ts timestamp, tstz timestamptz, d date, amount numeric(38, 18), big bigint, f double precision, body jsonb, flag boolean, name text`;
const columns = 'id, ts, tstz, d, amount, big, f, body, flag, name';

const seed = `CREATE TABLE public.events (${table});
CREATE TABLE public.events_copy (${table}, PRIMARY KEY (id));
INSERT INTO public.events VALUES
  (1, '2024-01-01 10:00:00.123456', '2024-01-01 10:00:00.654321+05:30', '0044-03-15 BC', 12345678901234567890.123456789012345678,
   9007199254740993, 0.30000000000000004, '{"n": 9007199254740993, "big": 1e400, "a": 0.1000000000000000055511151231257827, "z": [1.0, -0]}', true, 'Zoë ∑ 😀 ''"\\'),
  (2, '10000-01-01 00:00:00.000001', '0001-01-01 00:30:00.5+01 BC', '12345-06-07', -0.000000000000000001,
   -9223372036854775808, 1e-300, '[]', false, ''),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, 'null', NULL, NULL),
  -- Two rows of one identifier a tenth of a millisecond apart: order by ts desc keeps the later.
  (4, '2024-01-01 10:00:00.000100', '2024-01-01 10:00:00.000100+00', '2024-01-01', 1, 1, 1, '{"w": 1}', true, 'earlier'),
  (4, '2024-01-01 10:00:00.000200', '2024-01-01 10:00:00.000200+00', '2024-01-01', 2, 2, 2, '{"w": 2}', true, 'later');`;

const project = `
source wh : postgres { database "src" }
destination dw : postgres { host "dw" database "dw" user "u" password env("DW_PASSWORD") }
model events {
  from wh
  table public.events
  order by ts desc
  columns { id bigint ts timestamp? tstz timestamp? d date? amount decimal(38, 18)? big bigint? f float? body json? flag bool? name string? }
}
sync ev {
  from events
  to dw table public.events_copy
  mode mirror
  identifier id -> id
  map { ts -> ts tstz -> tstz d -> d amount -> amount big -> big f -> f body -> body flag -> flag name -> name }
  guard deletes <= 100%
}
`;

/** Every column as its text, timestamptz in UTC whatever the database's zone. */
const texts = async (db: ScratchDb, from: string) =>
  (
    await sql(
      db,
      `SET TimeZone = 'UTC'; SELECT ${columns
        .split(', ')
        .map((c) => `${c}::text`)
        .join(', ')} FROM ${from} ORDER BY id, ts`,
    )
  ).at(-1);

async function run(build: string, dbs: Databases): Promise<PlanReport> {
  const report = await runPlans([join(build, 'ev', 'plan.json')], dbs, execOptions());
  return report.plans[0] as PlanReport;
}

const counts = (r: PlanReport) => {
  const { inserted, updated, deleted } = (r.steps.at(-1)?.result?.[0] ?? {}) as Record<string, unknown>;
  return { inserted: Number(inserted), updated: Number(updated), deleted: Number(deleted) };
};

describe('a cross-warehouse load carries values exactly', () => {
  const made: ScratchDb[] = [];
  let cross: string;
  let same: string;
  beforeAll(async () => {
    if (!pgUrl) throw new Error('SYNCWRIGHT_TEST_PG_URL is not set: this suite needs the PostgreSQL test server');
    cross = await compileText(project, 15);
    same = await compileText(project.replace(/^destination .*$/m, '').replace('to dw table', 'to wh table'), 15);
  });
  afterAll(async () => {
    for (const db of made) await db.drop();
  });

  /** The sync within the source's database (the reference), then across into `destination`. */
  async function check(source: ScratchDb, destination: ScratchDb, dbs: Databases): Promise<void> {
    await sql(source, seed);
    await sql(destination, seed);
    const one = await run(same, source.url ? { byName: { wh: source.url }, folder: '' } : { byName: {}, folder: source.folder ?? '', embedded: true });
    expect(one.status, one.error).toBe('ok');
    const expected = await texts(source, 'public.events_copy');
    // The later of the two rows of identifier 4 (its sub-millisecond ts) wins in one warehouse.
    expect(expected?.find((r) => r.id === '4')?.name).toBe('later');

    const r = await run(cross, dbs);
    expect(r.status, r.error).toBe('ok');
    expect(r.steps[0]).toMatchObject({ kind: 'load', rows: 5 });
    expect(counts(r)).toEqual({ inserted: 4, updated: 0, deleted: 0 });
    expect(await texts(destination, 'public.events_copy')).toEqual(expected);
    const again = await run(cross, dbs);
    expect(again.status, again.error).toBe('ok');
    expect(counts(again)).toEqual({ inserted: 0, updated: 0, deleted: 0 });
    expect(await texts(destination, 'public.events_copy')).toEqual(expected);
  }

  it('from the embedded database into PostgreSQL 15', async () => {
    const source = scratchPglite();
    made.push(source);
    const destination = await scratchPostgres(pgUrl as string);
    made.push(destination);
    await check(source, destination, { byName: { dw: destination.url as string }, folder: source.folder as string, embedded: true });
  });

  it("from PostgreSQL 15 into another database, the source's sessions in another time zone", async () => {
    const source = await scratchPostgres(pgUrl as string);
    made.push(source);
    const destination = await scratchPostgres(pgUrl as string);
    made.push(destination);
    // A timestamptz crosses as its instant, not as the source session's wall time.
    await sql(source, `ALTER DATABASE ${new URL(source.url as string).pathname.slice(1)} SET TimeZone = 'Asia/Kolkata'`);
    await check(source, destination, { byName: { wh: source.url as string, dw: destination.url as string }, folder: '' });
  });
});

// The other engines' documented wire forms (Snowflake's SQL API: every value a string, DATE in
// days, timestamps in seconds with nine decimals, TIMESTAMP_TZ's offset in minutes plus 1440;
// BigQuery's REST: TIMESTAMP in microseconds) written out to their last digit.
it("Snowflake's and BigQuery's wire forms as exact text", () => {
  const sf = (type: string, v: string) => textFrom({ name: 'c', type }, v);
  expect([sf('date', '-735000'), sf('date', '2932897'), sf('timestamp_ntz', '1704103200.123456789'), sf('timestamp_ltz', '-0.500000000')]).toEqual([
    '0044-08-22 BC',
    '10000-01-01',
    '2024-01-01 10:00:00.123456789',
    '1969-12-31 23:59:59.5+00:00',
  ]);
  expect([sf('timestamp_tz', '1616173619.000001000 960'), sf('fixed', '9007199254740993'), sf('boolean', 'TRUE')]).toEqual([
    '2021-03-19 09:06:59.000001-08:00',
    '9007199254740993',
    'true',
  ]);
  expect(timestampOfMicros('1704103200123457')).toBe('2024-01-01 10:00:00.123457+00:00');
});
