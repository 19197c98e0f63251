// Reads sqlfluff's JSON parse tree. Its shape: a segment is `{type: child}`; a node with
// repeated child types becomes a list of one-key objects; leaves are the raw source text.
// The tree carries no positions, so lines are counted from the leaves, which concatenate
// back to the file (checked, since the line numbers depend on it).

export type SqlfluffTree = string | SqlfluffTree[] | { [type: string]: SqlfluffTree };

interface Walk {
  text: string;
  unparsable: Array<{ line: number; text: string }>;
  statements: string[];
}

export function readParseTree(tree: SqlfluffTree, source: string, label: string): { unparsable: Walk['unparsable']; statements: string[] } {
  const w: Walk = { text: '', unparsable: [], statements: [] };
  visit(undefined, tree, w, false);
  // sqlfluff reads files with universal newlines.
  if (w.text !== source.replace(/\r\n?/g, '\n')) {
    throw new Error(`sqlfluff's tree for ${label} does not spell out the source; cannot place sections by line`);
  }
  return { unparsable: w.unparsable, statements: w.statements };
}

const TRIVIA = new Set(['whitespace', 'newline', 'inline_comment', 'block_comment']);

function children(node: SqlfluffTree): Array<[string | undefined, SqlfluffTree]> {
  if (typeof node === 'string') return [];
  if (!Array.isArray(node)) return Object.entries(node);
  return node.flatMap((c): Array<[string | undefined, SqlfluffTree]> => (typeof c === 'object' && !Array.isArray(c) ? Object.entries(c) : [[undefined, c]]));
}

function visit(type: string | undefined, node: SqlfluffTree, w: Walk, inUnparsable: boolean): void {
  const start = w.text.length;
  const unparsable = type === 'unparsable' && !inUnparsable;
  if (type === 'statement') {
    for (const [t] of children(node)) if (t !== undefined && !TRIVIA.has(t)) w.statements.push(t);
  }
  if (typeof node === 'string') w.text += node;
  for (const [t, c] of children(node)) visit(t, c, w, inUnparsable || unparsable);
  if (unparsable) {
    const text = w.text.slice(start);
    const at = start + (text.length - text.trimStart().length);
    w.unparsable.push({ line: lineAt(w.text, at), text: text.trim() });
  }
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
