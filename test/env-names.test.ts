// Table and schema names given where the sync runs (`env("X")` in a table path): the SQL holds
// a quoted placeholder, the executor fills it with the value folded and quoted by the endpoint's
// rule, and refuses an unset variable or a value that is no name before anything runs. The
// golden plan of such a sync is test/golden/warehouse/cross/env-names/ (warehouse-golden.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { formatSource } from '../src/syntax/format.js';
import { fillNames, NameError } from '../src/contract/names.js';
import type { SyncArtifacts } from '../src/contract/plan.js';
import { compileText as compileInMemory } from './fixtures/warehouse/compile.js';
import { compileText, runSync, sql } from './servers/run-harness.js';
import { scratchEngines, type ScratchDb } from './servers/scratch-db.js';

const project = (source: string, destination: string, targetDialect: string) => `
source wh : ${source}
destination dw : ${targetDialect}
model customers {
  from        wh
  table       env("SRC_SCHEMA").customers
  primary key id
  columns { id bigint  email string }
}
sync copy {
  from       customers
  to         dw table env("DST_SCHEMA").customers_copy
  mode       mirror
  identifier id -> id
  map { email -> email }
  guard      deletes <= 50%
}
`;

const pgSource = 'postgres { database "test" }';
const crossProject = project(pgSource, '', 'snowflake { account "myorg-dw" warehouse "LOAD_WH" database "DW" user "L" password env("SF_PASSWORD") }');
const bigqueryProject = project('bigquery { project "acme-dw" }', '', 'bigquery { project "acme-dw" }');

function filled(a: SyncArtifacts, env: Record<string, string | undefined>) {
  const { plan, files } = fillNames(a.plan, new Map(a.files.map((f) => [f.name, f.content])), env);
  return { plan, file: (name: string) => files.get(name)! };
}

describe('fillNames', () => {
  it('writes each value folded and quoted by the rule of the endpoint the file runs on, never as given', () => {
    const [a] = compileInMemory(crossProject);
    expect(a!.plan.nameVariables).toEqual(['DST_SCHEMA', 'SRC_SCHEMA']);
    const f = filled(a!, { SRC_SCHEMA: 'Dev', DST_SCHEMA: 'Dev' });
    // extract.sql runs on Postgres (folds to lower case), apply.sql on Snowflake (upper case).
    expect(f.file('extract.sql')).toContain('FROM\n  "dev"."customers" AS "m"');
    expect(f.file('apply.sql')).toContain('MERGE INTO "DEV"."CUSTOMERS_COPY" AS "t"');
    expect(f.file('apply.sql')).not.toContain('{{env:');
    expect(f.plan.destination.target).toEqual(['DEV', 'CUSTOMERS_COPY']);
    // Snowflake's lock row lives in the target's schema, named by the same variable.
    expect(f.plan.lock.table).toBe('"DEV"."syncwright_locks"');
    expect(JSON.stringify(f.plan)).not.toContain('{{env:');
    // The compiled artifacts are left as they were.
    expect(a!.files.find((x) => x.name === 'apply.sql')!.content).toContain('"{{env:DST_SCHEMA}}"."CUSTOMERS_COPY"');
  });

  it('on BigQuery: backticks, the value kept as written', () => {
    const [a] = compileInMemory(bigqueryProject);
    const f = filled(a!, { SRC_SCHEMA: 'Raw_EU', DST_SCHEMA: 'crm' });
    expect(f.file('extract.sql')).toContain('`Raw_EU`.`customers`');
    expect(f.file('apply.sql')).toContain('MERGE INTO `crm`.`customers_copy`');
    expect(f.plan.lock).toMatchObject({ schema: '`crm`', table: '`crm`.`syncwright_locks`' });
  });

  it.each([
    [undefined, /SRC_SCHEMA is not set/],
    ['', /is no name for wh: it is empty/],
    ['x"; drop table y; --', /SRC_SCHEMA="x\\"; drop table y; --" is no name for wh: it is not a bare name/],
    ['a.b', /not a bare name/],
    ['x`y', /not a bare name/],
    ['1abc', /not a bare name/],
    ['a'.repeat(64), /64 bytes long, longer than the 63/],
  ])('refuses %j before anything runs', (value, message) => {
    const [a] = compileInMemory(crossProject);
    const run = () => filled(a!, { SRC_SCHEMA: value, DST_SCHEMA: 'crm' });
    expect(run).toThrow(NameError);
    expect(run).toThrow(message);
    expect(run).toThrow(/sync copy \(project\.sync:10\) names a table with env\("SRC_SCHEMA"\)/);
  });

  it('fills nothing in a plan without nameVariables', () => {
    const [a] = compileInMemory(crossProject.replaceAll(/env\("(SRC|DST)_SCHEMA"\)/g, 'crm'));
    expect(a!.plan.nameVariables).toBeUndefined();
    expect(a!.plan.source.identifiers).toBeUndefined();
    const f = filled(a!, { SRC_SCHEMA: 'x' });
    expect(f.file('apply.sql')).toBe(a!.files.find((x) => x.name === 'apply.sql')!.content);
  });
});

describe('env() in .sync files, checked', () => {
  it('is formatted as one token of the path', () => {
    const text = project(pgSource, '', 'postgres { database "test" }').replace('env("SRC_SCHEMA").customers', "env( 'SRC_SCHEMA' ) . customers");
    const out = formatSource('p.sync', text);
    expect(out.text).toContain("table       env('SRC_SCHEMA').customers\n");
  });

  const diagnostics = (text: string) =>
    compile([{ path: 'p.sync', text }], {})
      .diagnostics.filter((d) => d.severity === 'error')
      .map((d) => `${d.code} ${d.span.line}:${d.span.column} ${d.message}`);

  it('a table of an API destination cannot be named by env()', () => {
    const text = `${project(pgSource, '', 'webhook { url "https://x.example.com" }')}`
      .replace('to         dw table env("DST_SCHEMA").customers_copy', 'to dw path env("P")')
      .replace('mode       mirror', 'mode insert')
      .replace('guard      deletes <= 50%', '');
    expect(diagnostics(text)).toEqual([expect.stringMatching(/^SW0211 12:14 a webhook path cannot be named by env\(\)/)]);
  });

  it('the placeholder cannot be written in a name, a string or a query; a variable name must be one', () => {
    const text = `source wh : postgres { database "t" }
model a { from wh  table "{{env:X}}".t  columns { id bigint  e string } }
model b { from wh  sql """select '{{env:X}}' as id"""  columns { id bigint } }
model c { from wh  table env("9x").t  columns { id bigint } }
audience d { from a  where e = '{{env:X}}' }
`;
    expect(diagnostics(text)).toEqual([
      expect.stringMatching(/^SW0120 2:26 `\{\{env:X\}\}` cannot be a PostgreSQL name: `\{\{env:` starts the placeholder/),
      expect.stringMatching(/^SW0122 3:\d+ the `sql` of model `b` cannot stand as one query: `\{\{env:` starts the placeholder/),
      expect.stringMatching(/^SW0120 4:30 `9x` cannot be a variable name/),
      expect.stringMatching(/^SW0004 5:\d+ .*`\{\{env:` starts the placeholder/),
    ]);
  });
});

// The same compiled sync, run with two values: each run reads and writes the schema its value names.
for (const engine of scratchEngines) {
  describe(`env() names run [${engine.name}]`, () => {
    let db: ScratchDb;
    let build: string;
    const seed = `
      CREATE SCHEMA dev; CREATE SCHEMA prod;
      CREATE TABLE dev.customers (id BIGINT, email TEXT); INSERT INTO dev.customers VALUES (1, 'a@dev'), (2, 'b@dev');
      CREATE TABLE prod.customers (id BIGINT, email TEXT); INSERT INTO prod.customers VALUES (7, 'g@prod');
      CREATE TABLE dev.customers_copy (id BIGINT PRIMARY KEY, email TEXT);
      CREATE TABLE prod.customers_copy (id BIGINT PRIMARY KEY, email TEXT);
      CREATE TABLE y (n INT);`;
    const copies = async () =>
      (await sql(db, `SELECT 'dev' AS s, id, email FROM dev.customers_copy UNION ALL SELECT 'prod', id, email FROM prod.customers_copy ORDER BY 1, 2`))[0]!.map(
        (r) => `${r.s} ${r.id} ${r.email}`,
      );

    beforeAll(async () => {
      db = await engine.open();
      await sql(db, seed);
      build = await compileText(
        project(pgSource, '', 'postgres { database "test" }')
          .replace('destination dw : postgres { database "test" }', '')
          .replace('to         dw table', 'to         wh table'),
        15,
      );
    });
    afterAll(async () => db?.drop());

    it('each value lands its rows in its own schema', async () => {
      const dev = await runSync(db, build, 'copy', { env: { SRC_SCHEMA: 'dev', DST_SCHEMA: 'dev' } });
      expect(dev.status, dev.error).toBe('ok');
      // `Prod` is folded as a bare name is on Postgres.
      const prod = await runSync(db, build, 'copy', { env: { SRC_SCHEMA: 'prod', DST_SCHEMA: 'Prod' } });
      expect(prod.status, prod.error).toBe('ok');
      expect(await copies()).toEqual(['dev 1 a@dev', 'dev 2 b@dev', 'prod 7 g@prod']);
    });

    it('an API sync builds its change set from the schema its value names (a dry run)', async () => {
      const api = await compileText(
        `source wh : postgres { database "test" }
model customers { from wh  table env("SRC_SCHEMA").customers  primary key id  columns { id bigint  email string } }
destination crm : webhook { url "https://crm.example.com/hooks" }
sync to_crm { from customers  to crm path "/customers"  mode insert  identifier id -> customer_id  map { email -> email } }
`,
        15,
      );
      const dev = await runSync(db, api, 'to_crm', { dryRun: true, env: { SRC_SCHEMA: 'DEV' } });
      expect(dev.status, dev.error).toBe('ok');
      expect(dev.changes).toMatchObject({ model_rows: 2, added: 2 });
      const prod = await runSync(db, api, 'to_crm', { dryRun: true, env: { SRC_SCHEMA: 'prod' } });
      expect(prod.changes).toMatchObject({ model_rows: 1, added: 1 });
    });

    it("a source's `schema` names the schema of tables written without one: as given, or from env() where the sync runs", async () => {
      const syncs = (schema: string) => `source wh : postgres { database "test"  schema ${schema} }
model customers { from wh  table customers  primary key id  columns { id bigint  email string } }
destination crm : webhook { url "https://crm.example.com/hooks" }
sync to_crm { from customers  to crm path "/customers"  mode insert  identifier id -> customer_id  map { email -> email } }
sync copy { from customers  to wh table customers_copy  mode mirror  identifier id -> id  map { email -> email }  guard deletes <= 50% }
`;
      // No table of these names is on the search path (public): each statement names its schema.
      const fromEnv = await compileText(syncs('env("SRC_SCHEMA")'), 15);
      const dev = await runSync(db, fromEnv, 'to_crm', { dryRun: true, env: { SRC_SCHEMA: 'dev' } });
      expect(dev.status, dev.error).toBe('ok');
      expect(dev.changes).toMatchObject({ model_rows: 2, added: 2 });
      const prod = await runSync(db, fromEnv, 'to_crm', { dryRun: true, env: { SRC_SCHEMA: 'prod' } });
      expect(prod.changes).toMatchObject({ model_rows: 1, added: 1 });
      const copy = await runSync(db, fromEnv, 'copy', { env: { SRC_SCHEMA: 'prod' } });
      expect(copy.status, copy.error).toBe('ok');
      const literal = await compileText(syncs('"dev"'), 15);
      const given = await runSync(db, literal, 'to_crm', { dryRun: true });
      expect(given.status, given.error).toBe('ok');
      expect(given.changes).toMatchObject({ model_rows: 2, added: 2 });
      expect(await copies()).toEqual(['dev 1 a@dev', 'dev 2 b@dev', 'prod 7 g@prod']);
    });

    it('an unset variable or a hostile value fails the sync before any SQL runs', async () => {
      const unset = await runSync(db, build, 'copy', { env: { DST_SCHEMA: 'dev' } });
      expect(unset.status).toBe('failed');
      expect(unset.error).toMatch(/^sync copy \(project\.sync:10\) names a table with env\("SRC_SCHEMA"\), and SRC_SCHEMA is not set: set it/);
      expect(unset.steps).toEqual([]);
      const hostile = await runSync(db, build, 'copy', { env: { SRC_SCHEMA: 'dev', DST_SCHEMA: 'x"; drop table y; --' } });
      expect(hostile.status).toBe('failed');
      expect(hostile.error).toMatch(/DST_SCHEMA="x\\"; drop table y; --" is no name for wh: it is not a bare name/);
      expect(hostile.steps).toEqual([]);
      expect((await sql(db, 'SELECT count(*)::int AS n FROM y'))[0]).toEqual([{ n: 0 }]);
      expect(await copies()).toEqual(['dev 1 a@dev', 'dev 2 b@dev', 'prod 7 g@prod']);
    });
  });
}
