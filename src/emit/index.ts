/**
 * The emitter: each sync's plan (src/plan/) rendered to plan.json and the SQL files it names,
 * and the manifest of them all.
 */
import type { KeptEntry, Manifest, ManifestSync, SyncSummary } from '../contract/manifest.js';
import type { PlanOptions } from '../contract/options.js';
import type { SyncArtifacts } from '../contract/plan.js';
import type { CheckedSync } from '../check/model.js';
import type { SyncPlan } from '../plan/index.js';
import { emitApiSync } from './api-sql.js';
import { withNameVariables } from './env-names.js';
import type { SqlFormatter } from './format.js';
import { buildManifest, byName, inputHash, manifestEntry } from './manifest.js';
import { emitWarehouseSync } from './warehouse-artifacts.js';

/**
 * What a compile produces: every sync's plan and files, and the manifest. A recompile's
 * manifest holds the entries of the syncs it emitted; those of the syncs it took from the
 * output as they are (`kept`) are the output's text of them, written as they are.
 */
export interface Build {
  artifacts: SyncArtifacts[];
  manifest: Manifest;
  kept?: KeptEntry[];
}

/** Every sync of a build in brief, emitted or kept, in name order (the manifest's). */
export function syncsOf(build: Build): SyncSummary[] {
  if (!build.kept?.length) return build.manifest.syncs;
  return [...build.manifest.syncs, ...build.kept.map((k) => k.sync)].sort(byName);
}

/** `fmt`: the compile's SQL formatting and its caches (one per compile). */
export function emitSync(plan: SyncPlan, fmt: SqlFormatter): SyncArtifacts {
  return withNameVariables(plan.sync, plan.kind === 'warehouse' ? emitWarehouseSync(plan, fmt) : emitApiSync(plan, fmt));
}

/**
 * Where a sync would be taken as it is from the output of an earlier compile: given what
 * this compile would write of it (its name, its inputs' hash, where it is written), the sync
 * in brief with its manifest entry's text there, when its files are still there as written;
 * else undefined.
 */
export type Reuse = (wanted: Pick<ManifestSync, 'name' | 'inputHash' | 'file' | 'line'>) => KeptEntry | undefined;

/**
 * The syncs a check that resumed from the last compile's did not check again, since no change
 * reaches them (src/check/project.ts): each is taken from the output as it is (`take`), or, where
 * the output no longer holds it as written, planned from `checked`, a check of every sync, which
 * is asked for at most once.
 */
export interface Unchanged {
  names: readonly string[];
  take: (name: string) => KeptEntry | undefined;
  checked: () => ReadonlyMap<string, CheckedSync>;
}

/**
 * Every sync planned (`planOf`) and emitted, then the manifest. `texts`: each file's text by
 * its name, over which the manifest's input hashes are computed. `onSync` gets each sync's
 * artifacts as soon as they are emitted (the build folder's writer starts on them while the
 * rest are emitted). A sync `reuse` finds is neither planned nor emitted: its entry is the one
 * it had. With `reuse`, the build's artifacts are only handed to `onSync`, not kept: the build
 * folder holds them, and a project's files take hundreds of megabytes.
 */
export function emitBuild(
  syncs: readonly CheckedSync[],
  planOf: (sync: CheckedSync) => SyncPlan,
  texts: ReadonlyMap<string, string>,
  options: PlanOptions,
  fmt: SqlFormatter,
  onSync?: (a: SyncArtifacts) => void,
  reuse?: Reuse,
  unchanged?: Unchanged,
): Build {
  const artifacts: SyncArtifacts[] = [];
  const entries: ManifestSync[] = [];
  const kept: KeptEntry[] = [];
  // The check of every sync, made when the output lacks one of them as written: what a sync not taken is planned from.
  let all: ReadonlyMap<string, CheckedSync> | undefined;
  // In name order, the manifest's: each entry taken is then read from the output's manifest after the one before (src/output/kept-syncs.ts).
  for (const name of [...(unchanged?.names ?? [])].sort()) {
    const entry = unchanged!.take(name);
    if (entry) kept.push(entry);
    else all ??= unchanged!.checked();
  }
  // Each sync of the whole check neither checked nor taken; a name of the outline that check does not know (a record edited by hand) is none.
  const taken = all && new Set([...syncs.map((s) => s.name), ...kept.map((e) => e.sync.name)]);
  const missing = all ? [...all.values()].filter((s) => !taken!.has(s.name)) : [];
  for (const sync of missing.length > 0 ? [...syncs, ...missing] : syncs) {
    const hash = inputHash(sync, texts, options);
    const entry = reuse?.({ name: sync.name, inputHash: hash, file: sync.file, line: sync.line });
    if (entry) {
      kept.push(entry);
      continue;
    }
    const a = emitSync(planOf(sync), fmt);
    onSync?.(a);
    if (!reuse) artifacts.push(a);
    entries.push(manifestEntry(sync, a, hash));
  }
  // The statements of the syncs taken as they were were formatted by an earlier compile: kept for the next.
  if (kept.length > 0) fmt.keepEarlier();
  return { artifacts, manifest: buildManifest(entries, options), kept };
}
