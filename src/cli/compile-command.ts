/**
 * `syncwright compile [paths..] --out DIR`: check, then plan every sync and write
 * manifest.json, <sync>/plan.json and the SQL files as one atomic replacement of DIR.
 * Nothing is written when any check fails.
 */
import { resolve } from 'node:path';
import type { OutputFormat } from '../diagnostics/render.js';
import type { Manifest } from '../contract/manifest.js';
import { compileContext, emit, plan, planAndEmit, writeBuild, OutputRefused, type Build, type CompileContext } from '../index.js';
import { UsageError } from '../files.js';
import { loadAndCheck } from './check-command.js';
import type { Io } from './output.js';

export interface CompileOptions {
  paths: string[];
  out: string;
  format: OutputFormat;
  strict: boolean;
  postgresVersion?: number;
  target?: string;
}

/** The stdout summary: one row per sync. */
export function summaryTable(manifest: Manifest): string {
  const rows = [
    ['sync', 'destination', 'mode', 'files'],
    ...manifest.syncs.map((s) => [
      s.name,
      `${s.destination.name} (${s.destination.type})`,
      `${s.kind} ${s.mode}`,
      s.files.map((f) => f.slice(s.name.length + 1)).join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/**
 * Checks and compiles the project in memory; with `out`, also writes it as that build folder.
 * Undefined when the project has errors (printed, as every diagnostic is). `io.out` gets the
 * summary table, `io.err` the line that ends it. With `reuse`, syncs the output holds as they
 * would be written are taken from it, and the build has only its manifest (no artifacts in memory).
 */
export async function compileProject(opts: Omit<CompileOptions, 'out'> & { out?: string }, io: Io, reuse = false): Promise<Build | undefined> {
  const { result, failed, texts } = loadAndCheck(
    { paths: opts.paths, format: opts.format, strict: opts.strict, ...(opts.target ? { target: opts.target } : {}) },
    io,
  );
  if (failed || !result.ok) return undefined;
  const { project } = result;
  const context: CompileContext = { ...compileContext([], opts.postgresVersion === undefined ? {} : { postgresVersion: opts.postgresVersion }), texts };
  // The folder is written while the syncs are still being emitted.
  const build =
    opts.out === undefined
      ? emit(plan(project, context), context)
      : await writeBuild(resolve(io.cwd, opts.out), (onSync, kept) => planAndEmit(project, context, onSync, reuse ? kept : undefined), context).catch(
          (e: unknown) => {
            throw e instanceof OutputRefused ? new UsageError(e.message) : e;
          },
        );
  if (opts.format === 'text') {
    const n = build.manifest.syncs.length;
    io.out(summaryTable(build.manifest));
    io.err(`compiled ${n} sync${n === 1 ? '' : 's'}${opts.out === undefined ? '' : ` into ${opts.out}`}`);
  }
  return build;
}

export async function runCompile(opts: CompileOptions, io: Io): Promise<number> {
  return (await compileProject(opts, io, true)) ? 0 : 1;
}
