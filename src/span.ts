/** A range of source text. Lines and columns are 1-based; offsets are 0-based, end exclusive. */
export interface Span {
  file: string;
  line: number;
  column: number;
  offset: number;
  endLine: number;
  endColumn: number;
  endOffset: number;
}

/** The smallest span covering both. Both must come from the same file. */
export function joinSpans(a: Span, b: Span): Span {
  const first = a.offset <= b.offset ? a : b;
  const last = a.endOffset >= b.endOffset ? a : b;
  return {
    file: a.file,
    line: first.line,
    column: first.column,
    offset: first.offset,
    endLine: last.endLine,
    endColumn: last.endColumn,
    endOffset: last.endOffset,
  };
}

/** The empty span at the start of a file, for diagnostics about a file as a whole. */
export function fileStart(file: string): Span {
  return { file, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 };
}

/**
 * The lines of a text, for spans made from offsets: the offset where each line starts (a line
 * ends at `\n`, as everywhere else), read once. The parser keeps only offsets (tokens carry no
 * lines or columns: a third less to allocate per token), and every line and column of a
 * parsed file is found here.
 */
export class Lines {
  /** The offset where each line starts. */
  private readonly starts: number[] = [0];
  /** The line (from 0) of the last offset asked: spans come mostly in text order, on it or the next. */
  private last = 0;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** The line, from 0, that holds `offset`: the last that starts at or before it. */
  private lineAt(offset: number): number {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    // The search starts from the line of the last offset asked, and mostly ends within a few lines of it.
    const last = this.last;
    if (starts[last]! <= offset) {
      lo = last;
      if (last + 4 <= hi && starts[last + 4]! > offset) hi = last + 3;
    } else hi = last - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.last = lo;
    return lo;
  }

  /** The line (from 1) that holds `offset`; NaN for NaN (a token with no place, as Chevrotain's end of file). */
  line(offset: number): number {
    return Number.isNaN(offset) ? NaN : this.lineAt(offset) + 1;
  }

  /** The column (from 1) of `offset` on its line; NaN for NaN. */
  column(offset: number): number {
    return Number.isNaN(offset) ? NaN : offset - this.starts[this.lineAt(offset)]! + 1;
  }

  /**
   * The span from `offset` to `endOffset` (exclusive), all NaN when `offset` is. Its end is where
   * the character after it stands: after a line break, at the start of the next line.
   */
  span(offset: number, endOffset: number): Span {
    const file = this.file;
    if (Number.isNaN(offset)) return { file, line: NaN, column: NaN, offset: NaN, endLine: NaN, endColumn: NaN, endOffset: NaN };
    const line = this.lineAt(offset);
    const column = offset - this.starts[line]! + 1;
    const endLine = this.lineAt(endOffset);
    return { file, line: line + 1, column, offset, endLine: endLine + 1, endColumn: endOffset - this.starts[endLine]! + 1, endOffset };
  }
}
