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

// Stands for the steps in the plan's text, which are laid out one by one: a string no JSON text holds unescaped.
const stepsMark = '\u0001steps';
const markedSteps = `[\n    ${JSON.stringify(stepsMark)}\n  ]`;

/**
 * plan.json's text, made once the plan matches its schema. The steps a destination's
 * description makes (requests, batches, acceptance) repeat across the syncs of one shape: a
 * step whose JSON a plan validated before had is not validated again, since the schema checks
 * each step by itself. The rest of the plan is validated whole; a plan that fails is validated
 * again in full, so that its errors name its own steps. One per compile.
 */
export class PlanWriter {
  private readonly valid = new Set<string>();

  /** The text of `plan` (as `JSON.stringify(plan, null, 2)` and a line break); throws, naming every schema error, when it does not match. */
  text(plan: Plan, name: string): string {
    // No steps to lay out: the schema names what is wrong.
    if (!Array.isArray(plan.steps) || plan.steps.length === 0) validatePlan(plan, name);
    const steps = plan.steps.map((s) => JSON.stringify(s, null, 2));
    // The first step (the sync's own) stands for the others: the schema wants at least one.
    const unseen = plan.steps.filter((_, i) => i === 0 || !this.valid.has(steps[i]!));
    if (planErrors({ ...plan, steps: unseen }).length > 0) validatePlan(plan, name);
    for (const s of steps) this.valid.add(s);
    // Each step's text, indented as an item of the plan's `steps`.
    const items = steps.map((s) => `    ${s.replace(/\n/g, '\n    ')}`).join(',\n');
    const text = JSON.stringify({ ...plan, steps: [stepsMark] }, null, 2);
    const at = text.indexOf(markedSteps);
    if (at < 0) throw new Error(`${name}: its steps are not where plan.json has them`);
    return `${text.slice(0, at)}[\n${items}\n  ]${text.slice(at + markedSteps.length)}\n`;
  }
}
