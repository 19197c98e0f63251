/** Layout tree + placed comments -> the text of the file (rules in format.ts). */
import type { Comment } from './ast.js';
import { commentsOf, type CommentPlacement } from './format-comments.js';
import { aligned, keyWidth, type LayoutGroup, type LayoutNode } from './format-layout.js';
import { isLineComment } from './format-scan.js';
import { largest } from '../numbers.js';
import { indentUnit, width } from './format-values.js';

/** One printed line; `code` spans several physical lines only inside a """string""" or a block comment. */
interface Line {
  /** The level of the block the line belongs to. */
  indent: number;
  /** Levels deeper than its block: a line that continues a `where` condition. */
  hang: number;
  code: string;
  comment: string | undefined;
  /** How wide the text before the comment is, indentation included. */
  commentColumn: number;
  /** A blank line goes before it. */
  blank: boolean;
}

/** A comment or a node of a block, with the source range that decides blank lines around it. */
interface Entry {
  start: number;
  end: number;
  definition: boolean;
  /** Part of a condition: no blank line before it. */
  continued: boolean;
  print(blank: boolean): Line[];
}

interface Context {
  source: string;
  placement: CommentPlacement;
}

function pad(text: string, to: number): string {
  return text + ' '.repeat(Math.max(0, to - width(text)));
}

/** Comment text without trailing whitespace on any line, and `\n` line breaks. */
function commentText(c: Comment): string {
  return c.text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .join('\n');
}

function joinComments(comments: Comment[]): string | undefined {
  return comments.length === 0 ? undefined : comments.map(commentText).join(' ');
}

/** True when only whitespace holding an empty line lies between the two offsets. */
function blankLineBetween(source: string, from: number, to: number): boolean {
  if (to <= from) return false;
  const gap = source.slice(from, to);
  return !/\S/.test(gap) && (gap.match(/\r\n|\r|\n/g)?.length ?? 0) >= 2;
}

/** Levels deeper than its block a node is printed: the lines that continue a condition. */
function hangOf(node: LayoutNode): number {
  return node.kind === 'row' ? (node.continues ?? 0) : 0;
}

function line(indent: number, code: string, comments: Comment[], blank: boolean, hang = 0): Line {
  return { indent, hang, code, comment: joinComments(comments), commentColumn: 0, blank };
}

function nodeLines(node: LayoutNode, indent: number, keys: number, blank: boolean, ctx: Context): Line[] {
  const { trailing, closing, end } = commentsOf(ctx.placement, node);
  if (node.kind === 'row') {
    const code = aligned(node) ? `${pad(node.key, keys)} ${node.value}` : [node.key, node.value].filter((t) => t !== '').join(' ');
    return [line(indent, code, trailing, blank, hangOf(node))];
  }
  // `head {}` unless something sits inside, or a `#` comment after `{` would swallow the `}`.
  const empty = node.children.length === 0 && end.length === 0;
  if (empty && !(closing.length > 0 && trailing.some(isLineComment))) {
    return [line(indent, `${node.head} {}`, [...trailing, ...closing], blank)];
  }
  return [line(indent, `${node.head} {`, trailing, blank), ...blockLines(node.children, end, indent + 1, ctx), line(indent, '}', closing, false)];
}

function commentEntry(c: Comment, start: number, indent: number, hang = 0): Entry {
  return {
    start,
    end: c.span.endOffset,
    definition: false,
    continued: hang > 0,
    print: (blank) => [line(indent, commentText(c), [], blank, hang)],
  };
}

/**
 * The lines of a block: each node after its own-line comments, then the block's end comments.
 * Blank lines: none first; one after a definition; elsewhere one where the source had any.
 * The block's own lines (those at its indentation) get their trailing comments in one column.
 */
function blockLines(children: LayoutNode[], end: Comment[], indent: number, ctx: Context): Line[] {
  const keys = keyWidth(children);
  const entries: Entry[] = [];
  for (const node of children) {
    const { leading, trailing, closing } = commentsOf(ctx.placement, node);
    const hang = hangOf(node);
    // A comment moved out of the node's line counts as starting where the node does.
    for (const c of leading) entries.push(commentEntry(c, Math.min(c.span.offset, node.span.offset), indent, hang));
    entries.push({
      start: node.span.offset,
      end: largest(
        [...trailing, ...closing].map((c) => c.span.endOffset),
        node.span.endOffset,
      ),
      definition: indent === 0,
      continued: hang > 0,
      print: (blank) => nodeLines(node, indent, keys, blank, ctx),
    });
  }
  for (const c of end) entries.push(commentEntry(c, c.span.offset, indent));
  const lines = entries.flatMap((e, i) => {
    const prev = entries[i - 1];
    return e.print(prev !== undefined && !e.continued && (prev.definition || blankLineBetween(ctx.source, prev.end, e.start)));
  });
  return alignComments(lines, indent);
}

function codeWidth(l: Line): number {
  const lastLine = l.code.slice(l.code.lastIndexOf('\n') + 1);
  return l.code.includes('\n') ? width(lastLine) : (l.indent + l.hang) * indentUnit.length + width(lastLine);
}

/**
 * The trailing comments of a block's own lines start one space after the longest of those
 * lines. Code over several lines, and the heads and `}` of definitions (far apart), just get
 * one space.
 */
function alignComments(lines: Line[], indent: number): Line[] {
  const own = (l: Line) => l.indent === indent && l.comment !== undefined;
  const shares = (l: Line) => indent > 0 && !l.code.includes('\n');
  const column = largest(lines.filter((l) => own(l) && shares(l)).map(codeWidth)) + 1;
  return lines.map((l) => (own(l) ? { ...l, commentColumn: shares(l) ? column : codeWidth(l) + 1 } : l));
}

export function renderFile(definitions: LayoutGroup[], placement: CommentPlacement, source: string): string {
  const lines = blockLines(definitions, placement.fileEnd, 0, { source, placement });
  const out = lines.flatMap((l) => {
    const code = indentUnit.repeat(l.indent + l.hang) + l.code;
    const text = l.comment === undefined ? code : code + ' '.repeat(l.commentColumn - codeWidth(l)) + l.comment;
    return l.blank ? ['', text] : [text];
  });
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
