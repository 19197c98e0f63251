/** What every plan opens with (schema, version, sync), its endpoints and its lock key. */
import { hash } from 'node:crypto';
import type { CheckedSync, Dialect, ResolvedValue } from '../check/model.js';
import { getDialect } from '../dialect/index.js';
import type { PlanOptions } from '../contract/options.js';
import { planSchemaId, planVersion, type Plan, type PlanEndpoint } from '../contract/plan.js';

/** First 8 bytes of SHA-256 over `syncwright:<name>`, as a signed 64-bit integer: a Postgres advisory lock key. */
export function lockKeyOf(name: string): bigint {
  return hash('sha256', `syncwright:${name}`, 'buffer').readBigInt64BE(0);
}

/** What opens every plan, warehouse or API: the schema, the format version and the sync. */
export function planHead(sync: CheckedSync): Pick<Plan, '$schema' | 'planVersion' | 'sync'> {
  const head: Plan['sync'] = { name: sync.name, kind: sync.kind, mode: sync.mode, file: sync.file, line: sync.line };
  if (sync.schedule) head.schedule = sync.schedule;
  return { $schema: planSchemaId, planVersion, sync: head };
}

/**
 * The major version the SQL for a warehouse is generated for, where its dialect has versions
 * (Postgres): the compile option, else a literal `version` setting, else the dialect's default.
 */
function versionOf(dialect: Dialect, settings: Record<string, ResolvedValue>, options: PlanOptions): number | undefined {
  const versions = getDialect(dialect).versions;
  if (!versions) return undefined;
  const v = options.postgresVersion ?? (typeof settings.version === 'number' ? settings.version : versions.default);
  if (!versions.supported.includes(v)) throw new Error(`${dialect} ${v} is not supported (supported: ${versions.supported.join(', ')})`);
  return v;
}

/** A warehouse a plan's SQL runs on (every source; warehouse destinations), with its version. */
export function warehouseEndpoint(
  name: string,
  dialect: Dialect,
  settings: Record<string, ResolvedValue>,
  options: PlanOptions,
): PlanEndpoint & { dialect: Dialect } {
  const version = versionOf(dialect, settings, options);
  return version === undefined ? { name, dialect, settings } : { name, dialect, version, settings };
}
