// The SQL of every mode per dialect, reviewed as golden files (update with `vitest -u`).
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../src/check/model.js';
import { compileText } from './fixtures/warehouse/compile.js';
import { audienceModes, audienceSync, crossProject, project, recordModes, recordSync } from './fixtures/warehouse/dialects.js';

const golden = (path: string) => new URL(`./golden/warehouse/${path}`, import.meta.url).pathname;

const targets: { dir: string; dialect: Dialect; postgresVersion?: number }[] = [
  // Every supported version gets the same SQL (warehouse-dialects.test.ts): one set of files.
  { dir: 'postgres15', dialect: 'postgres', postgresVersion: 15 },
  { dir: 'snowflake', dialect: 'snowflake' },
  { dir: 'bigquery', dialect: 'bigquery' },
];

function generated(): { path: string; dialect: Dialect; sql: string }[] {
  const out: { path: string; dialect: Dialect; sql: string }[] = [];
  for (const t of targets) {
    const options = t.postgresVersion ? { postgresVersion: t.postgresVersion } : {};
    const cases = [
      ...recordModes.map((m) => ({ name: `record-${m}`, sync: recordSync(m) })),
      { name: 'record-insert-no-identifier', sync: recordSync('insert', false) },
      ...audienceModes.map((m) => ({ name: `audience-${m}`, sync: audienceSync(m) })),
    ];
    for (const c of cases) {
      const [a] = compileText(project(t.dialect, c.sync), options);
      out.push({ path: `${t.dir}/${c.name}.sql`, dialect: t.dialect, sql: a!.files[0]!.content });
    }
  }
  const crosses: [Dialect, Dialect][] = [
    ['postgres', 'snowflake'],
    ['snowflake', 'bigquery'],
    ['bigquery', 'postgres'],
  ];
  for (const [from, to] of crosses) {
    const [a] = compileText(crossProject(from, to));
    for (const f of a!.files) out.push({ path: `cross/${from}-to-${to}/${f.name}`, dialect: f.name === 'extract.sql' ? from : to, sql: f.content });
    out.push({ path: `cross/${from}-to-${to}/plan.json`, dialect: to, sql: `${JSON.stringify(a!.plan, null, 2)}\n` });
  }
  // Names given where the sync runs (env() in both table paths): the plan lists the variables and both endpoints' identifier rules.
  const envProject = crossProject('postgres', 'snowflake')
    .replace('table analytics.users', 'table env("DW_SOURCE_SCHEMA").users')
    .replace('table crm.users', 'table env("DW_TARGET_SCHEMA").users');
  const [e] = compileText(envProject);
  for (const f of e!.files) out.push({ path: `cross/env-names/${f.name}`, dialect: f.name === 'extract.sql' ? 'postgres' : 'snowflake', sql: f.content });
  out.push({ path: 'cross/env-names/plan.json', dialect: 'snowflake', sql: `${JSON.stringify(e!.plan, null, 2)}\n` });
  return out;
}

describe('warehouse golden files', () => {
  for (const g of generated()) {
    it(g.path, async () => {
      await expect(g.sql).toMatchFileSnapshot(golden(g.path));
    });
  }
});
