/**
 * The dbt-backed example end to end, through the CLI: examples/dbt-shop checks and compiles
 * from its dbt artifacts, writes dbt exposures (held to dbt's property-file schema) and Airflow
 * DAGs (compiled by Python and read back by Python's parser: tasks, operators, connections,
 * edges), and its warehouse sync runs on the embedded database exactly as the generated
 * operator runs it: split by the DAGs' own splitter, one statement at a time on one session,
 * its summary row picked by the DAGs' own summary_row (what reaches XCom).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { freshPglite } from './support/pglite-template.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';

const repo = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const dagTool = join(repo, 'test', 'support', 'airflow_dag.py');

function syncwright(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function python(args: string[], input?: string): string {
  const r = spawnSync('python3', args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sw-dbt-shop-'));
  cpSync(join(repo, 'examples', 'dbt-shop'), join(dir, 'shop'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/dbt-shop', () => {
  it('checks clean and compiles, the manifest naming the dbt node and where each step runs', () => {
    expect(syncwright(['check', 'shop'], dir)).toMatchObject({ code: 0 });
    const r = syncwright(['compile', 'shop', '--out', 'build'], dir);
    expect(r.stderr).toContain('compiled 2 syncs');
    const manifest = JSON.parse(readFileSync(join(dir, 'build', 'manifest.json'), 'utf8'));
    const [hubspot, sales] = manifest.syncs;
    expect(sales.scheduler).toEqual({
      upstream: [{ model: 'customers', relation: ['dbt_dev', 'dim_customers'], dbt: 'model.shop.dim_customers' }],
      steps: [{ kind: 'sql', file: 'customers_to_sales/apply.sql', engine: 'postgres', on: 'destination', connection: 'shop_warehouse' }],
      env: [],
      lock: { key: expect.stringMatching(/^-?\d+$/), on: 'destination' },
    });
    expect(hubspot.scheduler.env).toEqual(['HUBSPOT_TOKEN']);
    expect(hubspot.scheduler.steps.map((s: { kind: string; engine: string }) => `${s.kind}:${s.engine}`)).toEqual([
      'changes:postgres',
      'read:postgres',
      'send:executor',
      'commit:postgres',
    ]);
  });

  it("writes dbt exposures that dbt's property-file schema accepts", () => {
    const r = syncwright(
      [
        'dbt',
        'exposures',
        'shop',
        '--out',
        'shop/dbt/models/syncwright_exposures.yml',
        '--owner-name',
        'Data team',
        '--owner-email',
        'data@example.com',
        '--url',
        'https://airflow.example.com/dags/{sync}',
      ],
      dir,
    );
    expect(r).toMatchObject({ code: 0 });
    expect(r.stderr).toContain('wrote 2 exposures');
    const yaml = readFileSync(join(dir, 'shop', 'dbt', 'models', 'syncwright_exposures.yml'), 'utf8');
    // Read back by a YAML parser of its own, as dbt reads it.
    const file = JSON.parse(python(['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], yaml));
    const { Ajv } = require('ajv') as typeof import('ajv');
    const validate = new Ajv({ strict: false, allErrors: true }).compile(
      JSON.parse(readFileSync(join(repo, 'test', 'fixtures', 'dbt', 'schemas', 'dbt_yml_files-exposures.json'), 'utf8')),
    );
    expect(validate(file), JSON.stringify(validate.errors)).toBe(true);
    expect(file.exposures.map((e: { name: string }) => e.name)).toEqual(['syncwright_customers_to_hubspot', 'syncwright_customers_to_sales']);
    expect(file.exposures[0]).toMatchObject({
      type: 'application',
      label: 'customers_to_hubspot (hubspot)',
      depends_on: ["ref('dim_customers')"],
      owner: { name: 'Data team', email: 'data@example.com' },
      url: 'https://airflow.example.com/dags/customers_to_hubspot',
      meta: { syncwright: { sync: 'customers_to_hubspot', mode: 'upsert', destination: 'crm', type: 'hubspot', file: 'shop.sync', line: 37 } },
    });
    // The schema holds: an exposure without an owner is refused.
    expect(validate({ version: 2, exposures: [{ ...file.exposures[0], owner: undefined }] })).toBe(false);
    expect(syncwright(['dbt', 'exposures', 'shop'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('need an owner') });
  });

  it('writes Airflow DAGs that Python compiles, with the tasks, operators, connections and order of the plans', () => {
    const r = syncwright(['airflow', '--manifest', 'build/manifest.json', '--out', 'dags', '--build', '/opt/airflow/build'], dir);
    expect(r).toMatchObject({ code: 0 });
    const files = readdirSync(join(dir, 'dags')).sort();
    expect(files).toEqual(['syncwright_after_dim_customers.py', 'syncwright_cron_0_x_x_x_x.py', 'syncwright_support.py']);
    python(['-m', 'py_compile', ...files.map((f) => join(dir, 'dags', f))]);
    const dags = JSON.parse(python([dagTool, ...files.filter((f) => f !== 'syncwright_support.py').map((f) => join(dir, 'dags', f))]));
    const cron = dags[join(dir, 'dags', 'syncwright_cron_0_x_x_x_x.py')];
    expect(cron.dag).toMatchObject({ dag_id: "'syncwright_cron_0_x_x_x_x'", schedule: "'0 * * * *'", max_active_runs: '1', catchup: 'False' });
    expect(cron.tasks).toEqual([
      {
        operator: 'CompiledSqlOperator',
        task_id: 'customers_to_sales__1_apply',
        conn_id: "'shop_warehouse'",
        sql_file: "f'{BUILD}/customers_to_sales/apply.sql'",
        max_active_tis_per_dag: '1',
      },
    ]);
    const after = dags[join(dir, 'dags', 'syncwright_after_dim_customers.py')];
    expect(after.dag.schedule).toBe("[Dataset('dbt://model.shop.dim_customers')]");
    expect(after.tasks).toEqual([
      {
        operator: 'BashOperator',
        task_id: 'customers_to_hubspot',
        bash_command: "run_plan_command(SYNCWRIGHT, f'{BUILD}/customers_to_hubspot/plan.json', ['HUBSPOT_TOKEN'])",
        append_env: 'True',
        max_active_tis_per_dag: '1',
      },
    ]);
    // Airflow 3's import paths first, Airflow 2.9's as the fallback.
    expect(after.imports).toEqual(
      expect.arrayContaining([
        'from airflow.sdk import Asset as Dataset',
        'from airflow.datasets import Dataset',
        'from airflow.providers.standard.operators.bash import BashOperator',
        'from airflow.operators.bash import BashOperator',
      ]),
    );
    // The variable is checked by name on the worker; its value never appears.
    const command = JSON.parse(
      python([dagTool, 'command', join(dir, 'dags'), 'npx syncwright', '/opt/airflow/build/customers_to_hubspot/plan.json', 'HUBSPOT_TOKEN']),
    );
    expect(command).toBe(
      ': "${HUBSPOT_TOKEN:?HUBSPOT_TOKEN is not set on this worker}" && npx syncwright run --plan /opt/airflow/build/customers_to_hubspot/plan.json',
    );
  });

  it('never renders a compiled script as a Jinja template, so a `{% endraw %}` in a where string stays text', () => {
    const fields = JSON.parse(python([dagTool, 'templated', join(dir, 'dags')]));
    // Airflow renders an operator's template_fields (the connection id among them), and loads and renders a value ending in a template_ext as a file.
    expect(fields).toEqual([[], []]);
    const sql = "SELECT 1 WHERE 'x' = '{% endraw %}{{ var.value.secret }}';\nSELECT $q$ a; b $q$;\n-- a; comment\nSELECT \"a;b\"";
    writeFileSync(join(dir, 'tricky.sql'), sql);
    expect(JSON.parse(python([dagTool, 'split', join(dir, 'dags'), join(dir, 'tricky.sql')]))).toEqual([
      "SELECT 1 WHERE 'x' = '{% endraw %}{{ var.value.secret }}'",
      'SELECT $q$ a; b $q$',
      '-- a; comment\nSELECT "a;b"',
    ]);
  });

  it('a sync whose plan has several SQL steps gets one task per step, chained in plan order', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'build', 'manifest.json'), 'utf8'));
    const sales = manifest.syncs[1];
    sales.scheduler.steps = [
      { kind: 'sql', file: 'customers_to_sales/extract.sql', engine: 'postgres', on: 'source', connection: 'a' },
      { kind: 'sql', file: 'customers_to_sales/apply.sql', engine: 'postgres', on: 'destination', connection: 'b' },
    ];
    writeFileSync(join(dir, 'two-steps.json'), JSON.stringify(manifest));
    expect(syncwright(['airflow', '--manifest', 'two-steps.json', '--out', 'dags2'], dir)).toMatchObject({ code: 0 });
    const file = join(dir, 'dags2', 'syncwright_cron_0_x_x_x_x.py');
    const dag = JSON.parse(python([dagTool, file]))[file];
    expect(dag.tasks.map((t: { task_id: string; conn_id: string }) => `${t.task_id} ${t.conn_id}`)).toEqual([
      "customers_to_sales__1_extract 'a'",
      "customers_to_sales__2_apply 'b'",
    ]);
    expect(dag.edges).toEqual([['customers_to_sales__1_extract', 'customers_to_sales__2_apply']]);
  });

  it('a warehouse sync whose table is named by env() runs through the executor in its DAG, the variable passed by name', () => {
    const text = readFileSync(join(dir, 'shop', 'shop.sync'), 'utf8');
    cpSync(join(dir, 'shop'), join(dir, 'env-shop'), { recursive: true });
    writeFileSync(join(dir, 'env-shop', 'shop.sync'), text.replace('table sales.customers', 'table env("SALES_SCHEMA").customers'));
    expect(syncwright(['compile', 'env-shop', '--out', 'env-build'], dir)).toMatchObject({ code: 0 });
    const sales = JSON.parse(readFileSync(join(dir, 'env-build', 'manifest.json'), 'utf8')).syncs[1];
    expect(sales.destination.target).toEqual(['{{env:SALES_SCHEMA}}', 'customers']);
    expect(sales.scheduler).toMatchObject({ env: ['SALES_SCHEMA'], names: ['SALES_SCHEMA'] });
    expect(syncwright(['airflow', '--manifest', 'env-build/manifest.json', '--out', 'env-dags', '--build', '/opt/airflow/build'], dir)).toMatchObject({
      code: 0,
    });
    const file = join(dir, 'env-dags', 'syncwright_cron_0_x_x_x_x.py');
    expect(JSON.parse(python([dagTool, file]))[file].tasks).toEqual([
      {
        operator: 'BashOperator',
        task_id: 'customers_to_sales',
        bash_command: "run_plan_command(SYNCWRIGHT, f'{BUILD}/customers_to_sales/plan.json', ['SALES_SCHEMA'])",
        append_env: 'True',
        max_active_tis_per_dag: '1',
      },
    ]);
    // Exposures name the dbt models the syncs read, whatever table they write.
    expect(syncwright(['dbt', 'exposures', 'env-shop', '--owner-name', 'Data team', '--out', 'env.yml'], dir)).toMatchObject({ code: 0 });
  });

  it('writes exposures dbt reads back as written: Jinja in a table named by env() or a quoted name is never rendered', () => {
    const text = readFileSync(join(dir, 'shop', 'shop.sync'), 'utf8');
    cpSync(join(dir, 'shop'), join(dir, 'jinja-shop'), { recursive: true });
    const table = "c{{ env_var('AWS_SECRET_ACCESS_KEY') }}{% raw %}{#\u2028\u0085\u009b";
    writeFileSync(join(dir, 'jinja-shop', 'shop.sync'), text.replace('table sales.customers', `table env("SALES_SCHEMA").${JSON.stringify(table)}`));
    expect(syncwright(['dbt', 'exposures', 'jinja-shop', '--owner-name', 'Data {{ team }}', '--out', 'jinja.yml'], dir)).toMatchObject({ code: 0 });
    const yaml = readFileSync(join(dir, 'jinja.yml'), 'utf8');
    expect(yaml).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
    // As dbt reads it: YAML, then every string rendered as a Jinja template; env_var() ends the script if it is ever called.
    const render = [
      'import json, sys, yaml, jinja2',
      'def env_var(*a): sys.exit("env_var was called")',
      'env = jinja2.Environment(undefined=jinja2.StrictUndefined)',
      'def render(x):',
      '    if isinstance(x, str): return env.from_string(x).render(env_var=env_var)',
      '    if isinstance(x, list): return [render(i) for i in x]',
      '    if isinstance(x, dict): return {k: render(v) for k, v in x.items()}',
      '    return x',
      'print(json.dumps(render(yaml.safe_load(sys.stdin.read()))))',
    ].join('\n');
    const file = JSON.parse(python(['-c', render], yaml));
    expect(file.exposures[1].description).toContain(`into postgres warehouse table {{env:SALES_SCHEMA}}.${table}, on "0 * * * *";`);
    expect(file.exposures[1].owner).toEqual({ name: 'Data {{ team }}' });
    expect(file.exposures[1].depends_on).toEqual(["ref('dim_customers')"]);
  });

  it('names each exposure as dbt takes it: a `$` of a sync name is replaced, with a hash so that it meets no other', () => {
    const text = readFileSync(join(dir, 'shop', 'shop.sync'), 'utf8');
    cpSync(join(dir, 'shop'), join(dir, 'dollar-shop'), { recursive: true });
    writeFileSync(
      join(dir, 'dollar-shop', 'shop.sync'),
      text.replace('sync customers_to_hubspot', 'sync customers$to_hubspot').replace('sync customers_to_sales', 'sync customers_to_hubspot'),
    );
    expect(syncwright(['dbt', 'exposures', 'dollar-shop', '--owner-name', 'Data team', '--out', 'dollar.yml'], dir)).toMatchObject({ code: 0 });
    const file = JSON.parse(
      python(['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))'], readFileSync(join(dir, 'dollar.yml'), 'utf8')),
    );
    const names = file.exposures.map((e: { name: string }) => e.name);
    expect(names).toEqual([expect.stringMatching(/^syncwright_customers_to_hubspot_[0-9a-f]{8}$/), 'syncwright_customers_to_hubspot']);
    // dbt's own test of an exposure name (UnparsedExposure.validate), which warns of any other and will refuse it.
    expect(
      JSON.parse(
        python(['-c', 'import json, re, sys; print(json.dumps([bool(re.match(r"[\\w-]+$", n)) for n in json.load(sys.stdin)]))'], JSON.stringify(names)),
      ),
    ).toEqual([true, true]);
    expect(file.exposures[0]).toMatchObject({ label: 'customers$to_hubspot (hubspot)', meta: { syncwright: { sync: 'customers$to_hubspot' } } });
  });

  it('runs on the embedded database as the DAG runs it, and its summary row is what reaches XCom', async () => {
    const db = await freshPglite();
    try {
      await db.exec(readFileSync(join(repo, 'examples', 'dbt-shop', 'seed.sql'), 'utf8'));
      const apply = join(dir, 'build', 'customers_to_sales', 'apply.sql');
      const run = async () => {
        const statements = JSON.parse(python([dagTool, 'split', join(dir, 'dags'), apply])) as string[];
        const results: (unknown[][] | null)[] = [];
        const descriptions: (string[][] | null)[] = [];
        // DbApiHook.run: each statement on one cursor, autocommit; fetch_all_handler's rows, or none.
        for (const sql of statements) {
          const r = await db.query<unknown[]>(sql, [], { rowMode: 'array' });
          const returns = r.fields.length > 0;
          results.push(returns ? r.rows.map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v))) : null);
          descriptions.push(returns ? r.fields.map((f) => [f.name]) : null);
        }
        expect(statements.at(-1)).toBe('COMMIT');
        // What the README's old recipe gave XCom (return_last=True: the last statement's result): nothing.
        expect(results.at(-1)).toBeNull();
        return JSON.parse(python([dagTool, 'summary', join(dir, 'dags')], JSON.stringify({ results, descriptions })));
      };
      expect(await run()).toEqual({ inserted: 3, updated: 0, deleted: 0, skipped_null_keys: 0, duplicate_keys: 0 });
      await db.exec(`UPDATE dbt_dev.dim_customers SET plan = 'pro' WHERE customer_id = 2`);
      expect(await run()).toEqual({ inserted: 0, updated: 1, deleted: 0, skipped_null_keys: 0, duplicate_keys: 0 });
      const rows = await db.query<{ customer_id: number; plan: string }>('SELECT customer_id, plan FROM sales.customers ORDER BY customer_id');
      expect(rows.rows.map((r) => `${r.customer_id} ${r.plan}`)).toEqual(['1 pro', '2 pro', '3 free']);
    } finally {
      await db.close();
    }
  });
});

describe('syncwright airflow: what the manifest says reaches the DAGs only as what it is', () => {
  const project = (syncs: string) => `source wh : postgres {
  database "acme"
}

model users {
  from        wh
  table       analytics.users
  primary key user_id
  columns {
    user_id bigint
    email   string
  }
}
${syncs}`;
  const sync = (name: string, table: string, schedule?: string) => `
sync ${name} {
  from       users
  to         wh table crm.${table}
  mode       upsert
  identifier user_id -> id${schedule ? `\n  schedule   "${schedule}"` : ''}
}
`;
  /** A project compiled into `<name>/build`, its manifest read back. */
  const compiled = (name: string, text: string) => {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'p.sync'), text);
    expect(syncwright(['compile', name, '--out', join(name, 'build')], dir)).toMatchObject({ code: 0 });
    return JSON.parse(readFileSync(join(dir, name, 'build', 'manifest.json'), 'utf8'));
  };
  /** Every DAG file of a folder, run as Airflow loads it (Python, stand-ins for Airflow's classes), from within `cwd`. */
  const load = (folder: string, cwd: string) => {
    const files = readdirSync(folder)
      .filter((f) => f !== 'syncwright_support.py' && f.endsWith('.py'))
      .sort();
    const r = spawnSync('python3', [dagTool, 'load', folder, ...files.map((f) => join(folder, f))], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, { doc: string; dag: Record<string, string>; tasks: Record<string, string>[] }>;
    return Object.fromEntries(Object.entries(out).map(([p, v]) => [p.slice(folder.length + 1), v]));
  };

  it('a newline, quote or control character of a file, name or schedule stays text: loading the DAG runs no injected code', () => {
    const manifest = compiled('inject', project(sync('copy_a', 'a', '0 * * * *')));
    const evil = 'x\n    import os; os.system("touch PWNED")\n    #.sync';
    Object.assign(manifest.syncs[0], {
      file: evil,
      schedule: '0 * * * *"""\nimport os; os.system("touch PWNED")\n"""',
      destination: { ...manifest.syncs[0].destination, name: 'wh\u2028x', type: 'postgres\\\r__import__("os").system("touch PWNED")' },
    });
    manifest.syncs[0].scheduler.steps[0].connection = 'wh"); __import__("os").system("touch PWNED"); ("';
    manifest.syncs[0].scheduler.steps[0].file = 'copy_a/{BUILD}"\n/apply.sql';
    writeFileSync(join(dir, 'inject', 'evil.json'), JSON.stringify(manifest));
    expect(syncwright(['airflow', '--manifest', 'inject/evil.json', '--out', 'inject/dags', '--build', '/b"\n{x}'], dir)).toMatchObject({ code: 0 });
    const folder = join(dir, 'inject', 'dags');
    const dags = Object.entries(load(folder, join(dir, 'inject')));
    expect(dags).toHaveLength(1);
    const [name, dag] = dags[0]!;
    expect(readdirSync(join(dir, 'inject'))).not.toContain('PWNED');
    // Each text reads back exactly: in its literal, and in the comment and docstring on one line.
    expect(name).toMatch(/^syncwright_cron_0_x_x_x_x_import_os_os_system_touch_PWNED_[0-9a-f]{8}\.py$/);
    expect(dag.dag.schedule).toBe(`'0 * * * *"""\\nimport os; os.system("touch PWNED")\\n"""'`);
    expect(dag.tasks.map((t) => [t.conn_id, t.sql])).toEqual([
      [`'wh"); __import__("os").system("touch PWNED"); ("'`, `'/b"\\n{x}/copy_a/{BUILD}"\\n/apply.sql'`],
    ]);
    expect(dag.doc.split('\n')[0]).toBe('Syncs of schedule 0 * * * *\\"\\"\\"\\u000aimport os; os.system(\\"touch PWNED\\")\\u000a\\"\\"\\": copy_a.');
    const text = readFileSync(join(folder, name), 'utf8');
    expect(text).toContain(
      '    # copy_a: record upsert into wh\\u2028x (postgres\\\\\\u000d__import__(\\"os\\").system(\\"touch PWNED\\")), x\\u000a    import os; os.system(\\"touch PWNED\\")\\u000a    #.sync line',
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\uffff]/);
  });

  it('two schedules whose ids would slug alike get a DAG each, on its own schedule', () => {
    compiled('crons', project(sync('weekday_copy', 'a', '0 9 * * 1-5') + sync('monday_friday_copy', 'b', '0 9 * * 1,5') + sync('hourly', 'c', '0 * * * *')));
    expect(syncwright(['airflow', '--manifest', 'crons/build/manifest.json', '--out', 'crons/dags'], dir)).toMatchObject({ code: 0 });
    const dags = Object.values(load(join(dir, 'crons', 'dags'), dir));
    const bySchedule = Object.fromEntries(dags.map((d) => [d.dag.schedule, { id: d.dag.dag_id, tasks: d.tasks.map((t) => t.task_id) }]));
    expect(bySchedule).toEqual({
      "'0 * * * *'": { id: "'syncwright_cron_0_x_x_x_x'", tasks: ["'hourly__1_apply'"] },
      "'0 9 * * 1-5'": { id: expect.stringMatching(/^'syncwright_cron_0_9_x_x_1_5_[0-9a-f]{8}'$/), tasks: ["'weekday_copy__1_apply'"] },
      "'0 9 * * 1,5'": { id: expect.stringMatching(/^'syncwright_cron_0_9_x_x_1_5_[0-9a-f]{8}'$/), tasks: ["'monday_friday_copy__1_apply'"] },
    });
    expect(new Set(dags.map((d) => d.dag.dag_id)).size).toBe(3);
  });

  it('a run with one --dag-prefix removes only the DAG files that prefix wrote', () => {
    compiled('prefixes', project(sync('hourly', 'a', '0 * * * *') + sync('nightly', 'b', '0 2 * * *')));
    const out = join(dir, 'prefixes', 'dags');
    const run = (prefix: string, manifest = 'prefixes/build/manifest.json') =>
      expect(syncwright(['airflow', '--manifest', manifest, '--out', 'prefixes/dags', '--dag-prefix', prefix], dir)).toMatchObject({ code: 0 });
    run('sales_eu');
    // A file of an earlier version, which recorded no prefix, is this prefix's by its name alone.
    const legacy = '"""Syncs of schedule 0 3 * * *: x.\n\nWritten by `syncwright airflow` from manifest.json; do not edit."""\n';
    writeFileSync(join(out, 'sales_cron_0_3_x_x_x.py'), legacy);
    writeFileSync(join(out, 'sales_eu_cron_0_3_x_x_x.py'), legacy);
    run('sales');
    expect(readdirSync(out).sort()).toEqual([
      'sales_cron_0_2_x_x_x.py',
      'sales_cron_0_x_x_x_x.py',
      'sales_eu_cron_0_2_x_x_x.py',
      'sales_eu_cron_0_3_x_x_x.py',
      'sales_eu_cron_0_x_x_x_x.py',
      'syncwright_support.py',
    ]);
    // A schedule gone: its DAG goes, with this prefix only.
    const manifest = JSON.parse(readFileSync(join(dir, 'prefixes', 'build', 'manifest.json'), 'utf8'));
    manifest.syncs = manifest.syncs.filter((s: { name: string }) => s.name === 'hourly');
    writeFileSync(join(dir, 'prefixes', 'hourly.json'), JSON.stringify(manifest));
    run('sales', 'prefixes/hourly.json');
    expect(readdirSync(out).sort()).toEqual([
      'sales_cron_0_x_x_x_x.py',
      'sales_eu_cron_0_2_x_x_x.py',
      'sales_eu_cron_0_3_x_x_x.py',
      'sales_eu_cron_0_x_x_x_x.py',
      'syncwright_support.py',
    ]);
  });

  it('syncs whose names differ only by `$` get task ids of their own, the plain name keeping its id', () => {
    compiled('names', project(sync('copy$a', 'a') + sync('copy_a', 'b')));
    expect(syncwright(['airflow', '--manifest', 'names/build/manifest.json', '--out', 'names/dags'], dir)).toMatchObject({ code: 0 });
    // The stand-in DAG refuses a task id twice, as Airflow does.
    const dags = load(join(dir, 'names', 'dags'), dir);
    expect(dags['syncwright_unscheduled.py']!.tasks.map((t) => [t.task_id, t.sql])).toEqual([
      [expect.stringMatching(/^'copy_a_[0-9a-f]{8}__1_apply'$/), "'names/build/copy$a/apply.sql'"],
      ["'copy_a__1_apply'", "'names/build/copy_a/apply.sql'"],
    ]);
    // Stable: the same manifest writes the same ids.
    const again = syncwright(['airflow', '--manifest', 'names/build/manifest.json', '--out', 'names/dags2'], dir);
    expect(again).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, 'names', 'dags2', 'syncwright_unscheduled.py'), 'utf8')).toBe(
      readFileSync(join(dir, 'names', 'dags', 'syncwright_unscheduled.py'), 'utf8'),
    );
  });

  it('a sync name as long as a folder name takes task ids within the 250 characters Airflow takes, each its own', () => {
    // 245 characters: the name compiles (its folder's name is at most 255 bytes); its step's task id would be 254.
    const long = 's'.repeat(245);
    compiled('long', project(sync(long, 'a') + sync(`${long.slice(1)}$`, 'b') + sync(`${long.slice(1)}_`, 'c')));
    expect(syncwright(['airflow', '--manifest', 'long/build/manifest.json', '--out', 'long/dags'], dir)).toMatchObject({ code: 0 });
    // The stand-in refuses an id Airflow's validate_key refuses, and a task id twice.
    const ids = load(join(dir, 'long', 'dags'), dir)['syncwright_unscheduled.py']!.tasks.map((t) => JSON.parse(t.task_id!.replace(/'/g, '"')) as string);
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(250);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toMatch(/^s{240}_[0-9a-f]{8}$/);
  });

  it("schedules on a dbt model's Dataset whatever its name: a letter beyond ASCII, an `@` or a `#` is percent-encoded", () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'build', 'manifest.json'), 'utf8'));
    manifest.syncs[0].scheduler.upstream[0].dbt = 'model.shop.clientes_año@v#2';
    writeFileSync(join(dir, 'unicode-model.json'), JSON.stringify(manifest));
    expect(syncwright(['airflow', '--manifest', 'unicode-model.json', '--out', 'unicode-dags'], dir)).toMatchObject({ code: 0 });
    // The stand-in refuses an Asset URI as Airflow does: one of other than ASCII characters, or with an `@` in its host part.
    const dags = load(join(dir, 'unicode-dags'), dir);
    const after = Object.entries(dags).find(([name]) => name.includes('_after_'))!;
    expect(after[1].dag.schedule).toBe('["Asset(\'dbt://model.shop.clientes_a%C3%B1o%40v%232\')"]');
  });

  it("runs a BigQuery script whole, as one job (IF … END IF and \\' strings intact), and splits Postgres and Snowflake as their lexers do", () => {
    const bq = `source bq : bigquery {
  project  "acme-prod"
  dataset  "analytics"
}

model users {
  from        bq
  table       analytics.users
  primary key user_id
  columns {
    user_id bigint
    plan    string
  }
}

audience paid {
  from  users
  where plan = 'it\\'s; DELETE FROM x; --'
}

sync paid_to_copy {
  from       paid
  to         bq table crm.paid_members
  mode       mirror
  identifier user_id -> id
  guard      deletes <= 5%
}
`;
    compiled('bq', bq);
    expect(syncwright(['airflow', '--manifest', 'bq/build/manifest.json', '--out', 'bq/dags'], dir)).toMatchObject({ code: 0 });
    const folder = join(dir, 'bq', 'dags');
    const [name, dag] = Object.entries(load(folder, dir))[0]!;
    expect(dag.tasks[0]).toMatchObject({ operator: 'CompiledSqlOperator', conn_id: "'bq'" });
    expect(readFileSync(join(folder, name), 'utf8')).toContain('        dialect="bigquery",\n');
    const apply = join(dir, 'bq', 'build', 'paid_to_copy', 'apply.sql');
    const script = readFileSync(apply, 'utf8');
    expect(script).toContain("'it\\'s; DELETE FROM x; --'");
    expect(script).toMatch(/THEN\nRAISE USING MESSAGE = [^\n]*;\n\nEND IF;/);
    // What the operator hands BigQueryHook.run: the whole file as one query job, in standard SQL.
    expect(JSON.parse(python([dagTool, 'execute', folder, apply, 'bigquery']))).toEqual({ run: [[script]], hook_params: { use_legacy_sql: false } });

    const split = (sql: string, dialect: string) => {
      writeFileSync(join(dir, 'split.sql'), sql);
      return JSON.parse(python([dagTool, 'split', folder, join(dir, 'split.sql'), dialect]));
    };
    // Postgres: '\' ends a standard string, E'\'' does not; /* */ nest; `$` inside a name opens no dollar quote.
    expect(split("SELECT 'a\\'; SELECT E'it\\'s; x'; /* a /* b; */ c; */ SELECT 1 AS a$q$; SELECT $q$ ; $q$; -- only; a comment\n", 'postgres')).toEqual([
      "SELECT 'a\\'",
      "SELECT E'it\\'s; x'",
      '/* a /* b; */ c; */ SELECT 1 AS a$q$',
      'SELECT $q$ ; $q$',
    ]);
    // Snowflake: '\'' does not end a string; $$ bodies; // comments; /* */ do not nest.
    expect(split("SELECT 'it\\'s; x'; EXECUTE IMMEDIATE $$ BEGIN RAISE e; END; $$; // a; b\nSELECT /* a /* b; */ 2", 'snowflake')).toEqual([
      "SELECT 'it\\'s; x'",
      'EXECUTE IMMEDIATE $$ BEGIN RAISE e; END; $$',
      '// a; b\nSELECT /* a /* b; */ 2',
    ]);
    // The splitter's lexical rules are the compiler's own (dialects/<name>.json).
    const syntax = JSON.parse(python([dagTool, 'syntax', folder]));
    for (const d of ['postgres', 'snowflake']) {
      const { why: _, ...rules } = JSON.parse(readFileSync(join(repo, 'dialects', `${d}.json`), 'utf8')).sqlText;
      expect(syntax[d]).toEqual(rules);
    }
    expect(Object.keys(syntax).sort()).toEqual(['postgres', 'snowflake']);
  });
});
