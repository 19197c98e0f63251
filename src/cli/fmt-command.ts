/** `syncwright fmt [paths..] [--check]`: rewrite files in canonical layout, or list those that differ. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// As the library's `format`, imported alone: `fmt` loads no emitter.
import { formatSource } from '../syntax/format.js';
import { notText } from '../syntax/parse.js';
import { syntaxWords } from '../catalog/index.js';
import { printableLine } from '../printable.js';
import type { OutputFormat } from '../diagnostics/render.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { findSyncFiles, nothingFound, readSources, replaceFile, UsageError } from '../files.js';
import { printDiagnostics, type Io } from './output.js';

export interface FmtOptions {
  paths: string[];
  check: boolean;
  format: OutputFormat;
}

export function runFmt(opts: FmtOptions, io: Io): number {
  const found = findSyncFiles(opts.paths, io.cwd);
  if (found.files.length === 0 && opts.format === 'text') io.err(nothingFound(opts.paths, found.skipped));
  const sources = readSources(found.files, io.cwd);
  const diagnostics: Diagnostic[] = [];
  const changed: { path: string; text: string }[] = [];
  for (const s of sources) {
    // Bytes that are not UTF-8 were read as U+FFFD: writing the text back would replace them.
    const mark = s.mark ? '\ufeff' : '';
    const unreadable = readFileSync(resolve(io.cwd, s.path)).equals(Buffer.from(mark + s.text, 'utf8')) ? undefined : notText(s);
    if (unreadable) {
      diagnostics.push(unreadable);
      continue;
    }
    const r = formatSource(s.path, s.text, syntaxWords);
    // One by one: a spread passes each as an argument, more than the stack holds past about 100,000 syntax errors.
    for (const d of r.diagnostics) diagnostics.push(d);
    // A byte order mark is the editor's way of saving the file, not layout: kept, as an editor formatting the file keeps it.
    if (r.text !== undefined && r.text !== s.text) changed.push({ path: s.path, text: mark + r.text });
  }
  printDiagnostics(opts.format, diagnostics, sources, io);
  if (opts.check) {
    for (const c of changed) io.out(`would reformat ${printableLine(c.path)}`);
    return diagnostics.length > 0 || changed.length > 0 ? 1 : 0;
  }
  // Files that failed to parse are left as they are; the others are written.
  for (const c of changed) {
    try {
      replaceFile(resolve(io.cwd, c.path), c.text);
    } catch (e) {
      throw new UsageError(`cannot write ${c.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    io.out(`formatted ${printableLine(c.path)}`);
  }
  return diagnostics.length > 0 ? 1 : 0;
}
