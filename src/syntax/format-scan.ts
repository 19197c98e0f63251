/** Code positions of one file for the formatter: where code is, stepping over comments. */
import type { Comment } from './ast.js';
import type { Span } from '../span.js';

/** The source range a node of the layout came from: enough for comments to find their place. */
export type Range = Pick<Span, 'offset' | 'endOffset'>;

export function isLineComment(c: Comment): boolean {
  return !c.text.startsWith('/*');
}

export class CodeScanner {
  /** Comment start by the offset of its last character. */
  private readonly starts: Map<number, number>;
  /** Comment end by its start offset. */
  private readonly ends: Map<number, number>;
  /** In source order, for finding those in a range. */
  private readonly sorted: Comment[];

  constructor(
    private readonly source: string,
    comments: Comment[],
  ) {
    this.starts = new Map(comments.map((c) => [c.span.endOffset - 1, c.span.offset]));
    this.ends = new Map(comments.map((c) => [c.span.offset, c.span.endOffset]));
    this.sorted = [...comments].sort((a, b) => a.span.offset - b.span.offset);
  }

  /**
   * `previousCode` from a comment's start, by that start, with and without `crossLines`: a scan
   * that meets a comment goes on as from its start, so a run of comments on one line is stepped
   * over once, not once per comment of it (10,000 after one column: 5.5 s).
   */
  private readonly fromComment = new Map<number, number | undefined>();
  private readonly fromCommentAcrossLines = new Map<number, number | undefined>();

  /**
   * The offset of the last code character before `offset`, skipping whitespace and comments;
   * undefined when the file starts first or, unless `crossLines`, a line break comes first.
   */
  previousCode(offset: number, crossLines: boolean): number | undefined {
    const known = crossLines ? this.fromCommentAcrossLines : this.fromComment;
    const passed: number[] = [];
    let found: number | undefined;
    let i = offset - 1;
    while (i >= 0) {
      const commentStart = this.starts.get(i);
      if (commentStart !== undefined) {
        if (known.has(commentStart)) {
          found = known.get(commentStart);
          break;
        }
        passed.push(commentStart);
        i = commentStart - 1;
        continue;
      }
      const ch = this.source[i]!;
      if (ch === '\n' || ch === '\r') {
        if (!crossLines) break;
      } else if (!/\s/.test(ch)) {
        found = i;
        break;
      }
      i--;
    }
    for (const start of passed) known.set(start, found);
    return found;
  }

  /** The offset of the first code character at or after `offset`, skipping whitespace and comments. */
  nextCode(offset: number): number {
    let i = offset;
    while (i < this.source.length) {
      const commentEnd = this.ends.get(i);
      if (commentEnd !== undefined) i = commentEnd;
      else if (/\s/.test(this.source[i]!)) i++;
      else return i;
    }
    return i;
  }

  isOwnLine(c: Comment): boolean {
    return this.previousCode(c.span.offset, false) === undefined;
  }

  /** Whether a comment that passes `test` lies in `[from, to)`. */
  commentIn(from: number, to: number, test: (c: Comment) => boolean): boolean {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.span.offset < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.span.offset < to; i++) {
      if (test(this.sorted[i]!)) return true;
    }
    return false;
  }
}
