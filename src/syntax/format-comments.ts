/**
 * Where each comment of a file goes in the layout tree. A comment is *trailing* when code
 * precedes it on its line (with only whitespace and other comments between), otherwise it
 * is *own-line*.
 *
 * - own-line, between the nodes of a block: before the next node, or at the end of the block
 *   (of the file) when no node follows;
 * - trailing, after a node: at the end of that node's line, or after a group's `}`; after a
 *   block's `{`: at the end of the `head {` line;
 * - inside a row or a group's head, which print on one line: at the end of that line when they
 *   can all stay there (none is own-line, and only the last is a `#`/`//` comment, which would
 *   swallow what follows it); otherwise before the node, in their order.
 *
 * The lines of a broken `where` condition are rows of their block, each with the range of its
 * own tokens, so a comment between two of them is placed as between any two rows.
 */
import type { Comment } from './ast.js';
import type { LayoutGroup, LayoutNode } from './format-layout.js';
import { isLineComment, type CodeScanner } from './format-scan.js';

export interface NodeComments {
  /** Own-line comments printed before the node. */
  leading: Comment[];
  /** At the end of a row's line, or of a group's `head {` line. */
  trailing: Comment[];
  /** After a group's `}`. */
  closing: Comment[];
  /** Own-line comments after a group's last child, printed inside its block. */
  end: Comment[];
}

export interface CommentPlacement {
  nodes: ReadonlyMap<LayoutNode, NodeComments>;
  /** Own-line comments after the last definition. */
  fileEnd: Comment[];
}

const noComments: NodeComments = { leading: [], trailing: [], closing: [], end: [] };

export function commentsOf(placement: CommentPlacement, node: LayoutNode): NodeComments {
  return placement.nodes.get(node) ?? noComments;
}

/** Comments as found, before the inside ones are settled as trailing or leading. */
interface Found {
  leading: Comment[];
  inside: Comment[];
  after: Comment[];
  closing: Comment[];
  end: Comment[];
}

/** Just after the group's `{`: the last code before its first child or its `}`. */
function bodyStart(g: LayoutGroup, scanner: CodeScanner): number {
  const next = g.children[0]?.span.offset ?? g.span.endOffset - 1;
  return (scanner.previousCode(next, true) ?? g.span.offset) + 1;
}

/** Where one comment goes: a list of a node, or the end of the file. */
type Slot = { node: LayoutNode; list: keyof Found } | 'fileEnd';

/** Whether the nodes' starts and ends both never decrease, as a block's nodes come, by array (asked once per comment). */
const ordered = new WeakMap<LayoutNode[], boolean>();

function inOrder(nodes: LayoutNode[]): boolean {
  let sorted = ordered.get(nodes);
  if (sorted === undefined) {
    sorted = nodes.every((n, i) => i === 0 || (nodes[i - 1]!.span.offset <= n.span.offset && nodes[i - 1]!.span.endOffset <= n.span.endOffset));
    ordered.set(nodes, sorted);
  }
  return sorted;
}

/** The first of nodes `inOrder` whose start (`offset`) or end (`endOffset`) is past `at`, found by halves. */
function firstPast(nodes: LayoutNode[], edge: 'offset' | 'endOffset', at: number): LayoutNode | undefined {
  let [lo, hi] = [0, nodes.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nodes[mid]!.span[edge] > at) hi = mid;
    else lo = mid + 1;
  }
  return nodes[lo];
}

/**
 * The slot of a comment among `children`, the nodes of `owner`'s block (of the file when undefined).
 * Nodes in order are searched by halves, each search giving what a scan from the first would: a
 * scan per comment made a block of n rows, each with its comment, take n² steps (20,000: 3.4 s).
 */
function slotOf(c: Comment, children: LayoutNode[], owner: LayoutGroup | undefined, scanner: CodeScanner): Slot {
  const at = c.span.offset;
  const sorted = inOrder(children);
  // In order, the first node ending past the comment is the only one that may hold it.
  const ending = sorted ? firstPast(children, 'endOffset', at) : children.find((n) => n.span.offset <= at && at < n.span.endOffset);
  const hit = ending && ending.span.offset <= at && at < ending.span.endOffset ? ending : undefined;
  if (hit?.kind === 'group' && at >= bodyStart(hit, scanner)) return slotOf(c, hit.children, hit, scanner);
  if (hit) return { node: hit, list: 'inside' };
  const anchor = scanner.previousCode(at, false);
  const ended = anchor === undefined ? undefined : sorted ? firstPast(children, 'endOffset', anchor) : children.find((n) => n.span.endOffset - 1 === anchor);
  const before = ended && ended.span.endOffset - 1 === anchor ? ended : undefined;
  if (before) return { node: before, list: before.kind === 'group' ? 'closing' : 'after' };
  // Trailing, but after no child: the only code before it in this block is the `{`.
  if (anchor !== undefined && owner) return { node: owner, list: 'after' };
  const next = sorted ? firstPast(children, 'offset', at) : children.find((n) => n.span.offset > at);
  if (next) return { node: next, list: 'leading' };
  return owner ? { node: owner, list: 'end' } : 'fileEnd';
}

/** Inside comments stay on the node's line only if all of them and those after can share it. */
function settle(f: Found, scanner: CodeScanner): NodeComments {
  const line = [...f.inside, ...f.after];
  const fits = line.every((c, i) => !scanner.isOwnLine(c) && (i === line.length - 1 || !isLineComment(c)));
  return fits
    ? { leading: f.leading, trailing: line, closing: f.closing, end: f.end }
    : { leading: [...f.leading, ...f.inside], trailing: f.after, closing: f.closing, end: f.end };
}

export function placeComments(definitions: LayoutGroup[], comments: Comment[], scanner: CodeScanner): CommentPlacement {
  const found = new Map<LayoutNode, Found>();
  const fileEnd: Comment[] = [];
  for (const c of comments) {
    const slot = slotOf(c, definitions, undefined, scanner);
    if (slot === 'fileEnd') {
      fileEnd.push(c);
      continue;
    }
    let f = found.get(slot.node);
    if (!f) {
      f = { leading: [], inside: [], after: [], closing: [], end: [] };
      found.set(slot.node, f);
    }
    f[slot.list].push(c);
  }
  const nodes = new Map<LayoutNode, NodeComments>();
  for (const [node, f] of found) nodes.set(node, settle(f, scanner));
  return { nodes, fileEnd };
}
