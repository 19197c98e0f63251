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

// Stands for a part laid out apart in the plan's text (`steps`, an endpoint's `session`): a string no JSON text holds unescaped.
const mark = (part: string) => `\u0001${part}`;
const marks = /"\\u0001(steps|source|destination)"/g;

/** The endpoints of a plan, which carry their dialect's session record (src/emit/session-sql.ts). */
const endpoints = ['source', 'destination'] as const;

/**
 * A value's JSON as `JSON.stringify(v, null, 2)` writes it two levels deep (a step of `steps`,
 * an endpoint's `session`), after `first` on its first line. Joined, not replaced: V8 returns an
 * indented JSON text and a replace's result as ropes of their pieces, and the writer keeps
 * these texts for the whole compile (10,000 syncs: 1,890 ropes of up to 300 pieces, 15 MB of
 * rope nodes alone).
 */
const nested = (v: unknown, first = '') => `${first}${JSON.stringify(v, null, 2)}`.split('\n').join('\n    ');

/**
 * plan.json's text, made once the plan matches its schema. Three parts repeat across the syncs
 * of a compile, and are validated once: the steps a destination's description makes (requests,
 * batches, acceptance), alike across the syncs of one shape; the session record of a dialect
 * (src/emit/session-sql.ts), one object that every plan on that dialect shares; and an
 * endpoint's settings, the object of the source or destination block that each plan of its
 * syncs holds. The schema checks a step, a session and settings by themselves: a step whose
 * JSON a plan validated before had, or a session or settings object one had, is not validated
 * again (steps and sessions are laid out once too); the rest of the plan is validated whole. A
 * plan that fails is validated again in full, so that its errors name its own steps. One per
 * compile.
 */
export class PlanWriter {
  /** Steps a valid plan had, by their JSON: their text as an item of `steps`. */
  private readonly steps = new Map<string, string>();
  /** Session records a valid plan had: their text as an endpoint's `session`. */
  private readonly sessions = new WeakMap<object, string>();
  /** Endpoint settings a valid plan had. */
  private readonly settings = new WeakSet<object>();

  /** The text of `plan` (as `JSON.stringify(plan, null, 2)` and a line break); throws, naming every schema error, when it does not match. */
  text(plan: Plan, name: string): string {
    // No steps to lay out: the schema names what is wrong.
    if (!Array.isArray(plan.steps) || plan.steps.length === 0) validatePlan(plan, name);
    const keys = plan.steps.map((s) => JSON.stringify(s));
    // The first step (the sync's own) stands for the others: the schema wants at least one.
    const validated: Record<string, unknown> = { ...plan, steps: plan.steps.filter((_, i) => i === 0 || !this.steps.has(keys[i]!)) };
    const marked: Record<string, unknown> = { ...plan, steps: mark('steps') };
    const sessions = new Map<string, object>();
    for (const at of endpoints) {
      const endpoint: { session?: unknown; settings?: unknown } | undefined = plan[at];
      const { session, settings, ...rest } = endpoint ?? {};
      const knownSession = typeof session === 'object' && session !== null && this.sessions.has(session);
      const knownSettings = typeof settings === 'object' && settings !== null && this.settings.has(settings);
      // Settings validated before are an empty object: the schema still sees them where it wants them.
      if (knownSession || knownSettings)
        validated[at] = { ...rest, ...(knownSession ? {} : { session }), ...(settings === undefined ? {} : { settings: knownSettings ? {} : settings }) };
      if (typeof session !== 'object' || session === null) continue;
      marked[at] = { ...endpoint, session: mark(at) };
      sessions.set(at, session);
    }
    if (planErrors(validated).length > 0) validatePlan(plan, name);
    for (const [i, key] of keys.entries()) if (!this.steps.has(key)) this.steps.set(key, nested(plan.steps[i], '    '));
    for (const session of sessions.values()) if (!this.sessions.has(session)) this.sessions.set(session, nested(session));
    for (const at of endpoints) {
      const settings = plan[at]?.settings;
      if (typeof settings === 'object' && settings !== null) this.settings.add(settings);
    }
    // Split at the marks (each followed by the part it stands for) and joined once: a flat string, where a replace makes a rope.
    const pieces = JSON.stringify(marked, null, 2).split(marks);
    if (pieces.length !== 2 * (sessions.size + 1) + 1) throw new Error(`${name}: its parts are not where plan.json has them`);
    for (let i = 1; i < pieces.length; i += 2) {
      const part = pieces[i]!;
      pieces[i] = part === 'steps' ? `[\n${keys.map((k) => this.steps.get(k)!).join(',\n')}\n  ]` : this.sessions.get(sessions.get(part)!)!;
    }
    pieces.push('\n');
    return pieces.join('');
  }
}
