/** The CLI's view of the terminal: where text goes and whether it may be coloured; and diagnostics as the terminal shows them. */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { renderDiagnostics, type OutputFormat } from '../diagnostics/render.js';
import type { ProjectFile } from '../files.js';
import type { Span } from '../span.js';
import { collectAfterCheck } from './heap.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Text for stdout as it is, no line break added: the data `--sink -` delivers to a pipe or a file. */
  write?(text: string): void;
  colour: boolean;
  cwd: string;
  /**
   * Resolves once stdout accepted what `out` wrote so far (a pipe's buffer counts); rejects
   * when it refused it (the reader left: EPIPE). A run's `--sink -` waits for it before it
   * counts an object or a message as written. Undefined: `out` cannot fail.
   */
  flushed?(): Promise<void>;
  /**
   * Called when a compile's check is done, before planning; what it returns, when planning is
   * done. The CLI's own process collects its heap there, and keeps it tight while planning (heap.ts).
   */
  checked?(): () => void;
}

/**
 * A reader that leaves (`| head`, a log collector that stops) fails a stream's writes: the
 * command goes on without printing more there, rather than ending on an unhandled 'error'
 * event midway through a run. `failed()` is the stream's first error.
 */
function guarded(stream: NodeJS.WriteStream): { write(text: string): void; failed(): Error | undefined } {
  let gone: Error | undefined;
  stream.on('error', (e) => {
    gone ??= e;
  });
  return {
    write: (t) => {
      if (!gone) stream.write(t);
    },
    failed: () => gone,
  };
}

export function processIo(): Io {
  const tty = process.stderr.isTTY === true;
  const stdout = guarded(process.stdout);
  const stderr = guarded(process.stderr);
  const lined = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);
  return {
    out: (t) => stdout.write(lined(t)),
    err: (t) => stderr.write(lined(t)),
    write: (t) => stdout.write(t),
    // The stdout sink's (src/run/sinks/stdout.ts): written in order, the callback of this empty
    // write comes after every earlier one's.
    flushed: () =>
      new Promise((resolve, reject) => {
        const gone = stdout.failed();
        if (gone) reject(gone);
        else process.stdout.write('', (e) => (e || stdout.failed() ? reject(stdout.failed() ?? e) : resolve()));
      }),
    colour: tty && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb',
    cwd: process.cwd(),
    checked: collectAfterCheck,
  };
}

/** Warnings become errors under --strict; notes stay notes. */
export function applyStrict(ds: Diagnostic[], strict: boolean): Diagnostic[] {
  return strict ? ds.map((d) => (d.severity === 'warning' ? { ...d, severity: 'error' as const } : d)) : ds;
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
