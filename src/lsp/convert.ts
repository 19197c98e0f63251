/**
 * The project's spans and diagnostics in the protocol's terms. A span is read by its offsets
 * only: its lines count `\n` alone, as `check` prints them, while the protocol ends a line at
 * `\r\n`, `\n` or a lone `\r`. Its columns count UTF-16 code units, as JavaScript strings and
 * the protocol (by default) do. Every position the server sends or reads goes through LineMap.
 */
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic, type Location, type Position, type Range } from 'vscode-languageserver/node';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { Span } from '../span.js';

/** The lines of a text as the protocol counts them: each ends at `\r\n`, `\n` or `\r`. */
export class LineMap {
  /** The offset where each line starts. */
  readonly #starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if (c === 10 || c === 13) this.#starts.push(i + 1);
    }
  }

  get lineCount(): number {
    return this.#starts.length;
  }

  /** The line (0-based) of an offset. */
  line(offset: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  lineStart(line: number): number {
    return this.#starts[line] ?? this.text.length;
  }

  /** Where a line's text ends, before its line break. */
  lineEnd(line: number): number {
    const next = this.#starts[line + 1];
    if (next === undefined) return this.text.length;
    return next - (this.text.charCodeAt(next - 2) === 13 && this.text.charCodeAt(next - 1) === 10 ? 2 : 1);
  }

  position(offset: number): Position {
    const at = Math.min(Math.max(offset, 0), this.text.length);
    const line = this.line(at);
    return { line, character: at - this.#starts[line]! };
  }

  /** The offset of a position, clamped to the text and to its line (a client may send any numbers). */
  offset(position: Position): number {
    const line = Math.trunc(Number(position.line)) || 0;
    if (line < 0) return 0;
    if (line >= this.#starts.length) return this.text.length;
    const character = Math.max(Math.trunc(Number(position.character)) || 0, 0);
    return Math.min(this.#starts[line]! + character, this.lineEnd(line));
  }

  range(span: Pick<Span, 'offset' | 'endOffset'>): Range {
    return { start: this.position(span.offset), end: this.position(span.endOffset) };
  }
}

/** The files of a project as the client names them and counts their positions. */
export interface Files {
  uri(path: string): string;
  /** The lines of a project file's text, as the project holds it. */
  lines(path: string): LineMap;
}

/**
 * Files by a project's URIs and texts, each file's lines counted once. For one answer or
 * publication: the texts must not change while it is used.
 */
export function filesOf(uri: (path: string) => string, text: (path: string) => string | undefined): Files {
  const maps = new Map<string, LineMap>();
  return {
    uri,
    lines: (path) => {
      let map = maps.get(path);
      if (!map) maps.set(path, (map = new LineMap(text(path) ?? '')));
      return map;
    },
  };
}

export function toRange(span: Span, files: Files): Range {
  return files.lines(span.file).range(span);
}

export function toLocation(span: Span, files: Files): Location {
  return { uri: files.uri(span.file), range: toRange(span, files) };
}

const lspSeverity: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  note: DiagnosticSeverity.Information,
};

/** One diagnostic as the editor shows it: the hints below the message, as `check` prints them; the related places linked. */
export function toLspDiagnostic(d: Diagnostic, files: Files): LspDiagnostic {
  const out: LspDiagnostic = {
    range: toRange(d.span, files),
    severity: lspSeverity[d.severity],
    code: d.code,
    source: 'syncwright',
    message: [d.message, ...d.hints.map((h) => `hint: ${h}`)].join('\n'),
  };
  if (d.related?.length) out.relatedInformation = d.related.map((r) => ({ location: toLocation(r.span, files), message: r.message }));
  return out;
}
