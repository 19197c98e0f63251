/**
 * dbt's artifacts as dbt writes them, read by syncwright: dbt-core's own test manifests for
 * schema v10, v11 and v12, and a public jaffle_shop project on Snowflake with its catalog
 * (test/fixtures/dbt/README.md says where each comes from). The catalog is held to dbt's
 * published catalog schema; models read from them are checked and compiled as a `.sync` file
 * would name them; both targets of examples/dbt-shop compile to their own relation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { checkProject } from '../src/check/check.js';
import { readDbtProject, relationParts } from '../src/check/dbt/artifacts.js';
import { dbtProjectsFrom } from '../src/dbt/load.js';
import { readWarehouseType } from '../src/check/dbt/types.js';
import { planSync } from '../src/plan/index.js';
import { emitSync } from '../src/emit/index.js';
import { SqlFormatter } from '../src/emit/format.js';
import { inputHash } from '../src/emit/manifest.js';
import { applyStrict } from '../src/cli/output.js';
import { renderGithub, renderText } from '../src/diagnostics/render.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'dbt');
const json = (path: string): unknown => JSON.parse(readFileSync(join(fixtures, path), 'utf8'));
const require = createRequire(import.meta.url);

/** A Postgres source whose dbt project holds `dim_customers`, and the model read from it. */
const customersFromDbt = `source warehouse : postgres {
  database    "shop"
  dbt_project "dbt"
}
model customers {
  from warehouse
  dbt  dim_customers
}
`;

describe('manifests of dbt-core, schema v10 to v12', () => {
  it.each([10, 11, 12])('v%i: my_model, its relation, and the not_null test on id', (version) => {
    const project = readDbtProject(json(`dbt-core-v${version}/target/manifest.json`));
    expect(project.version).toBe(version);
    expect(project.adapter).toBe('postgres');
    const model = project.models.get('my_model')!;
    expect(model.uniqueId).toBe('model.test.my_model');
    expect(model.relation.map((p) => p.text)).toEqual(['dbt', expect.stringMatching(/_test_previous_version_state$/), 'my_model']);
    expect(model.relation.every((p) => p.quoted)).toBe(true);
    expect([...model.notNull]).toEqual(['id']);
    expect([...model.unique]).toEqual([]);
    // Documented in YAML without data_type, and no catalog: no type.
    expect(model.columns).toEqual([{ name: 'id', exact: false }]);
    // Tests, analyses and sources are not relations a model reads.
    expect([...project.models.keys()]).toEqual(['my_model']);
  });

  it('refuses a manifest of another schema version, saying which it reads', () => {
    const old = { metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v9.json' }, nodes: {} };
    expect(() => readDbtProject(old)).toThrow('manifest schema v9 is not read: syncwright reads v10, v11, v12');
    expect(() => readDbtProject({ nodes: {} })).toThrow('it is not a dbt manifest');
  });
});

describe('a public project on Snowflake (jaffle_shop, dbt 1.9.4)', () => {
  it("has a catalog that validates against dbt's published catalog v1 schema", () => {
    const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(json('schemas/catalog-v1.json') as object);
    expect(validate(json('jaffle-shop-snowflake/target/catalog.json')), JSON.stringify(validate.errors)).toBe(true);
    // The schema holds: a key the catalog does not have is refused.
    expect(validate({ ...(json('jaffle-shop-snowflake/target/catalog.json') as object), extra: 1 })).toBe(false);
  });

  it("types YAML's lower-case columns from the catalog's upper-case ones, and keeps the folded relation", () => {
    const project = readDbtProject(json('jaffle-shop-snowflake/target/manifest.json'), json('jaffle-shop-snowflake/target/catalog.json'));
    const model = project.models.get('customers')!;
    // relation_name FY26_TASK_FORCE_ICHIKAWA.STREAMLIT_TEST.customers: unquoted, folded by Snowflake.
    expect(model.relation).toEqual([
      { text: 'FY26_TASK_FORCE_ICHIKAWA', quoted: false },
      { text: 'STREAMLIT_TEST', quoted: false },
      { text: 'customers', quoted: false },
    ]);
    expect(model.columns.slice(0, 4)).toEqual([
      { name: 'CUSTOMER_ID', exact: true, type: 'TEXT', typedBy: 'catalog' },
      { name: 'CUSTOMER_NAME', exact: true, type: 'TEXT', typedBy: 'catalog' },
      { name: 'COUNT_LIFETIME_ORDERS', exact: true, type: 'NUMBER', typedBy: 'catalog' },
      { name: 'FIRST_ORDERED_AT', exact: true, type: 'TIMESTAMP_NTZ', typedBy: 'catalog' },
    ]);
    expect(model.columns).toHaveLength(9);
  });

  it("compiles a sync of it: a column written bare in the .sync file is the catalog's upper-case one", () => {
    const sync = `source sf : snowflake {
  account     "acme-xy12345"
  database    "FY26_TASK_FORCE_ICHIKAWA"
  dbt_project "jaffle-shop-snowflake"
}
model customers {
  from sf
  dbt  customers
}
sync customers_copy {
  from       customers
  to         sf table crm.customers
  mode       upsert
  identifier customer_id -> customer_id
  map { lifetime_spend -> lifetime_spend  customer_type -> customer_type }
}
`;
    const result = checkProject([{ path: 'shop.sync', text: sync }], { dbtProjects: dbtProjectsFrom((name) => join(fixtures, name)) });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // Not tested unique and not tested not_null in this manifest (the tests were dropped with the other nodes).
    expect(result.diagnostics.map((d) => d.code).sort()).toEqual(['SW0205', 'SW0215']);
    // The missing `unique` test is a note: shown, but it fails no build, not even under --strict.
    const strict = applyStrict(result.diagnostics, true);
    expect(strict.map((d) => `${d.code} ${d.severity}`).sort()).toEqual(['SW0205 error', 'SW0215 note']);
    const note = result.diagnostics.filter((d) => d.code === 'SW0215');
    const text = renderText(note, new Map([['shop.sync', sync]]), false);
    expect(text).toMatch(/^note\[SW0215\]: identifier column `CUSTOMER_ID` of dbt model `customers` has no `unique` test/);
    expect(text.split('\n').at(-1)).toBe('0 errors, 0 warnings, 1 note');
    expect(renderGithub(note)).toMatch(/^::notice file=shop\.sync,/);
    const model = result.project.models[0]!;
    expect(model.columns.map((c) => `${c.name.text} ${c.type}`)).toEqual([
      'CUSTOMER_ID string',
      'CUSTOMER_NAME string',
      'COUNT_LIFETIME_ORDERS decimal',
      'FIRST_ORDERED_AT timestamp',
      'LAST_ORDERED_AT timestamp',
      'LIFETIME_SPEND_PRETAX decimal',
      'LIFETIME_TAX_PAID decimal',
      'LIFETIME_SPEND decimal',
      'CUSTOMER_TYPE string',
    ]);
    const apply = emitSync(planSync(result.project.syncs[0]!, {}), new SqlFormatter()).files.find((f) => f.name === 'apply.sql')!.content;
    expect(apply).toContain('"FY26_TASK_FORCE_ICHIKAWA"."STREAMLIT_TEST"."CUSTOMERS" AS "m"');
    expect(apply).toContain('"CUSTOMER_ID"');
  });
});

describe('the example project on both targets', () => {
  const root = join(import.meta.dirname, '..', 'examples', 'dbt-shop');
  const text = readFileSync(join(root, 'shop.sync'), 'utf8');
  const check = (target?: string) => checkProject([{ path: 'shop.sync', text }], { dbtProjects: dbtProjectsFrom((name) => join(root, name), target) });

  it('compiles dev from target/ and prod from target/prod/, each to its own relation and input hash', () => {
    const dev = check();
    const prod = check('prod');
    expect(dev.diagnostics).toEqual([]);
    expect(prod.diagnostics).toEqual([]);
    const sql = (r: typeof dev) =>
      emitSync(planSync(r.project.syncs.find((s) => s.name === 'customers_to_sales')!, {}), new SqlFormatter()).files.find((f) => f.name === 'apply.sql')!
        .content;
    expect(sql(dev)).toContain('"dbt_dev"."dim_customers"');
    expect(sql(dev)).not.toContain('"analytics"');
    expect(sql(prod)).toContain('"analytics"."dim_customers"');
    const texts = new Map([['shop.sync', text]]);
    const hash = (r: typeof dev) => inputHash(r.project.syncs[0]!, texts, {});
    expect(hash(dev)).not.toBe(hash(prod));
  });

  it('takes types from YAML first, then the catalog, and nullability from not_null tests', () => {
    const model = check().project.models[0]!;
    expect(model.columns.map((c) => [c.name.text, c.type, c.precision ?? null, c.nullable])).toEqual([
      ['customer_id', 'bigint', null, false],
      ['email', 'string', null, false],
      ['plan', 'string', null, true],
      ['lifetime_value', 'decimal', 12, true],
      ['updated_at', 'timestamp', null, true],
    ]);
    expect(model.dbt).toEqual({
      uniqueId: 'model.shop.dim_customers',
      name: 'dim_customers',
      unique: ['customer_id', 'email'],
      notNull: ['customer_id', 'email'],
    });
  });

  it('names the target folder it could not read', () => {
    const staging = check('staging');
    expect(staging.ok).toBe(false);
    expect(staging.diagnostics[0]).toMatchObject({ code: 'SW0123', message: expect.stringContaining('cannot read dbt/target/staging/manifest.json: ENOENT') });
    expect(staging.diagnostics[0]!.hints[0]).toBe(
      'run `dbt compile --target staging --target-path target/staging` (and `dbt docs generate` for column types) in dbt',
    );
  });
});

describe('versioned models', () => {
  const node = (version: number | string, latest: number | string | null) => ({
    resource_type: 'model',
    name: 'dim_customers',
    package_name: 'shop',
    unique_id: `model.shop.dim_customers.v${version}`,
    database: 'shop',
    schema: 'dbt_dev',
    alias: `dim_customers_v${version}`,
    relation_name: `"shop"."dbt_dev"."dim_customers_v${version}"`,
    version,
    latest_version: latest,
    config: { enabled: true, materialized: 'table' },
    columns: { customer_id: { name: 'customer_id', data_type: 'bigint' }, email: { name: 'email', data_type: 'text' } },
  });
  const manifest = (...nodes: ReturnType<typeof node>[]) => ({
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', project_name: 'shop', adapter_type: 'postgres' },
    nodes: Object.fromEntries(nodes.map((n) => [n.unique_id, n])),
  });
  const read = (...nodes: ReturnType<typeof node>[]) => readDbtProject(manifest(...nodes)).models.get('dim_customers')!.uniqueId;

  it("reads the version `ref('name')` resolves to: latest_version, else the highest, in any order of the manifest", () => {
    expect(read(node(2, 2), node(1, 2))).toBe('model.shop.dim_customers.v2');
    expect(read(node(1, 2), node(2, 2))).toBe('model.shop.dim_customers.v2');
    // A version 3 still in preview: latest_version stays 2.
    expect(read(node(3, 2), node(2, 2), node(1, 2))).toBe('model.shop.dim_customers.v2');
    // Without latest_version the highest, compared as numbers (10 after 9).
    expect(read(node(10, null), node(9, null))).toBe('model.shop.dim_customers.v10');
    expect(read(node('9', null), node('10', null))).toBe('model.shop.dim_customers.v10');

    const sync = `${customersFromDbt}sync customers_copy {
  from       customers
  to         warehouse table sales.customers
  mode       upsert
  identifier customer_id -> customer_id
}
`;
    const result = checkProject([{ path: 'shop.sync', text: sync }], { dbtProjects: () => readDbtProject(manifest(node(2, 2), node(1, 2))) });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.project.models[0]!.dbt?.uniqueId).toBe('model.shop.dim_customers.v2');
    const apply = emitSync(planSync(result.project.syncs[0]!, {}), new SqlFormatter()).files.find((f) => f.name === 'apply.sql')!.content;
    expect(apply).toContain('"dbt_dev"."dim_customers_v2" AS "m"');
  });
});

// A manifest is data: a column or relation it names may hold what the warehouse cannot, and the SQL could not quote it.
describe('names of dbt that the warehouse cannot hold', () => {
  const manifest = (relation: string, column: string) => ({
    metadata: { dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json', project_name: 'shop', adapter_type: 'postgres' },
    nodes: {
      'model.shop.dim_customers': {
        resource_type: 'model',
        name: 'dim_customers',
        package_name: 'shop',
        unique_id: 'model.shop.dim_customers',
        database: 'shop',
        schema: 'dbt_dev',
        alias: 'dim_customers',
        relation_name: relation,
        config: { enabled: true, materialized: 'table' },
        columns: { customer_id: { name: 'customer_id', data_type: 'bigint' }, [column]: { name: column, data_type: 'text' } },
      },
    },
  });
  const sync = `${customersFromDbt}destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync customers_to_crm {
  from       customers
  to         crm object contacts
  mode       upsert
  identifier customer_id -> external_id
}
sync customers_copy {
  from       customers
  to         warehouse table sales.customers
  mode       upsert
  identifier customer_id -> customer_id
}
`;
  const check = (relation: string, column: string) =>
    checkProject([{ path: 'shop.sync', text: sync }], { dbtProjects: () => readDbtProject(manifest(relation, column)) });

  it('reports a column name with U+0000 or half a surrogate pair once, at the `dbt` item', () => {
    for (const column of ['pl\u0000an', 'pl\ud800an']) {
      const result = check('"shop"."dbt_dev"."dim_customers"', column);
      expect(result.ok).toBe(false);
      // Once: the sync that sends the column to an API under its own name does not report it again.
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      expect(errors.map((d) => `${d.span.line}:${d.span.column} ${d.message.split(':')[0]}`)).toEqual([`7:8 \`${column}\` cannot be a PostgreSQL name`]);
    }
  });

  it('reports a relation name with U+0000 at the `dbt` item', () => {
    const result = check('"shop"."dbt\u0000dev"."dim_customers"', 'plan');
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.span.line}:${d.span.column}`)).toEqual(['SW0120 7:8']);
  });
});

describe("reading dbt's words", () => {
  it('reads relation names as each warehouse quotes them', () => {
    expect(relationParts('"dbt"."my ""odd"" schema"."t"')).toEqual([
      { text: 'dbt', quoted: true },
      { text: 'my "odd" schema', quoted: true },
      { text: 't', quoted: true },
    ]);
    expect(relationParts('`proj-1`.`ds`.`t`')).toEqual([
      { text: 'proj-1', quoted: true },
      { text: 'ds', quoted: true },
      { text: 't', quoted: true },
    ]);
    expect(relationParts('DB.S.T')).toEqual([
      { text: 'DB', quoted: false },
      { text: 'S', quoted: false },
      { text: 'T', quoted: false },
    ]);
    expect(relationParts('"unclosed.t')).toBeUndefined();
  });

  it('reads warehouse types, and none it cannot', () => {
    expect(readWarehouseType('character varying(255)')).toEqual({ type: 'string' });
    expect(readWarehouseType('NUMBER(38,0)')).toEqual({ type: 'decimal', precision: 38, scale: 0 });
    expect(readWarehouseType('numeric(12, 2)')).toEqual({ type: 'decimal', precision: 12, scale: 2 });
    expect(readWarehouseType('TIMESTAMP_NTZ')).toEqual({ type: 'timestamp' });
    expect(readWarehouseType('INT64')).toEqual({ type: 'bigint' });
    expect(readWarehouseType('ARRAY<STRING>')).toBeUndefined();
    expect(readWarehouseType('geography')).toBeUndefined();
  });
});
