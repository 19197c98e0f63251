/** The mirror guards, judged on the change set's summary row before anything is sent. */
import type { GuardStep } from '../contract/api-steps.js';

export type ChangeSummary = Record<string, number>;

/** A guard stopped the run before anything was sent. */
export class GuardAbort extends Error {}

/** Why the run must stop, or undefined when the guard holds. */
export function guardViolation(guard: GuardStep, summary: ChangeSummary): string | undefined {
  const n = (k: string) => summary[k] ?? 0;
  // Rows without an identifier are skipped, not sent: a model whose every row lost it (a broken
  // join, a column emptied) is an empty model to the destination, as the warehouse guard counts it.
  if (!guard.allowEmpty && n('model_rows') - n('null_keys') === 0) {
    const rows = n('model_rows');
    const empty = rows === 0 ? 'the model has no rows' : `the model has ${rows} rows but none has an identifier`;
    return `${empty}, so mirroring it would delete every record this sync wrote (${n('removed')}); add \`guard allow empty\` if that is meant`;
  }
  const max = guard.maxDeletes;
  if (!max) return undefined;
  const removed = n('removed');
  // The snapshot before this run, as the change set counts it (`synced`: its rows of the unknown
  // payload hash are added while the model has them, yet synced). A plan compiled before the
  // count: what is removed, changed or unchanged.
  const synced = summary.synced;
  const snapshot = synced !== undefined && Number.isFinite(synced) ? synced : removed + n('changed') + n('unchanged');
  if (max.percent) {
    const share = snapshot === 0 ? 0 : (removed / snapshot) * 100;
    if (share > max.value) return `${removed} deletes are ${share.toFixed(1)}% of the ${snapshot} records synced, above the guard's ${max.value}%`;
  } else if (removed > max.value) {
    return `${removed} deletes exceed the guard's limit of ${max.value}`;
  }
  return undefined;
}
