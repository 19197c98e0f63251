/** `syncwright check [paths..]`: parse and check, print diagnostics, exit 0/1. */
// The stages the library's check(parse(files)) chains, imported alone: `check` loads no emitter.
import { checkProject, type CheckResult } from '../check/check.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { Span } from '../span.js';
import { renderDiagnostics, type OutputFormat } from '../diagnostics/render.js';
import { findSyncFiles, nothingFound, readSources, type ProjectFile } from '../files.js';
import type { Io } from './output.js';
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

/** Warnings become errors under --strict. */
export function applyStrict(ds: Diagnostic[], strict: boolean): Diagnostic[] {
  return strict ? ds.map((d) => ({ ...d, severity: 'error' as const })) : ds;
}

export interface Loaded {
  result: CheckResult;
  failed: boolean;
  /** The files' text by their names in the project (what the checked model's spans name). */
  texts: Map<string, string>;
  /** Every dbt artifact the check read, by path, with its text's hash (null: not read). */
  dbtRead: [string, string | null][];
}

/** The project's files, found and read: each as the user reaches it (`path`), by its name in the project, with its text. */
export type Sources = (ProjectFile & { text: string })[];

/** Finds and reads the project's .sync files; says so when there is none. */
export function loadSources(opts: Pick<CheckOptions, 'paths' | 'format'>, io: Io): Sources {
  const found = findSyncFiles(opts.paths, io.cwd);
  if (found.files.length === 0 && opts.format === 'text') io.err(nothingFound(opts.paths, found.skipped));
  return readSources(found.files, io.cwd);
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

/**
 * JSON goes to stdout (it is the command's output, even when empty); text and annotations to
 * stderr. Spans that name a file by its name in the project are shown with its path.
 */
export function printDiagnostics(
  format: OutputFormat,
  diagnostics: readonly Diagnostic[],
  sources: readonly (Pick<ProjectFile, 'path'> & { name?: string; text: string })[],
  io: Io,
): void {
  if (diagnostics.length === 0 && format !== 'json') return;
  const paths = new Map(sources.map((s) => [s.name ?? s.path, s.path]));
  const shownSpan = <T extends { span: Span }>(x: T): T => ({ ...x, span: { ...x.span, file: paths.get(x.span.file) ?? x.span.file } });
  const shown = diagnostics.map((d) => {
    const out = shownSpan(d);
    if (d.related) out.related = d.related.map(shownSpan);
    if (d.fixes) out.fixes = d.fixes.map(shownSpan);
    return out;
  });
  const text = renderDiagnostics(format, shown, new Map(sources.map((s) => [s.path, s.text])), io.colour);
  if (format === 'json') io.out(text);
  else if (text) io.err(text);
}

export function runCheck(opts: CheckOptions, io: Io): number {
  const { failed, texts, result } = loadAndCheck(opts, io);
  if (opts.format === 'text' && !failed) {
    const syncs = result.project.syncs.length;
    io.err(`checked ${texts.size} file${texts.size === 1 ? '' : 's'}, ${syncs} sync${syncs === 1 ? '' : 's'}: ok`);
  }
  return failed ? 1 : 0;
}
