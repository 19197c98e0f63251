/**
 * Validation of plan.json against schemas/plan.schema.json (draft 2020-12), before a plan is
 * written (artifact-tree.ts checks every plan, warehouse and API): a plan the published schema
 * rejects is a compiler bug, reported with every error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Plan } from '../plan/plan.js';

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  if (!validator) {
    const url = new URL('../../schemas/plan.schema.json', import.meta.url);
    const schema = JSON.parse(readFileSync(fileURLToPath(url), 'utf8')) as object;
    validator = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
  }
  return validator;
}

/** The schema errors of a plan, one line each ("/steps/2/kind must be equal to one of the allowed values: ..."); empty when valid. */
export function planErrors(plan: unknown): string[] {
  const validate = compiled();
  if (validate(plan)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'enum') return `${at} must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
    return `${at} has an unknown property '${String(params.additionalProperty ?? params.unevaluatedProperty)}'`;
  }
  return `${at} ${e.message ?? e.keyword}`;
}

/** Throws with every schema error when the plan does not validate; `name` says which plan in the message. */
export function validatePlan(plan: Plan | unknown, name = 'plan.json'): void {
  const errors = planErrors(plan);
  if (errors.length > 0) throw new Error(`${name} does not match schemas/plan.schema.json:\n  ${errors.join('\n  ')}`);
}
