/** `syncwright check [paths..]`: parse and check, print diagnostics, exit 0/1. */
// The stages the library's check(parse(files)) chains, imported alone: `check` loads no emitter.
import { checkProject, type CheckResult } from '../check/check.js';
import type { OutputFormat } from '../diagnostics/render.js';
import { loadSources, type Sources } from '../files.js';
import type { SourceText } from '../syntax/parse.js';
import { OutlineMismatch, Project, type Outline } from '../check/project.js';
import type { CheckedSync } from '../check/model.js';
import type { DbtProjects } from '../check/models.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { applyStrict, printDiagnostics, type Io } from './output.js';
import { resolve } from 'node:path';
import { dbtProjectsFrom } from '../dbt/load.js';
import { textHash } from '../hash.js';

export interface CheckOptions {
  paths: string[];
  format: OutputFormat;
  strict: boolean;
  /** The dbt target whose artifacts models read from dbt take (`target/<name>/`); none: `target/`. */
  target?: string;
}

export interface Loaded {
  result: CheckResult;
  failed: boolean;
  /** The files' text by their names in the project (what the checked model's spans name). */
  texts: Map<string, string>;
  /** Every dbt artifact the check read, by path, with its text's hash (null: not read). */
  dbtRead: [string, string | null][];
}

/**
 * Load, check and report: shared by every command that starts from .sync files. The project
 * is checked under its files' names relative to its root (what artifacts say); diagnostics
 * show them as the user reaches them, from the working folder.
 */
export function loadAndCheck(opts: CheckOptions, io: Io, sources = loadSources(opts, io)): Loaded {
  const { dbtProjects, dbtRead } = dbtOf(opts, io, sources);
  const result = checkProject(
    sources.map((s) => ({ path: s.name, text: s.text })),
    { dbtProjects },
  );
  const failed = report(opts, io, sources, result.diagnostics);
  return { result, failed, texts: new Map(sources.map((s) => [s.name, s.text])), dbtRead };
}

/** The dbt projects sources name, read from the files' folders, and a list that records each artifact read. */
function dbtOf(opts: Pick<CheckOptions, 'target'>, io: Io, sources: Sources): { dbtProjects: DbtProjects; dbtRead: Loaded['dbtRead'] } {
  const paths = new Map(sources.map((s) => [s.name, resolve(io.cwd, s.path)]));
  const dbtRead: Loaded['dbtRead'] = [];
  const dbtProjects = dbtProjectsFrom(
    (name) => paths.get(name) ?? resolve(io.cwd, name),
    opts.target,
    (path, text) => dbtRead.push([path, text === undefined ? null : textHash(text)]),
  );
  return { dbtProjects, dbtRead };
}

/** Prints the diagnostics (warnings as errors under `--strict`); whether there is an error. */
function report(opts: Pick<CheckOptions, 'format' | 'strict'>, io: Io, sources: Sources, diagnostics: Diagnostic[]): boolean {
  const shown = applyStrict(diagnostics, opts.strict);
  printDiagnostics(opts.format, shown, sources, io);
  return shown.some((d) => d.severity === 'error');
}

/**
 * The project checked as `loadAndCheck` checks it, but held as a `Project`: given an outline a
 * check of these files left (a compile's record, a check's cache), resumed from it
 * (src/check/project.ts), so that only what the difference reaches is parsed and checked; an
 * outline this checker did not make of them is a whole check. `readAll`: every file was parsed
 * and checked (no resume, or the change reached most of the project).
 */
function projectOf(
  opts: CheckOptions,
  io: Io,
  sources: Sources,
  outline: Outline | undefined,
  keepSyncs: boolean,
): { project: Project; readAll: boolean; files: SourceText[]; dbtProjects: DbtProjects; dbtRead: Loaded['dbtRead'] } {
  let { dbtProjects, dbtRead } = dbtOf(opts, io, sources);
  const files = sources.map((s) => ({ path: s.name, text: s.text }));
  if (outline) {
    try {
      const { project, report } = Project.resume(outline, files, { dbtProjects, keepSyncs });
      return { project, readAll: report.whole, files, dbtProjects, dbtRead };
    } catch (e) {
      if (!(e instanceof OutlineMismatch)) throw e;
      // An outline this checker did not make of these files: the whole project is checked.
      ({ dbtProjects, dbtRead } = dbtOf(opts, io, sources));
    }
  }
  return { project: new Project(files, { dbtProjects, keepSyncs }), readAll: true, files, dbtProjects, dbtRead };
}

/**
 * A compile's check: as `loadAndCheck`, and, given the outline the last compile of the output
 * recorded, resumed from it (`projectOf`). `syncs`: the syncs checked, every one whose output
 * may have changed; `unchanged`: the others, which no change reaches; `all`: a check of every
 * sync, for one of those the output no longer holds as written. `outline`: what the next
 * compile resumes from. `named`: with `names`, the syncs of those names.
 */
export function checkForCompile(
  opts: CheckOptions,
  io: Io,
  sources: Sources,
  outline?: Outline,
  names?: readonly string[],
): Omit<Loaded, 'result'> & {
  ok: boolean;
  /** Every file was parsed and checked: the check did not resume, or the change reached most of the project. */
  readAll: boolean;
  diagnostics: Diagnostic[];
  syncs: readonly CheckedSync[];
  unchanged: string[];
  all: () => ReadonlyMap<string, CheckedSync>;
  /** With `names`, when the project checks clean and has each: the syncs of those names, as a check of the whole project reads them (those `syncs` lacks checked with what they read alone). */
  named: readonly CheckedSync[] | undefined;
  outline: Outline;
} {
  // No function made here may refer to the project: V8 keeps what any closure of a scope refers to for every closure of it, so `all`
  // would keep the project's trees alive while the syncs are planned (a first compile of 10,001 syncs peaked at 480 MB, not 385).
  let { project, readAll, files, dbtProjects, dbtRead } = projectOf(opts, io, sources, outline, true);
  let named: readonly CheckedSync[] | undefined;
  try {
    named = names && namedSyncs(project, names);
  } catch (e) {
    if (!(e instanceof OutlineMismatch)) throw e;
    // An outline this checker did not make of these files, found out only where the syncs named read a file the resume did not:
    // the whole project is checked, and reported, instead.
    ({ project, readAll, files, dbtProjects, dbtRead } = projectOf(opts, io, sources, undefined, true));
    named = names && namedSyncs(project, names);
  }
  const diagnostics = project.allDiagnostics();
  const failed = report(opts, io, sources, diagnostics);
  const syncs = project.checkedSyncs;
  let whole: Map<string, CheckedSync> | undefined;
  return {
    ok: !diagnostics.some(isError),
    readAll,
    failed,
    diagnostics,
    texts: new Map(files.map((f) => [f.path, f.text])),
    dbtRead,
    syncs,
    // Not those the check checked and found an error in: only what it did not reach.
    unchanged: project.uncheckedSyncs(),
    // A check of its own, made once: the project's trees are not kept for it.
    all: () => (whole ??= new Map(checkProject(files, { dbtProjects }).project.syncs.map((s) => [s.name, s]))),
    named,
    outline: project.outline(),
  };
}

/**
 * The syncs of `names`, when the project checks clean and has each (else it is not planned):
 * those its last check checked, else a check of them and what they read.
 */
function namedSyncs(project: Project, names: readonly string[]): readonly CheckedSync[] | undefined {
  const known = new Set(project.syncNames());
  if (project.allDiagnostics().some(isError) || !names.every((name) => known.has(name))) return undefined;
  const checked = project.checkedSyncs;
  return names.every((name) => checked.some((s) => s.name === name)) ? checked.filter((s) => names.includes(s.name)) : project.syncsNamed(names);
}

const isError = (d: Diagnostic): boolean => d.severity === 'error';

/**
 * `syncwright check`. With `cache`, it resumes from the outline the last check of the same
 * paths and options kept (src/cli/check-cache.ts), and keeps its own for the next; one that read
 * a dbt artifact keeps none, since an artifact may change while no file does (as a compile
 * resumes only from an output whose check read none).
 */
// Async only to load the cache's code when it is used.
export async function runCheck(opts: CheckOptions & { cache?: boolean }, io: Io): Promise<number> {
  let failed: boolean;
  let files: number;
  let syncs: number;
  if (opts.cache) {
    const sources = loadSources(opts, io);
    const cache = (await import('./check-cache.js')).checkCache(io.cwd, opts.paths, opts.target);
    const { project, dbtRead } = projectOf(opts, io, sources, cache.outline, false);
    failed = report(opts, io, sources, project.allDiagnostics());
    if (dbtRead.length === 0) cache.save(project.outline());
    files = sources.length;
    syncs = project.syncNames().length;
  } else {
    // A whole check with nothing kept: checkProject, not a Project, which costs 7% more time and 20 MB more here (10,001 syncs).
    const loaded = loadAndCheck(opts, io);
    failed = loaded.failed;
    files = loaded.texts.size;
    syncs = loaded.result.project.syncs.length;
  }
  if (opts.format === 'text' && !failed) io.err(`checked ${files} file${files === 1 ? '' : 's'}, ${syncs} sync${syncs === 1 ? '' : 's'}: ok`);
  return failed ? 1 : 0;
}
