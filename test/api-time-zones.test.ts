/**
 * A timestamp reaches a destination as its UTC text whatever the session's TimeZone: the
 * compiled SQL runs under dbt's and Airflow's sessions too, whose zone is the server's. A
 * timestamptz is sent at UTC, a timestamp without zone at its wall clock, and a change of the
 * session's zone changes no payload hash (else every row would be sent again).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEngines, type Engine } from './support/engines.js';
import { compileSync, file } from './fixtures/api/compile.js';
import type { CommitStep } from '../src/contract/api-steps.js';

const project = (source: string) => `
source wh : ${source}
model events {
  from wh
  table app.events
  primary key id
  columns { id bigint at timestamp local timestamp }
}
destination lake : s3 { bucket "bkt" region "us-east-1" }
sync events_lake {
  from events
  to lake path "events.jsonl"
  mode mirror
  identifier id -> id
  map { at -> at local -> local }
  format jsonl
  guard allow empty
}
`;

const artifacts = compileSync(project('postgres { database "app" }'), 'events_lake');
const changesSql = file(artifacts, 'changes.sql');
const readSql = file(artifacts, 'read.sql');
const commitSql = file(artifacts, 'commit.sql');
const commitStep = artifacts.plan.steps.find((s): s is CommitStep => s.kind === 'commit')!;

interface ChangeRow {
  change: string;
  row_key: string;
  payload: string;
  payload_hash: string;
  destination_id: string | null;
}

/** changes.sql and read.sql in a session of zone `zone`, as a dbt or Airflow session on such a server runs them. */
async function changesIn(engine: Engine, zone: string): Promise<ChangeRow[]> {
  await engine.exec(`SET TimeZone TO '${zone}'`);
  await engine.exec(changesSql);
  return engine.query<ChangeRow>(readSql);
}

describeEngines('timestamps in a session not at UTC', (engine) => {
  beforeAll(async () => {
    await engine.exec(`
      CREATE SCHEMA app;
      CREATE TABLE app.events (id bigint PRIMARY KEY, at timestamptz, local timestamp);
      INSERT INTO app.events VALUES
        (1, '2024-01-02 12:00:00.123+00', '2024-01-02 12:00:00.123'),
        (2, '2024-07-01 03:30:00+05:30', '2024-03-10 02:30:00'),
        (3, '9999-12-31 23:59:59.999999+00', NULL),
        (4, 'infinity', '1900-01-01 00:00:00');
    `);
  });

  it('sends a timestamptz as its UTC text and a timestamp at its wall clock', async () => {
    const rows = await changesIn(engine, 'America/New_York');
    expect(Object.fromEntries(rows.map((r) => [r.row_key, JSON.parse(r.payload)]))).toEqual({
      1: { at: '2024-01-02T12:00:00.123Z', local: '2024-01-02T12:00:00.123Z' },
      2: { at: '2024-06-30T22:00:00.000Z', local: '2024-03-10T02:30:00.000Z' },
      3: { at: '9999-12-31T23:59:59.999Z', local: null },
      4: { at: null, local: '1900-01-01T00:00:00.000Z' },
    });
    for (const r of rows) await engine.query(commitStep.acceptedInsert.statement, [r.row_key, r.change, r.payload_hash, r.destination_id]);
    await engine.exec(commitSql);
  });

  it('finds nothing changed when the session zone changes', async () => {
    const rows = await changesIn(engine, 'Asia/Kolkata');
    expect(rows.map((r) => r.change)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });
});

describe('timestamps on Snowflake', () => {
  // One line, whatever the formatter's layout, with no space inside brackets.
  const sql = file(compileSync(project('snowflake { account "acme" database "APP" warehouse "WH" }'), 'events_lake'), 'changes.sql')
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')');

  it('formats a timestamp from its epoch, so that an LTZ is not formatted in the session TIMEZONE', () => {
    expect(sql).toContain(`TO_VARCHAR(TO_TIMESTAMP_NTZ(DATE_PART(EPOCH_MICROSECOND, "AT"), 6), 'YYYY-MM-DD"T"HH24:MI:SS.FF3"Z"')`);
    expect(sql).not.toMatch(/TO_VARCHAR\("AT"/);
  });
});
