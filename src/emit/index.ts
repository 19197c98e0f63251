/**
 * The emitter: each sync's plan (src/plan/) rendered to plan.json and the SQL files it names,
 * and the manifest of them all.
 */
import type { Manifest, ManifestSync } from '../contract/manifest.js';
import type { PlanOptions } from '../contract/options.js';
import type { SyncArtifacts } from '../contract/plan.js';
import type { SyncPlan } from '../plan/index.js';
import { emitApiSync } from './api-sql.js';
import { withNameVariables } from './env-names.js';
import type { SqlFormatter } from './format.js';
import { buildManifest, manifestEntry } from './manifest.js';
import { emitWarehouseSync } from './warehouse-artifacts.js';

/** What a compile produces: every sync's plan and files, and the manifest. */
export interface Build {
  artifacts: SyncArtifacts[];
  manifest: Manifest;
}

/** `fmt`: the compile's SQL formatting and its caches (one per compile). */
export function emitSync(plan: SyncPlan, fmt: SqlFormatter): SyncArtifacts {
  return withNameVariables(plan.sync, plan.kind === 'warehouse' ? emitWarehouseSync(plan, fmt) : emitApiSync(plan, fmt));
}

/**
 * Every plan emitted, then the manifest. `texts`: each file's text by its name, over which
 * the manifest's input hashes are computed. `onSync` gets each sync's artifacts as soon as
 * they are emitted (the build folder's writer starts on them while the rest are emitted).
 */
export function emitBuild(plans: readonly SyncPlan[], texts: ReadonlyMap<string, string>, options: PlanOptions, fmt: SqlFormatter, onSync?: (a: SyncArtifacts) => void): Build {
  const artifacts: SyncArtifacts[] = [];
  const entries: ManifestSync[] = [];
  for (const plan of plans) {
    const a = emitSync(plan, fmt);
    onSync?.(a);
    artifacts.push(a);
    entries.push(manifestEntry(plan.sync, a, texts, options));
  }
  return { artifacts, manifest: buildManifest(entries, options) };
}
