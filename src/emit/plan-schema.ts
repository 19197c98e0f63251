/**
 * Validation of plan.json against schemas/plan.schema.json (draft 2020-12), before a plan is
 * written (artifact-tree.ts checks every plan, warehouse and API): a plan the published schema
 * rejects is a compiler bug, reported with every error.
 */
import { assertSchema, schemaErrors } from '../schema/compile.js';
import type { Plan } from '../contract/plan.js';

/** The schema errors of a plan, one line each ("/steps/2/kind must be one of: ..."); empty when valid. */
export function planErrors(plan: unknown): string[] {
  return schemaErrors('plan', plan);
}

/** Throws with every schema error when the plan does not validate; `name` says which plan in the message. */
export function validatePlan(plan: Plan | unknown, name = 'plan.json'): void {
  assertSchema('plan', plan, name);
}
