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
 * Spans of `text` at offsets given in increasing order, on one line each, read in one pass:
 * a line ends at `\n`, as the renderer and the checker count lines.
 */
export function spansOf(file: string, text: string): (offset: number, length: number) => Span {
  let line = 1;
  let lineStart = 0;
  return (offset, length) => {
    for (let end = text.indexOf('\n', lineStart); end !== -1 && end < offset; end = text.indexOf('\n', lineStart)) {
      line++;
      lineStart = end + 1;
    }
    const column = offset - lineStart + 1;
    return { file, line, column, offset, endLine: line, endColumn: column + length, endOffset: offset + length };
  };
}

/** The span of `length` characters at `offset` of `text`, on one line. */
export function spanAt(file: string, text: string, offset: number, length: number): Span {
  return spansOf(file, text)(offset, length);
}
