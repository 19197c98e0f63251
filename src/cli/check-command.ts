/** `syncwright check [paths..]`: parse and check, print diagnostics, exit 0/1. */
// The stages the library's check(parse(files)) chains, imported alone: `check` loads no emitter.
import { checkProject, type CheckResult } from '../check/check.js';
import type { OutputFormat } from '../diagnostics/render.js';
import { loadSources } from '../files.js';
import { applyStrict, printDiagnostics, type Io } from './output.js';
import { resolve } from 'node:path';
import { dbtProjectsFrom } from '../dbt/load.js';
import { textHash } from '../output/kept-syncs.js';

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
  const paths = new Map(sources.map((s) => [s.name, resolve(io.cwd, s.path)]));
  const dbtRead: Loaded['dbtRead'] = [];
  const dbtProjects = dbtProjectsFrom(
    (name) => paths.get(name) ?? resolve(io.cwd, name),
    opts.target,
    (path, text) => dbtRead.push([path, text === undefined ? null : textHash(text)]),
  );
  const result = checkProject(
    sources.map((s) => ({ path: s.name, text: s.text })),
    { dbtProjects },
  );
  const diagnostics = applyStrict(result.diagnostics, opts.strict);
  const failed = diagnostics.some((d) => d.severity === 'error');
  printDiagnostics(opts.format, diagnostics, sources, io);
  return { result, failed, texts: new Map(sources.map((s) => [s.name, s.text])), dbtRead };
}

export function runCheck(opts: CheckOptions, io: Io): number {
  const { failed, texts, result } = loadAndCheck(opts, io);
  if (opts.format === 'text' && !failed) {
    const syncs = result.project.syncs.length;
    io.err(`checked ${texts.size} file${texts.size === 1 ? '' : 's'}, ${syncs} sync${syncs === 1 ? '' : 's'}: ok`);
  }
  return failed ? 1 : 0;
}
