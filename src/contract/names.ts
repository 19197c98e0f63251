/**
 * Names given at run time: `env("DW_SCHEMA")` written as a part of a table path in a `.sync`
 * file. The compiled SQL holds the placeholder `{{env:DW_SCHEMA}}` as a quoted name (so every
 * file stays well-formed SQL where it stands: `"{{env:DW_SCHEMA}}"."customers"`), and the plan
 * lists the variables (`nameVariables`) and, on each endpoint, how its warehouse reads names
 * (`identifiers`). An executor fills each placeholder before it runs anything: the variable's
 * value, which must be a bare name, folded and quoted by the endpoint's rule (`enclose`, the
 * quoting the compiler uses), never pasted.
 */
import type { Plan, PlanEndpoint } from './plan.js';
import { enclose, foldName, nameLength, type IdentifierRule } from './quoting.js';

/** What starts a placeholder: no text of a `.sync` file that reaches SQL may hold it (the checker refuses it). */
export const slotOpening = '{{env:';

/** The placeholder of the name that variable `variable` gives. */
export function envSlot(variable: string): string {
  return `${slotOpening}${variable}}}`;
}

/**
 * A value may be only what a `.sync` file could write as a bare name, in every dialect: a
 * letter or `_`, then letters, digits and `_`. It is folded as a bare name is (Postgres lower
 * case, Snowflake upper case, BigQuery as it is).
 */
const bareName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether a text is such a bare name; a variable's name is one too. */
export const isBareName = (text: string): boolean => bareName.test(text);

/** Why `value` cannot name a table or schema under `rule`, or undefined. */
export function envNameProblem(rule: IdentifierRule, value: string): string | undefined {
  if (value === '') return 'it is empty';
  if (!isBareName(value)) return 'it is not a bare name (a letter or _, then letters, digits and _)';
  const length = nameLength(rule, foldName(rule, value));
  const limit = rule.maxLength.table;
  if (length > limit) return `it is ${length} ${rule.maxLength.unit} long, longer than the ${limit} a name can be here (${rule.maxLength.why})`;
  return undefined;
}

/** A variable that is unset or holds no valid name: the run of the plan must not start. */
export class NameError extends Error {}

/** Text shown of a value that is refused: cut, and without control characters (it came from the environment). */
function shown(value: string): string {
  const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(cut);
}

/**
 * The plan and its SQL files with every name placeholder filled from `env`: in a step's file,
 * in the destination's target and check, and in a lock row's table, by the rule of the endpoint they run on. Throws a
 * NameError, before anything runs, for a variable that is unset or whose value is no name.
 */
export function fillNames(
  plan: Plan,
  files: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
): { plan: Plan; files: Map<string, string> } {
  const variables = plan.nameVariables ?? [];
  if (variables.length === 0) return { plan, files: new Map(files) };
  const where = `sync ${plan.sync.name} (${plan.sync.file}:${plan.sync.line})`;
  const fillers = new Map<PlanEndpoint, (text: string) => string>();
  const fillerOf = (endpoint: PlanEndpoint): ((text: string) => string) => {
    let fill = fillers.get(endpoint);
    if (fill) return fill;
    const rule = endpoint.identifiers;
    if (!rule) throw new NameError(`${where}: the plan names tables with env() but gives no identifier rule for ${endpoint.name}; compile it again`);
    const pairs: [string, string][] = [];
    for (const variable of variables) {
      const value = env[variable];
      if (value === undefined) {
        throw new NameError(
          `${where} names a table with env("${variable}"), and ${variable} is not set: set it to the name to use (for example ${variable}=analytics)`,
        );
      }
      const problem = envNameProblem(rule, value);
      if (problem)
        throw new NameError(`${where} names a table with env("${variable}"), and ${variable}=${shown(value)} is no name for ${endpoint.name}: ${problem}`);
      const name = foldName(rule, value);
      // The quoted placeholder first: it becomes the quoted name; a bare one (a target's parts, a description) the name.
      pairs.push([enclose(rule, envSlot(variable)), enclose(rule, name)], [envSlot(variable), name]);
    }
    fill = (text) => pairs.reduce((t, [slot, name]) => t.split(slot).join(name), text);
    fillers.set(endpoint, fill);
    return fill;
  };
  const on = (side: 'source' | 'destination'): PlanEndpoint => (side === 'source' ? plan.source : plan.destination);

  const filled = new Map(files);
  const steps = plan.steps.map((step) => {
    if (!('on' in step)) return step;
    const fill = fillerOf(on(step.on));
    if ('file' in step && typeof step.file === 'string') {
      const text = files.get(step.file);
      if (text !== undefined) filled.set(step.file, fill(text));
    }
    return deepFill(step, fill);
  });
  // A warehouse destination's target and check name the table too; an API destination names none.
  const { settings, session, ...rest } = plan.destination;
  const destination = plan.destination.dialect
    ? { ...(deepFill(rest, fillerOf(plan.destination)) as typeof rest), settings, ...(session ? { session } : {}) }
    : plan.destination;
  // A lock row's table (engines without advisory locks) may be in a schema named by env() too.
  const lock = plan.lock.table === undefined ? plan.lock : deepFill(plan.lock, fillerOf(on(plan.lock.on)));
  return { plan: { ...plan, destination, lock, steps }, files: filled };
}

/** Every string of a JSON value, filled. */
function deepFill<T>(value: T, fill: (text: string) => string): T {
  if (typeof value === 'string') return fill(value) as T;
  if (Array.isArray(value)) return value.map((v) => deepFill(v, fill)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepFill(v, fill)])) as T;
  return value;
}
