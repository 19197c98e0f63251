/** An endpoint's settings as its session reads them: one rule for every engine. */
import type { PlanEndpoint } from '../../contract/plan.js';

/**
 * A setting's text: a literal as written, or the value of the variable `env("NAME")` names,
 * which must be set. An unset one is an error, not an absent setting: the engine would fall
 * back to its default (PGDATABASE, the service, the user's default database) and run the sync
 * somewhere the project does not name.
 */
export function settingOf(endpoint: PlanEndpoint, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const v = endpoint.settings[name];
  if (v !== null && typeof v === 'object' && 'env' in v) {
    const value = env[v.env];
    if (value === undefined || value === '') throw new Error(`environment variable ${v.env} is not set (the ${name.replace(/_/g, ' ')} of ${endpoint.name})`);
    return value;
  }
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** A setting's text as `settingOf` reads it, an empty one none (Snowflake's and BigQuery's settings). */
export function settingText(endpoint: PlanEndpoint, name: string, env: NodeJS.ProcessEnv): string | undefined {
  return settingOf(endpoint, name, env) || undefined;
}
