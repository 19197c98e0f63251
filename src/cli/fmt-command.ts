/** `syncwright fmt [paths..] [--check]`: rewrite files in canonical layout, or list those that differ. */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
// As the library's `format`, imported alone: `fmt` loads no emitter.
import { formatSource } from '../syntax/format.js';
import { notText } from '../syntax/parse.js';
import { syntaxWords } from '../catalog/index.js';
import type { OutputFormat } from '../diagnostics/render.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { findSyncFiles, nothingFound, readSources, UsageError } from '../files.js';
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
    const unreadable = readFileSync(resolve(io.cwd, s.path)).equals(Buffer.from(s.text, 'utf8')) ? undefined : notText(s);
    if (unreadable) {
      diagnostics.push(unreadable);
      continue;
    }
    const r = formatSource(s.path, s.text, syntaxWords);
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
    replaceFile(resolve(io.cwd, c.path), c.text);
    io.out(`formatted ${c.path}`);
  }
  return diagnostics.length > 0 ? 1 : 0;
}

/**
 * The file's text replaced as one piece: written beside it, then renamed over it, so a full
 * disk or a kill leaves the old text, never part of the new. Its permissions are kept.
 */
function replaceFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.fmt-${process.pid}`);
  let made = false;
  try {
    writeFileSync(temp, text, { flag: 'wx', mode: statSync(path).mode & 0o7777 });
    made = true;
    renameSync(temp, path);
  } catch (e) {
    // Only what this write made is removed: something already there is not ours.
    if (made) rmSync(temp, { force: true });
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
