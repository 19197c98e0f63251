/**
 * Validation of plan.json against schemas/plan.schema.json (draft 2020-12), before a plan is
 * written (artifact-tree.ts checks every plan, warehouse and API): a plan the published schema
 * rejects is a compiler bug, reported with every error.
 */
import { assertSchema, readSchema, schemaErrors } from '../schema/compile.js';
import type { Plan } from '../contract/plan.js';

/** The schema errors of a plan, one line each ("/steps/2/kind must be one of: ..."); empty when valid. */
export function planErrors(plan: unknown): string[] {
  return schemaErrors('plan', plan);
}

/** Throws with every schema error when the plan does not validate; `name` says which plan in the message. */
export function validatePlan(plan: Plan | unknown, name = 'plan.json'): void {
  assertSchema('plan', plan, name);
}

// Stands for a part laid out apart in the plan's text (`steps`, an endpoint's `session` or `settings`): a string no JSON text holds unescaped.
const mark = (part: string) => `\u0001${part}`;
const marks = /"\\u0001(steps|(?:source|destination)\.(?:session|settings))"/g;

/** The endpoints of a plan, which carry their dialect's session record (src/emit/session-sql.ts) and their block's settings. */
const endpoints = ['source', 'destination'] as const;

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** A `contains` of plan.json's `steps`: a step of these `const` properties, having these. */
type StepPattern = { properties?: Record<string, { const: unknown }>; required?: string[] };

/**
 * Whether a step is one a rule of plan.json's `steps` on the list as a whole reads (its `if` and
 * `then`, each a `contains`: a call that runs a job needs a jobs step). Such a step is validated
 * with every plan that has it, seen before or not: left out, a plan breaking the rule would pass.
 * Read from the schema; a rule of another form stops the compile, rather than go unchecked.
 */
const readByListRule: (step: unknown) => boolean = (() => {
  const steps = (readSchema('plan') as { properties: { steps: Record<string, unknown> } }).properties.steps;
  const patterns: StepPattern[] = [];
  for (const [keyword, rule] of Object.entries(steps)) {
    if (['type', 'description', 'items', 'minItems'].includes(keyword)) continue;
    const contains = (rule as { contains?: StepPattern }).contains;
    const plain = (keyword === 'if' || keyword === 'then') && isObject(contains) && Object.keys(rule as object).length === 1;
    if (!plain || !Object.keys(contains).every((k) => ['type', 'properties', 'required'].includes(k)))
      throw new Error(`internal: plan.schema.json's steps has a rule on the whole list (${keyword}) that PlanWriter does not read`);
    if (!Object.values(contains.properties ?? {}).every((p) => isObject(p) && Object.keys(p).length === 1 && 'const' in p))
      throw new Error(`internal: plan.schema.json's steps has a \`contains\` (${keyword}) that PlanWriter does not read`);
    patterns.push(contains);
  }
  return (step) =>
    isObject(step) &&
    patterns.some(
      ({ properties = {}, required = [] }) =>
        required.every((k) => k in step) && Object.entries(properties).every(([k, p]) => (step as Record<string, unknown>)[k] === p.const),
    );
})();

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
 * of a compile, and are validated and laid out once: the steps a destination's description
 * makes (requests, batches, acceptance), alike across the syncs of one shape; the session
 * record of a dialect (src/emit/session-sql.ts), one object that every plan on that dialect
 * shares; and an endpoint's settings, the object of the source or destination block that the
 * plans of its syncs share. The schema checks a step, a session and settings by themselves: a
 * step whose JSON a plan validated before had (but for one a rule on the list of steps reads,
 * `readByListRule`), or a session or settings object one had, is not validated again; the rest
 * of the plan is validated whole. A plan that fails is validated
 * again in full, so that its errors name its own steps. One per compile.
 */
export class PlanWriter {
  /** Steps a valid plan had, by their JSON: their text as an item of `steps`. */
  private readonly steps = new Map<string, string>();
  /** Session records a valid plan had: their text as an endpoint's `session`. */
  private readonly sessions = new WeakMap<object, string>();
  /** Endpoint settings a valid plan had: their text as an endpoint's `settings`. */
  private readonly settings = new WeakMap<object, string>();

  /** The text of `plan` (as `JSON.stringify(plan, null, 2)` and a line break); throws, naming every schema error, when it does not match. */
  text(plan: Plan, name: string): string {
    // No steps to lay out: the schema names what is wrong.
    if (!Array.isArray(plan.steps) || plan.steps.length === 0) validatePlan(plan, name);
    const keys = plan.steps.map((s) => JSON.stringify(s));
    const toValidate = plan.steps.filter((s, i) => !this.steps.has(keys[i]!) || readByListRule(s));
    // Where every step was seen, the first (the sync's own) stands for the others: the schema wants at least one.
    const validated: Record<string, unknown> = { ...plan, steps: toValidate.length > 0 ? toValidate : plan.steps.slice(0, 1) };
    const marked: Record<string, unknown> = { ...plan, steps: mark('steps') };
    // The endpoints' parts laid out apart, by their marks; each is in `sessions` or `settings` once the plan is found valid.
    const parts = new Map<string, { object: object; texts: WeakMap<object, string> }>();
    for (const at of endpoints) {
      const endpoint: { session?: unknown; settings?: unknown } | undefined = plan[at];
      if (!isObject(endpoint)) continue;
      const { session, settings, ...rest } = endpoint;
      const knownSession = isObject(session) && this.sessions.has(session);
      const knownSettings = isObject(settings) && this.settings.has(settings);
      // Settings validated before are an empty object: the schema still sees them where it wants them.
      if (knownSession || knownSettings)
        validated[at] = { ...rest, ...(knownSession ? {} : { session }), ...(settings === undefined ? {} : { settings: knownSettings ? {} : settings }) };
      if (!isObject(session) && !isObject(settings)) continue;
      const laidOut: Record<string, unknown> = { ...endpoint };
      if (isObject(session)) parts.set(`${at}.session`, { object: session, texts: this.sessions });
      if (isObject(settings)) parts.set(`${at}.settings`, { object: settings, texts: this.settings });
      if (isObject(session)) laidOut.session = mark(`${at}.session`);
      if (isObject(settings)) laidOut.settings = mark(`${at}.settings`);
      marked[at] = laidOut;
    }
    if (planErrors(validated).length > 0) validatePlan(plan, name);
    for (const [i, key] of keys.entries()) if (!this.steps.has(key)) this.steps.set(key, nested(plan.steps[i], '    '));
    for (const { object, texts } of parts.values()) if (!texts.has(object)) texts.set(object, nested(object));
    // Split at the marks (each followed by the part it stands for) and joined once: a flat string, where a replace makes a rope.
    const pieces = JSON.stringify(marked, null, 2).split(marks);
    if (pieces.length !== 2 * (parts.size + 1) + 1) throw new Error(`${name}: its parts are not where plan.json has them`);
    for (let i = 1; i < pieces.length; i += 2) {
      const at = pieces[i]!;
      const part = parts.get(at);
      pieces[i] = part ? part.texts.get(part.object)! : `[\n${keys.map((k) => this.steps.get(k)!).join(',\n')}\n  ]`;
    }
    pieces.push('\n');
    return pieces.join('');
  }
}
