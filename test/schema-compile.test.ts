/**
 * src/schema/compile.ts: one validator per schema per process, and the precompiled validators
 * `npm run build` writes agree with the compiled ones, error for error.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  compileSchema,
  errorLines,
  readSchema,
  schemaNames,
  schemaValidator,
  selfChecks,
  sourceKey,
  standaloneValidator,
  type SchemaName,
  type ValidateFunction,
} from '../src/schema/compile.js';
import { destinationSettingsValidator } from '../src/catalog/index.js';
import { allApiCases } from './fixtures/api/destinations.js';
import { compileSync } from './fixtures/api/compile.js';

/** Evaluates a generated CommonJS module the way require would, resolving ajv from here. */
function load(code: string): ValidateFunction & { sourceKey: string } {
  const module = { exports: {} as unknown };
  new Function('module', 'exports', 'require', code)(module, module.exports, createRequire(import.meta.url));
  return module.exports as ValidateFunction & { sourceKey: string };
}

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as Record<string, any>;
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const hubspot = allApiCases().find((c) => c.type === 'hubspot' && c.mode === 'mirror')!;
const plan = copy(compileSync(hubspot.project, hubspot.sync).plan) as Record<string, any>;

/** Valid data and damaged copies of it, per schema. */
const samples: Record<SchemaName, Record<string, any>[]> = {
  plan: [plan, { ...copy(plan), extra: 1 }, { ...copy(plan), steps: [{ kind: 'teleport' }] }, { ...copy(plan), sync: { name: 5 } }],
  dialect: [json('../dialects/postgres.json'), { ...json('../dialects/snowflake.json'), hash: 7 }, { ...json('../dialects/bigquery.json'), types: {} }],
  manifest: [{ $schema: 'x', manifestVersion: 2, syncs: [{}] }, {}],
};

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
  });

  it.each(schemaNames)('precompiles %s.schema.json to a validator that agrees with the compiled one', (name) => {
    const precompiled = load(standaloneValidator(name));
    expect(precompiled.sourceKey).toBe(sourceKey(name));
    const compiled = schemaValidator(name);
    for (const data of samples[name]) {
      const ok = compiled(data);
      const lines = errorLines(compiled.errors);
      expect(precompiled(data)).toBe(ok);
      expect(errorLines(precompiled.errors)).toEqual(lines);
    }
    // Each schema has a valid sample and an invalid one, except the manifest (only damaged ones).
    expect(samples[name].some((d) => !compiled(d))).toBe(true);
  });

  it('ties a precompiled validator to the schema text it came from', () => {
    expect(new Set(schemaNames.map(sourceKey)).size).toBe(schemaNames.length);
    expect(sourceKey('plan')).toMatch(/^[0-9a-f]{64}$/);
  });
});
