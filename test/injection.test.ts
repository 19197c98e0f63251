/**
 * The injection corpus: strings and names with quotes, backslashes, `$$` and `$guard$`,
 * comment markers, line breaks and non-ASCII text, in an audience's `where` (compared, in a
 * list, as `like` patterns), in schema, table, column and field names and in the state
 * schema. Compiled, then run on the PostgreSQL 15 server with standard_conforming_strings off
 * and on, and on PGlite with it off (the database's default, so the generated SQL cannot set
 * it first): through `syncwright run` (the API sync against a local HubSpot), and on the server
 * also through `psql -X -v ON_ERROR_STOP=1 -f`. The victim table survives, and the rows the
 * syncs write, and the API change set, are exactly those the condition means.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { asSubquery } from '../src/run/engines/sql-session.js';
import { openDb, sql } from './servers/run-harness.js';
import { startHubspot, type FakeHubspot } from './servers/hubspot.js';
import { compileText } from './fixtures/warehouse/compile.js';
import { describeWithSqlfluff, parseManyWithSqlfluff } from './support/sqlfluff.js';
import { scratchEngines, scratchFolder, type ScratchDb } from './servers/scratch-db.js';

/** In a `.sync` file: a double- or single-quoted string, escaped. */
const quoted = (q: '"' | "'", s: string) => q + s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t') + q;
/** In the seeding SQL (no literals: values go as parameters). */
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Values the condition lists: each names a row that must be chosen. */
const chosen = [
  '\\',
  // Read as SQL after the lone backslash above when '\' leaves its string open (the
  // compiled list's layout at the time): it closes the statement, drops and commits.
  ') ) AS "r" WHERE "r"."sw_c0" IS NOT NULL; DROP TABLE victim; COMMIT; --',
  "\\'; DROP TABLE victim; COMMIT; --",
  "'; DROP TABLE victim; --",
  '$$; DROP TABLE victim; $$',
  '$guard$ END $guard$; DROP TABLE victim; --',
  '/* an opened comment',
  '*/ -- a closed one',
  'line\nbreak',
  'tab\there',
  "E'\\x41' and \\u0041",
  'Zoë ✓ 日本 𝔘',
  '%_',
];
/** Values a misread literal would match instead: never chosen. */
const decoys = ['\\\\', 'A', "'", '', 'line', 'x%_', 'Zoe'];
/** `tag` values against the patterns `a\%b` and `a\\b`: the first and third match. */
const tags = ['a%b', 'axb', 'a\\b', 'a\\\\b', 'ab'];

const schema = "sw inj $$ -- /* '";
const people = 'people \\ "; DROP TABLE victim; --';
const nameColumn = "na'me \\ $guard$";
const members = 'members ✓ 𝔘 */';
const memberField = "'; DROP TABLE victim; -- ✓";
const stateSchema = "st'ate \\ $$";
const apiFields = ["x'; DROP TABLE victim; --", "back\\slash \\' $$ */"];

const sources = {
  postgres: 'postgres { database "test"',
  snowflake: 'snowflake { account "acme-test" database "TEST"',
  bigquery: 'bigquery { project "acme-test"',
};
const projectOn = (dialect: keyof typeof sources) => `
source wh : ${sources[dialect]}  state_schema ${quoted('"', stateSchema)} }
model people {
  from wh
  table ${quoted('"', schema)}.${quoted('"', people)}
  primary key id
  columns {
    id bigint
    email string
    ${quoted('"', nameColumn)} string?
    tag string?
  }
}
audience chosen {
  from people
  where \`${nameColumn}\` in (${chosen.map((v) => quoted("'", v)).join(', ')})
    or tag like ${quoted("'", 'a\\%b')} or tag like ${quoted("'", 'a\\\\b')}
}
sync chosen_copy {
  from chosen
  to wh table ${quoted('"', schema)}.${quoted('"', members)}
  mode add
  identifier id -> id
  map { ${quoted('"', nameColumn)} -> ${quoted('"', memberField)} }
}
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync chosen_crm {
  from chosen
  to crm list "VIP"
  mode add
  identifier email -> email
  map { ${quoted('"', nameColumn)} -> ${quoted('"', apiFields[0]!)}  tag -> ${quoted('"', apiFields[1]!)} }
}
`;
const project = projectOn('postgres');

type Row = { id: number; name: string | null; tag: string | null };
const rows: Row[] = [
  ...chosen.map((name, i) => ({ id: i + 1, name, tag: null })),
  ...decoys.map((name, i) => ({ id: 100 + i, name, tag: null })),
  ...tags.map((tag, i) => ({ id: 200 + i, name: null, tag })),
];
const expectedIds = [...chosen.map((_, i) => i + 1), 200, 202];
const expectedMembers = rows.filter((r) => expectedIds.includes(r.id)).map((r) => ({ id: r.id, field: r.name }));

async function seed(db: ScratchDb, conforming: 'on' | 'off'): Promise<void> {
  // The default of every session, as a server configured so has it: the test's own database's
  // on the server; the embedded database's whole configuration (it reads no per-database one).
  const setting = `standard_conforming_strings = ${conforming}`;
  await sql(db, db.url ? `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET ${setting}', current_database()); END $$;` : `ALTER SYSTEM SET ${setting}`);
  const s = await openDb(db);
  try {
    const [[setting]] = (await s.script('SHOW standard_conforming_strings')) as [[{ standard_conforming_strings: string }]];
    expect(setting.standard_conforming_strings).toBe(conforming);
    await s.script(`
      DROP TABLE IF EXISTS victim;
      CREATE TABLE victim (x int);
      DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE;
      DROP SCHEMA IF EXISTS ${ident(stateSchema)} CASCADE;
      CREATE SCHEMA ${ident(schema)};
      CREATE TABLE ${ident(schema)}.${ident(people)} (id bigint PRIMARY KEY, email text, ${ident(nameColumn)} text, tag text);
      CREATE TABLE ${ident(schema)}.${ident(members)} (audience text NOT NULL, id bigint NOT NULL, ${ident(memberField)} text, PRIMARY KEY (audience, id));`);
    for (const r of rows) {
      await s.query(`INSERT INTO ${ident(schema)}.${ident(people)} VALUES ($1, $2, $3, $4)`, [r.id, `${r.id}@x.test`, r.name, r.tag]);
    }
  } finally {
    await s.close();
  }
}

async function expectVictim(db: ScratchDb, what: string): Promise<void> {
  const [[victim]] = (await sql(db, "SELECT to_regclass('public.victim') IS NOT NULL AS here")) as [[{ here: boolean }]];
  expect(victim.here, `${what}: the victim table`).toBe(true);
}

/** The API sync's rows as the change set holds them (or HubSpot received them): key and fields. */
type Sent = { key: string; fields: unknown };

async function expectExactlyChosen(db: ScratchDb, what: string, sent: Sent[]): Promise<void> {
  await expectVictim(db, what);
  const [written] = await sql(db, `SELECT audience, id, ${ident(memberField)} AS field FROM ${ident(schema)}.${ident(members)} ORDER BY id`);
  expect(
    written?.map((r) => ({ id: Number(r.id), field: r.field })),
    `${what}: the rows the warehouse sync wrote`,
  ).toEqual(expectedMembers);
  expect(new Set(written?.map((r) => r.audience))).toEqual(new Set(['chosen']));
  expect(sent.map((r) => r.key).sort(), `${what}: the rows of the API change set`).toEqual(expectedIds.map((id) => `${id}@x.test`).sort());
  for (const c of sent) {
    const row = rows.find((r) => `${r.id}@x.test` === c.key)!;
    // HubSpot property values are text, and "" clears one: a NULL goes as "".
    expect(c.fields).toEqual({ [apiFields[0]!]: row.name ?? '', [apiFields[1]!]: row.tag ?? '' });
  }
}

async function cli(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const io: Io = { out: (t) => lines.push(t), err: (t) => lines.push(t), colour: false, cwd: process.cwd() };
  const code = await main(args, io);
  return { code, output: lines.join('\n') };
}

const folder = scratchFolder('syncwright-injection-');
const dir = join(folder.dir, 'project');
mkdirSync(dir);
writeFileSync(join(dir, 'project.sync'), project);
afterAll(() => folder.remove());

for (const engine of scratchEngines) {
  // The embedded database with the setting off only: on is its default, which every other test runs.
  for (const conforming of engine.name === 'pglite' ? (['off'] as const) : (['off', 'on'] as const)) {
    describe(`the injection corpus [${engine.name}, standard_conforming_strings ${conforming}]`, () => {
      let db: ScratchDb;
      let hubspot: FakeHubspot;
      const out = join(folder.dir, `build-${engine.name}-${conforming}`);
      beforeAll(async () => {
        db = await engine.open();
        hubspot = await startHubspot({ token: 'hs-token' });
      });
      afterAll(async () => {
        vi.unstubAllEnvs();
        await hubspot?.api.close();
        await db?.drop();
      });

      it('through syncwright run: the warehouse sync, and the API sync against a local HubSpot', async () => {
        await seed(db, conforming);
        const target = db.url ? ['--database', db.url] : ['--db', db.folder!];
        const copy = await cli(['run', dir, ...target, '--out', out, '--sync', 'chosen_copy']);
        expect(copy.code, copy.output).toBe(0);
        vi.stubEnv('HUBSPOT_TOKEN', 'hs-token');
        const crm = await cli(['run', dir, ...target, '--out', out, '--sync', 'chosen_crm', '--endpoint', `crm=${hubspot.api.url}`]);
        expect(crm.code, crm.output).toBe(0);
        expect(hubspot.api.violations).toEqual([]);
        const contacts = hubspot.records('contacts');
        expect(hubspot.lists.map((l) => [l.name, [...l.members].sort()])).toEqual([['VIP', contacts.map((c) => c.id).sort()]]);
        await expectExactlyChosen(
          db,
          'syncwright run',
          contacts.map(({ properties: { email, ...fields } }) => ({ key: String(email), fields })),
        );
      });

      // psql reaches the server only; the embedded database runs the same files through `syncwright run`.
      it.runIf(engine.name !== 'pglite')('through psql -X -v ON_ERROR_STOP=1 -f', async () => {
        await seed(db, conforming);
        // The change set is a temporary table of the session that built it: in the same psql
        // session, read.sql's rows are kept in a table the test reads afterwards.
        const keep = `CREATE TABLE public.read_rows AS SELECT * FROM (\n${asSubquery(readFileSync(join(out, 'chosen_crm/read.sql'), 'utf8'))}\n) AS r`;
        const psql = (...args: string[]) => spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db.url!, ...args], { encoding: 'utf8' });
        const runs = [
          psql('-f', join(out, 'chosen_copy/apply.sql')),
          psql('-c', 'DROP TABLE IF EXISTS public.read_rows', '-f', join(out, 'chosen_crm/changes.sql'), '-c', keep),
        ];
        // Before the exit status: psql runs statement by statement, and commits what it ran before an error.
        await expectVictim(db, 'psql -f');
        for (const r of runs) expect(r.status, r.stderr).toBe(0);
        const [read] = await sql(db, 'SELECT row_key, payload FROM public.read_rows');
        await expectExactlyChosen(
          db,
          'psql -f',
          (read ?? []).map((r) => ({ key: String(r.row_key), fields: JSON.parse(String(r.payload)) })),
        );
      });
    });
  }
}

// Snowflake and BigQuery cannot run here: their SQL of the same project is parsed by sqlfluff,
// every literal and name of the corpus in it (the quoting itself is checked character by
// character in warehouse-dialects.test.ts).
describeWithSqlfluff('the injection corpus in Snowflake and BigQuery SQL', () => {
  it('parses whole, every file of both syncs', { timeout: 600_000 }, async () => {
    const files = (['snowflake', 'bigquery'] as const).flatMap((dialect) =>
      compileText(projectOn(dialect)).flatMap((a) =>
        a.files.filter((f) => f.name !== 'read.sql').map((f) => ({ dialect, name: `${a.plan.sync.name}/${f.name}`, sql: f.content })),
      ),
    );
    expect(files.map((f) => `${f.dialect} ${f.name}`)).toEqual(
      ['snowflake', 'bigquery'].flatMap((d) => [`${d} chosen_copy/apply.sql`, `${d} chosen_crm/changes.sql`, `${d} chosen_crm/commit.sql`]),
    );
    const results = await parseManyWithSqlfluff(files.map((f) => ({ sql: f.sql, dialect: f.dialect })));
    results.forEach((r, i) => {
      const { dialect, name, sql: text } = files[i]!;
      // sqlfluff 1.4's Snowflake lexer ends a quoted name at a doubled quote (`"a ""b"""`), which
      // Snowflake reads as one name (https://docs.snowflake.com/en/sql-reference/identifiers-syntax):
      // it then cannot parse the rest of that line, and only that.
      const lines = text.split('\n');
      const misread = (u: { line: number }) => dialect === 'snowflake' && /"[^"\n]*""/.test(lines[u.line - 1] ?? '');
      expect(
        r.unparsable.filter((u) => !misread(u)),
        `${dialect} ${name}:\n${text}`,
      ).toEqual([]);
      expect(r.statements.length).toBeGreaterThan(0);
    });
  });
});
