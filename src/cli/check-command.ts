/** `syncwright check [paths..]`: parse and check, print diagnostics, exit 0/1. */
import { checkProject, type CheckResult } from '../check/check.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { renderDiagnostics, type OutputFormat } from '../diagnostics/render.js';
import { findSyncFiles, readSources } from './files.js';
import type { Io } from './output.js';

export interface CheckOptions {
  paths: string[];
  format: OutputFormat;
  strict: boolean;
}

/** Warnings become errors under --strict. */
export function applyStrict(ds: Diagnostic[], strict: boolean): Diagnostic[] {
  return strict ? ds.map((d) => ({ ...d, severity: 'error' as const })) : ds;
}

/** Load, check and report: shared by every command that starts from .sync files. */
export function loadAndCheck(opts: CheckOptions, io: Io): { result: CheckResult; failed: boolean; files: string[] } {
  const files = findSyncFiles(opts.paths);
  const sources = readSources(files);
  const result = checkProject(sources);
  const diagnostics = applyStrict(result.diagnostics, opts.strict);
  const failed = diagnostics.some((d) => d.severity === 'error');
  printDiagnostics(opts.format, diagnostics, sources, io);
  return { result, failed, files };
}

/** JSON goes to stdout (it is the command's output, even when empty); text and annotations to stderr. */
export function printDiagnostics(format: OutputFormat, diagnostics: readonly Diagnostic[], sources: readonly { path: string; text: string }[], io: Io): void {
  if (diagnostics.length === 0 && format !== 'json') return;
  const text = renderDiagnostics(format, diagnostics, new Map(sources.map((s) => [s.path, s.text])), io.colour);
  if (format === 'json') io.out(text);
  else if (text) io.err(text);
}

export function runCheck(opts: CheckOptions, io: Io): number {
  const { failed, files, result } = loadAndCheck(opts, io);
  if (opts.format === 'text' && !failed) {
    const syncs = result.project.syncs.length;
    io.err(`checked ${files.length} file${files.length === 1 ? '' : 's'}, ${syncs} sync${syncs === 1 ? '' : 's'}: ok`);
  }
  return failed ? 1 : 0;
}
