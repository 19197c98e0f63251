/** `syncwright fmt [paths..] [--check]`: rewrite files in canonical layout, or list those that differ. */
import { writeFileSync } from 'node:fs';
import { formatSource } from '../syntax/format.js';
import type { OutputFormat } from '../diagnostics/render.js';
import { printDiagnostics } from './check-command.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { findSyncFiles, readSources } from './files.js';
import type { Io } from './output.js';

export interface FmtOptions {
  paths: string[];
  check: boolean;
  format: OutputFormat;
}

export function runFmt(opts: FmtOptions, io: Io): number {
  const sources = readSources(findSyncFiles(opts.paths));
  const diagnostics: Diagnostic[] = [];
  const changed: { path: string; text: string }[] = [];
  for (const s of sources) {
    const r = formatSource(s.path, s.text);
    diagnostics.push(...r.diagnostics);
    if (r.text !== undefined && r.text !== s.text) changed.push({ path: s.path, text: r.text });
  }
  printDiagnostics(opts.format, diagnostics, sources, io);
  if (opts.check) {
    for (const c of changed) io.out(`would reformat ${c.path}`);
    return diagnostics.length > 0 || changed.length > 0 ? 1 : 0;
  }
  // Files that failed to parse are left as they are; the others are written.
  for (const c of changed) {
    writeFileSync(c.path, c.text);
    io.out(`formatted ${c.path}`);
  }
  return diagnostics.length > 0 ? 1 : 0;
}
