/**
 * A `where` condition as printed lines (rules in format.ts): one line when it fits, otherwise
 * broken before `or`/`and` and inside brackets. Each line keeps the source range of its
 * tokens, so comments find their place between lines as they do between the rows of a block.
 */
import type * as A from './ast.js';
import { isLineComment, type CodeScanner, type Range } from './format-scan.js';
import { chainTerms, exprText, indentUnit, inHeadText, maxLineWidth, width, type Logical } from './format-values.js';

export interface ConditionLine {
  /** Indentation levels deeper than the `where` row; 0 for the first line, which is the row's own. */
  depth: number;
  text: string;
  range: Range;
}

export interface ConditionColumns {
  /** Where the condition starts on the `where` row. */
  first: number;
  /** Where the `where` row starts. */
  row: number;
}

interface Context {
  source: string;
  scanner: CodeScanner;
  /** Whether `e`, starting at `column`, is printed on one line. */
  flat(e: A.Expr, column: number): boolean;
}

/** The lines so far; text is only ever added to the last one. */
class Lines {
  readonly lines: ConditionLine[];

  constructor(
    private readonly columns: ConditionColumns,
    start: number,
  ) {
    this.lines = [{ depth: 0, text: '', range: { offset: start, endOffset: start } }];
  }

  private get current(): ConditionLine {
    return this.lines[this.lines.length - 1]!;
  }

  /** Where the next text goes. */
  column(): number {
    const { depth, text } = this.current;
    return (depth === 0 ? this.columns.first : this.columns.row + depth * indentUnit.length) + width(text);
  }

  add(text: string, range: Range): void {
    const line = this.current;
    line.range = { offset: line.text === '' ? range.offset : line.range.offset, endOffset: range.endOffset };
    line.text += text;
  }

  open(depth: number): void {
    this.lines.push({ depth, text: '', range: { offset: 0, endOffset: 0 } });
  }
}

function at(offset: number, length: number): Range {
  return { offset, endOffset: offset + length };
}

/**
 * `e` at the end of the current line, as a term at `level`: the lines it breaks onto go deeper.
 * A chain's terms go to `termLevel`: one deeper inside a term (`and` under `or`), the same
 * when the chain fills the level on its own (inside brackets, or the whole condition).
 */
function place(e: A.Expr, level: number, out: Lines, ctx: Context, termLevel = level + 1): void {
  if (ctx.flat(e, out.column())) return out.add(exprText(e, ctx.source), e.span);
  switch (e.kind) {
    case 'logical':
      return chain(e, termLevel, out, ctx);
    case 'paren':
      out.add('(', at(e.span.offset, 1));
      return bracket(level, at(e.span.endOffset - 1, 1), out, () => place(e.expr, level + 1, out, ctx, level + 1));
    case 'not':
      out.add('not ', at(e.span.offset, 3));
      return place(e.expr, level, out, ctx);
    case 'in':
      return list(e, level, out, ctx);
    default:
      return out.add(exprText(e, ctx.source), e.span);
  }
}

/** Each term on a line of its own at `level`, after its operator; the first where the chain starts. */
function chain(e: Logical, level: number, out: Lines, ctx: Context): void {
  const terms = chainTerms(e);
  terms.forEach((term, i) => {
    const previous = terms[i - 1];
    if (previous) {
      out.open(level);
      out.add(`${e.op} `, at(ctx.scanner.nextCode(previous.span.endOffset), e.op.length));
    }
    place(term, level, out, ctx);
  });
}

/** After an opening bracket that ends the line: the body a level deeper, `)` back at `level` on its own line. */
function bracket(level: number, close: Range, out: Lines, body: () => void): void {
  out.open(level + 1);
  body();
  out.open(level);
  out.add(')', close);
}

/** `x in (`, then one item per line with its comma. */
function list(e: Extract<A.Expr, { kind: 'in' }>, level: number, out: Lines, ctx: Context): void {
  const close = at(e.span.endOffset - 1, 1);
  const open = ctx.scanner.previousCode(e.list[0]?.span.offset ?? close.offset, true) ?? e.span.offset;
  out.add(`${inHeadText(e, ctx.source)} (`, { offset: e.span.offset, endOffset: open + 1 });
  bracket(level, close, out, () =>
    e.list.forEach((item, i) => {
      if (i > 0) out.open(level + 1);
      const last = i === e.list.length - 1;
      const comma = last ? undefined : ctx.scanner.nextCode(item.span.endOffset);
      out.add(last ? item.raw : `${item.raw},`, { offset: item.span.offset, endOffset: comma === undefined ? item.span.endOffset : comma + 1 });
    }),
  );
}

/**
 * Whether a comment needs `e` broken: an own-line comment after its first line, or a `#`/`//`
 * comment between two lines, when `e` is broken everywhere it can be. Such a comment then keeps
 * its own line, or the end of the line before it; and since broken lines only ever gain
 * comments at their edges, formatting again breaks them the same way.
 */
function holdsComment(e: A.Expr, source: string, scanner: CodeScanner): boolean {
  const out = new Lines({ first: 0, row: 0 }, e.span.offset);
  place(e, 0, out, { source, scanner, flat: () => false });
  const lines = out.lines;
  return (
    scanner.commentIn(lines[0]!.range.endOffset, e.span.endOffset, (c) => scanner.isOwnLine(c)) ||
    lines.some((line, i) => i > 0 && scanner.commentIn(lines[i - 1]!.range.endOffset, line.range.offset, isLineComment))
  );
}

/** The printed lines of a condition; the whole condition fills level 1, its first term on the `where` row. */
export function conditionLines(e: A.Expr, columns: ConditionColumns, source: string, scanner: CodeScanner): ConditionLine[] {
  const ctx: Context = {
    source,
    scanner,
    flat: (x, column) => column + width(exprText(x, source)) <= maxLineWidth && !holdsComment(x, source, scanner),
  };
  const out = new Lines(columns, e.span.offset);
  place(e, 1, out, ctx, 1);
  return out.lines;
}
