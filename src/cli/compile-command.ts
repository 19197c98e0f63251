/**
 * `syncwright compile [paths..] --out DIR`: check, then plan every sync and write
 * manifest.json, <sync>/plan.json and the SQL files as one atomic replacement of DIR.
 * Nothing is written when any check fails.
 */
import { resolve } from 'node:path';
import type { OutputFormat } from '../diagnostics/render.js';
import { planSync, type PlanOptions } from '../plan/index.js';
import { buildManifest, manifestEntry, type Manifest, type ManifestSync } from '../emit/manifest.js';
import { OutputRefused, writeTreeAtomically, type ArtifactTree } from '../emit/artifact-tree.js';
import { formattedCarry } from '../emit/format.js';
import type { CheckedProject } from '../check/model.js';
import { UsageError } from './files.js';
import { loadAndCheck } from './check-command.js';
import type { Io } from './output.js';

export interface CompileOptions {
  paths: string[];
  out: string;
  format: OutputFormat;
  strict: boolean;
  postgresVersion?: number;
}

/** The stdout summary: one row per sync. */
export function summaryTable(manifest: Manifest): string {
  const rows = [['sync', 'destination', 'mode', 'files'], ...manifest.syncs.map((s) => [s.name, `${s.destination.name} (${s.destination.type})`, `${s.kind} ${s.mode}`, s.files.map((f) => f.slice(s.name.length + 1)).join(', ')])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/**
 * Plans every sync and queues its files (and then the manifest) in the build folder being
 * written: each sync goes to the writer as soon as it is planned, so the folder fills while
 * the rest are planned.
 */
export function queueArtifacts(tree: ArtifactTree, project: CheckedProject, texts: ReadonlyMap<string, string>, options: PlanOptions): Manifest {
  const entries: ManifestSync[] = [];
  for (const sync of project.syncs) {
    const artifacts = planSync(sync, options);
    tree.addSync(artifacts);
    entries.push(manifestEntry(sync, artifacts, texts, options));
  }
  const manifest = buildManifest(entries, options);
  tree.addManifest(manifest);
  return manifest;
}

export async function runCompile(opts: CompileOptions, io: Io): Promise<number> {
  const { result, failed, texts } = loadAndCheck({ paths: opts.paths, format: opts.format, strict: opts.strict }, io);
  if (failed || !result.ok) return 1;
  const { project } = result;
  const options: PlanOptions = opts.postgresVersion === undefined ? {} : { postgresVersion: opts.postgresVersion };
  const out = resolve(io.cwd, opts.out);
  const manifest = await writeTreeAtomically(out, (tree) => queueArtifacts(tree, project, texts, options), formattedCarry).catch((e: unknown) => {
    throw e instanceof OutputRefused ? new UsageError(e.message) : e;
  });
  if (opts.format === 'text') {
    io.out(summaryTable(manifest));
    io.err(`compiled ${manifest.syncs.length} sync${manifest.syncs.length === 1 ? '' : 's'} into ${opts.out}`);
  }
  return 0;
}
