/**
 * `syncwright compile [paths..] --out DIR`: check, then plan every sync and write
 * manifest.json, <sync>/plan.json and the SQL files as one atomic replacement of DIR.
 * Nothing is written when any check fails.
 */
import { resolve, sep } from 'node:path';
import type { OutputFormat } from '../diagnostics/render.js';
// Only what finds an output unchanged is loaded with the command; the compiler, when there is something to compile.
import type { Build, CompileContext } from '../index.js';
import type { SyncSummary } from '../contract/manifest.js';
import { loadSources, UsageError, type Sources } from '../files.js';
import { largest } from '../numbers.js';
import { outputHome } from '../output/kept-output.js';
import { inputsKey, previousInputs, unchangedBuild } from '../output/kept-syncs.js';
import { applyStrict, printDiagnostics, type Io } from './output.js';

export interface CompileOptions {
  paths: string[];
  out: string;
  format: OutputFormat;
  strict: boolean;
  postgresVersion?: number;
  target?: string;
}

/** Whether a path is the output's: its folder, a folder on the way to it, what is in it, or where its outputs are kept beside it (`outputHome`). */
function ofOutput(path: string, out: string): boolean {
  const p = resolve(path);
  const home = outputHome(out);
  return out === p || out.startsWith(`${p}${sep}`) || p.startsWith(`${out}${sep}`) || p === home || p.startsWith(`${home}${sep}`);
}

/** The stdout summary: one row per sync. */
export function summaryTable(syncs: readonly SyncSummary[]): string {
  const rows = [
    ['sync', 'destination', 'mode', 'files'],
    ...syncs.map((s) => [
      s.name,
      `${s.destination.name} (${s.destination.type})`,
      `${s.kind} ${s.mode}`,
      s.files.map((f) => f.slice(s.name.length + 1)).join(', '),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => largest(rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** What a compile into `out` is made of besides the compiler: the project's files and the options (`BuildInputs`). */
function keyOf(opts: Omit<CompileOptions, 'out'>, sources: Sources, io: Io): string {
  return inputsKey(
    sources.map((s) => ({ name: s.name, path: resolve(io.cwd, s.path), text: s.text })),
    optionsOf(opts),
  );
}

/** The options that change what a compile writes, as `BuildInputs` records them. */
const optionsOf = (opts: Omit<CompileOptions, 'out'>) => ({ postgresVersion: opts.postgresVersion ?? null, target: opts.target ?? null });

/**
 * Checks and compiles the project in memory; with `out`, also writes it as that build folder.
 * Undefined when the project has errors (printed, as every diagnostic is). `io.out` gets the
 * summary table, `io.err` the line that ends it. With `reuse`, syncs the output holds as they
 * would be written are taken from it, the build has only its manifest (no artifacts in memory),
 * and what the output was compiled from is recorded with it (`unchangedBuild`); the check
 * resumes from the outline the output's compile recorded (src/check/project.ts), checking only
 * what the change since reaches, and the syncs it does not reach are taken from the output.
 * `syncs` (a run of the syncs named): a name the project lacks is a usage error, and without
 * `out` only those syncs are planned and emitted (the check is still the whole project's),
 * the check resuming from the one `syncwright check` keeps, unless `cache` is false.
 */
export async function compileProject(
  opts: Omit<CompileOptions, 'out'> & { out?: string; syncs?: readonly string[]; cache?: boolean },
  io: Io,
  reuse = false,
  sources = loadSources(opts, io),
): Promise<(Build & { endpoints: string[] }) | undefined> {
  const [{ compileContext, emit, plan, planAndEmit, syncsOf, writeBuild, OutputRefused }, { checkForCompile }] = await Promise.all([
    import('../index.js'),
    import('./check-command.js'),
  ]);
  const out = opts.out === undefined ? undefined : resolve(io.cwd, opts.out);
  const options = JSON.stringify(optionsOf(opts));
  const previous = reuse && out !== undefined ? previousInputs(out) : undefined;
  // Artifacts of dbt are read by the models checked: with none recorded, no model of the project read one.
  const resumable = previous?.inputs.outline?.options === options && previous.inputs.dbt.length === 0 ? previous : undefined;
  const checkOpts = { paths: opts.paths, format: opts.format, strict: opts.strict, ...(opts.target ? { target: opts.target } : {}) };
  // A run of a few syncs of a large project plans those alone: the rest would be planned, emitted and held in memory for nothing.
  const only = out === undefined && opts.syncs?.length ? opts.syncs : undefined;
  // Its check resumes from the check's cache, and keeps it, as `syncwright check` does (`cache` false: neither).
  const cache = only && opts.cache !== false ? (await import('./check-cache.js')).checkCache(io.cwd, opts.paths, opts.target) : undefined;
  // Only what planning takes is kept: the project's trees (half the live heap of a 10,000-sync compile) are not.
  const checked = checkForCompile(checkOpts, io, sources, resumable?.inputs.outline?.files ?? cache?.outline, only);
  if (cache && checked.dbtRead.length === 0) cache.save(checked.outline);
  if (checked.failed || !checked.ok) return undefined;
  const { diagnostics, texts, dbtRead, unchanged, all, outline } = checked;
  const names = opts.syncs?.length ? [...checked.syncs.map((s) => s.name), ...unchanged].sort() : [];
  const unknown = [...new Set(opts.syncs)].filter((name) => !names.includes(name));
  if (unknown.length) throw new UsageError(`no sync named ${unknown.join(', ')}; the project has ${listed(names)}`);
  // With names, `named` is undefined only for a project with an error or without one of them: neither gets this far.
  const syncs = checked.named ?? checked.syncs;
  const context: CompileContext = { ...compileContext([], opts.postgresVersion === undefined ? {} : { postgresVersion: opts.postgresVersion }), texts };
  // The heap's collection after the check frees the project's trees: a check that resumed read few (user CPU 1.89 -> 1.79 s, median of 5, one file of 10,001 syncs).
  const planned = checked.readAll ? io.checked?.() : undefined;
  try {
    // The folder is written while the syncs are still being emitted.
    const build =
      out === undefined
        ? emit(plan({ syncs }, context), context)
        : await writeBuild(
            out,
            (onSync, kept, keep) =>
              planAndEmit(
                { syncs },
                context,
                onSync,
                reuse ? kept : undefined,
                resumable && { names: unchanged, take: (name) => keep(name, resumable.digest), checked: all },
              ),
            context,
            reuse ? { key: keyOf(opts, sources, io), dbt: dbtRead, diagnostics, outline: { options, files: outline } } : undefined,
          ).catch((e: unknown) => {
            if (e instanceof OutputRefused) throw new UsageError(e.message);
            // The file system refused the output (a file where a folder goes, no permission, read-only): an I/O error, not the compiler's.
            const errno = e as NodeJS.ErrnoException;
            if (typeof errno.code === 'string' && typeof errno.syscall === 'string' && typeof errno.path === 'string' && ofOutput(errno.path, out))
              throw new UsageError(`cannot write ${opts.out}: ${errno.code} (${errno.syscall})`);
            throw e;
          });
    summarise(opts, syncsOf(build), io, only && names.length);
    // The project's sources and destinations, whichever syncs were planned: what `run --endpoint NAME=` may name.
    const endpoints = outline.files.flatMap((f) => f.entries.filter(([kind]) => kind === 'source' || kind === 'destination').map(([, name]) => name));
    return { ...build, endpoints };
  } finally {
    planned?.();
  }
}

/** In text: the summary table on stdout, the line that ends it on stderr; `of`, the project's syncs when only some were compiled. */
function summarise(opts: Pick<CompileOptions, 'format'> & { out?: string }, syncs: readonly SyncSummary[], io: Io, of?: number): void {
  if (opts.format !== 'text') return;
  io.out(summaryTable(syncs));
  const count = of ? `${syncs.length} of ${of} syncs` : `${syncs.length} sync${syncs.length === 1 ? '' : 's'}`;
  io.err(`compiled ${count}${opts.out === undefined ? '' : ` into ${opts.out}`}`);
}

/** Names in a message: the first 20, and how many more. */
const listed = (names: readonly string[]): string =>
  names.length === 0 ? 'none' : names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')} and ${names.length - 20} more`;

/**
 * `syncwright compile`. When the output is what this very compile would write (the same files,
 * dbt artifacts, options and compiler as the compile that wrote it, and the output as that
 * compile left it: `unchangedBuild`), the project is not checked again: that compile's
 * diagnostics are shown again, and nothing is written.
 */
export async function runCompile(opts: CompileOptions, io: Io): Promise<number> {
  const sources = loadSources(opts, io);
  const kept = unchangedBuild(resolve(io.cwd, opts.out), keyOf(opts, sources, io));
  const diagnostics = kept && applyStrict(kept.diagnostics, opts.strict);
  // Under --strict the recorded warnings are errors, which a whole compile reports.
  if (kept && diagnostics && !diagnostics.some((d) => d.severity === 'error')) {
    printDiagnostics(opts.format, diagnostics, sources, io);
    summarise(opts, kept.syncs, io);
    return 0;
  }
  return (await compileProject(opts, io, true, sources)) ? 0 : 1;
}
