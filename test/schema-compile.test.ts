/**
 * src/schema/compile.ts: one validator per schema per process, and the precompiled validators
 * `npm run build` writes agree with the compiled ones, error for error.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  compileSchema,
  groupKey,
  publishedGroup,
  readSchema,
  schemaNames,
  schemaValidator,
  selfChecks,
  standaloneValidators,
  type SchemaGroup,
  type ValidateFunction,
} from '../src/schema/compile.js';
import { destinationSettingsValidator, settingsSchemas, sourceSettingsValidator } from '../src/catalog/index.js';
import { ensureBuilt } from './support/build.js';
import { allApiCases } from './fixtures/api/destinations.js';
import { compileSync } from './fixtures/api/compile.js';

type Precompiled = Record<string, ValidateFunction> & { sourceKey: string };

/** Evaluates a generated CommonJS module the way require would, resolving ajv from here. */
function load(code: string): Precompiled {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(import.meta.url));
  return module.exports as Precompiled;
}

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, any>;
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const hubspot = allApiCases().find((c) => c.type === 'hubspot' && c.mode === 'mirror')!;
const plan = copy(compileSync(hubspot.project, hubspot.sync).plan) as Record<string, any>;

/** Valid data and damaged copies of it, per published schema. */
const published: Record<string, Record<string, any>[]> = {
  plan: [plan, { ...copy(plan), extra: 1 }, { ...copy(plan), steps: [{ kind: 'teleport' }] }, { ...copy(plan), sync: { name: 5 } }],
  dialect: [json('../dialects/postgres.json'), { ...json('../dialects/snowflake.json'), hash: 7 }, { ...json('../dialects/bigquery.json'), types: {} }],
  manifest: [{ $schema: 'x', manifestVersion: 2, syncs: [{}] }, {}],
};

/** For a settings schema: none of its settings, and every one of them as a word, a number, an env() reference. */
function settingsSamples(schema: object): Record<string, unknown>[] {
  const names = Object.keys((schema as { properties: object }).properties);
  const each = (value: unknown) => Object.fromEntries(names.map((n) => [n, value]));
  return [{}, { nope: 1 }, each('x'), each(5), each({ env: 'X' }), each({ env: 'not a name' })];
}

const groups: { group: string; schemas: SchemaGroup; samples: (name: string) => Record<string, unknown>[] }[] = [
  ...schemaNames.map((name) => ({ group: name, schemas: publishedGroup(name), samples: () => published[name]! })),
  { group: 'settings', schemas: settingsSchemas(), samples: (name) => settingsSamples(settingsSchemas()[name]!) },
];

describe('the validator factory', () => {
  it('runs with self-checks in the test suite', () => {
    expect(selfChecks).toBe(true);
  });

  it('compiles a schema once per process', () => {
    for (const name of schemaNames) {
      expect(readSchema(name)).toBe(readSchema(name));
      expect(schemaValidator(name)).toBe(schemaValidator(name));
      expect(compileSchema(readSchema(name))).toBe(schemaValidator(name));
    }
    expect(destinationSettingsValidator('hubspot')).toBe(destinationSettingsValidator('hubspot'));
    expect(sourceSettingsValidator('postgres')).toBe(compileSchema(settingsSchemas()['source:postgres']!));
  });

  it.each(groups)('precompiles the $group schemas to validators that agree with the compiled ones, error for error', ({ schemas, samples }) => {
    const precompiled = load(standaloneValidators(schemas, 'a test'));
    expect(precompiled.sourceKey).toBe(groupKey(schemas));
    let invalid = 0;
    for (const [name, schema] of Object.entries(schemas)) {
      const compiled = compileSchema(schema);
      for (const data of samples(name)) {
        const ok = compiled(data);
        if (!ok) invalid++;
        expect(precompiled[name]!(data), name).toBe(ok);
        // Everything the checker reads of an error: where, which rule, its parameters.
        const view = (v: ValidateFunction) => (v.errors ?? []).map((e) => [e.instancePath, e.keyword, e.schemaPath, e.params, e.message]);
        expect(view(precompiled[name]!), name).toEqual(view(compiled));
      }
    }
    expect(invalid).toBeGreaterThan(Object.keys(schemas).length);
  });

  it('ties precompiled code to the schemas it came from', () => {
    expect(groupKey(publishedGroup('plan'))).toMatch(/^[0-9a-f]{64}$/);
    expect(groupKey(publishedGroup('plan'))).not.toBe(groupKey({ plan: {} }));
    expect(new Set(schemaNames.map((name) => groupKey(publishedGroup(name)))).size).toBe(schemaNames.length);
  });

  it("finds the build's precompiled code current", () => {
    ensureBuilt();
    for (const { group, schemas } of groups) {
      const code = readFileSync(new URL(`../dist/schema/${group}.validate.cjs`, import.meta.url), 'utf8');
      expect(code, `${group}: run npm run build`).toContain(`module.exports.sourceKey = "${groupKey(schemas)}"`);
    }
  });

  it('checks a project without loading Ajv when the precompiled code is current', () => {
    ensureBuilt();
    const script = `
      import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      const { checkProject } = await import('./dist/check/check.js');
      const path = 'examples/b2b-saas/destinations.sync';
      const r = checkProject([{ path, text: readFileSync(path, 'utf8') }]);
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({ diagnostics: r.diagnostics.length, ajv: loaded.some((f) => f.includes('/node_modules/ajv/dist/core')), code: loaded.some((f) => f.endsWith('settings.validate.cjs')) }));`;
    const env = { ...process.env, SYNCWRIGHT_SELF_CHECKS: '0' };
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), env, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ diagnostics: 0, ajv: false, code: true });
  });
});
