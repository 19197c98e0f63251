/**
 * `syncwright compile [paths..] --out DIR`: check, then plan every sync and write
 * manifest.json, <sync>/plan.json and the SQL files as one atomic replacement of DIR.
 * Nothing is written when any check fails.
 */
import { resolve } from 'node:path';
import type { OutputFormat } from '../diagnostics/render.js';
import { planProject, type PlanOptions } from '../plan/index.js';
import { buildManifest, validateManifest, type Manifest } from '../emit/manifest.js';
import { artifactTree, writeTreeAtomically } from '../emit/artifact-tree.js';
import { readSources } from './files.js';
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

export async function runCompile(opts: CompileOptions, io: Io): Promise<number> {
  const { result, failed, files } = loadAndCheck({ paths: opts.paths, format: opts.format, strict: opts.strict }, io);
  if (failed || !result.project) return 1;
  const options: PlanOptions = opts.postgresVersion === undefined ? {} : { postgresVersion: opts.postgresVersion };
  const artifacts = planProject(result.project, options);
  const texts = new Map(readSources(files).map((s) => [s.path, s.text]));
  const manifest = buildManifest(result.project.syncs, artifacts, texts, options);
  validateManifest(manifest);
  await writeTreeAtomically(resolve(io.cwd, opts.out), artifactTree(artifacts, manifest));
  if (opts.format === 'text') {
    io.out(summaryTable(manifest));
    io.err(`compiled ${manifest.syncs.length} sync${manifest.syncs.length === 1 ? '' : 's'} into ${opts.out}`);
  }
  return 0;
}
