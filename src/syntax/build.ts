/**
 * CST -> AST: gives every node a span and turns tokens into typed values. The CST of a file
 * with syntax errors is what the parser's recovery made of it: where it holds no text (a token
 * recovery inserted, a part it never reached), the AST holds a placeholder marked `missing`
 * (see ast.ts), placed with no width after the text read before it.
 */
import type { CstNode, CstElement, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Span } from '../span.js';
import { envSlot } from '../contract/names.js';

type Children = Record<string, CstElement[] | undefined>;

// A key of a CST node holds tokens or nodes, never both: keys are the names of token types
// (capitalised), of rules, or labels, and no label of a token is the name of a rule. So the
// first element of a key is the one sought, and a key's array (never mutated) is its list.
const none: CstNode[] = [];

function nodes(c: Children, key: string): CstNode[] {
  return (c[key] as CstNode[] | undefined) ?? none;
}
function token(c: Children, key: string): IToken | undefined {
  return c[key]?.[0] as IToken | undefined;
}
/** A token read from the text under `key`: not one that recovery inserted. */
function read(c: Children, key: string): IToken | undefined {
  const t = c[key]?.[0] as IToken | undefined;
  return t && !t.isInsertedInRecovery ? t : undefined;
}
/** What `f` makes of each node, but for those it makes nothing of (a loop: the builder runs once per CST node). */
function each<T>(all: CstNode[], f: (n: CstNode) => T | undefined): T[] {
  const out: T[] = [];
  for (const n of all) {
    const x = f(n);
    if (x !== undefined) out.push(x);
  }
  return out;
}
function node(c: Children, key: string): CstNode | undefined {
  return c[key]?.[0] as CstNode | undefined;
}
/**
 * The name of what a node consumed first: Chevrotain adds children in the order they are
 * read, so this tells which alternative of an item matched with one key, not a probe per kind.
 */
function firstKey(c: Children): string | undefined {
  for (const key in c) return key;
  return undefined;
}

/**
 * A position as a small integer: Chevrotain keeps positions in fields that start as NaN, so they
 * read as heap numbers, and a span made of them stores each boxed (spans are a third of a parsed
 * project's heap). NaN (a token inserted by error recovery) stays NaN.
 */
const int = (n: number): number => (Number.isNaN(n) ? n : n | 0);

export function tokenSpan(file: string, t: IToken): Span {
  const line = int(t.startLine ?? 1);
  // A token that ends with a line break (a `"""` string left open to the end of the file) ends at the start of the next line.
  const broken = t.image.endsWith('\n');
  return {
    file,
    line,
    column: int(t.startColumn ?? 1),
    offset: int(t.startOffset),
    endLine: broken ? line + t.image.split('\n').length - 1 : int(t.endLine ?? line),
    endColumn: broken ? 1 : int((t.endColumn ?? t.startColumn ?? 0) + 1),
    endOffset: int((t.endOffset ?? t.startOffset) + 1),
  };
}

/** The empty span where `s` ends. */
function endOf(s: Span): Span {
  return { ...s, line: s.endLine, column: s.endColumn, offset: s.endOffset };
}

/**
 * The text between a quoted token's quotes (`n` of them: 1, or 3 for `"""`). A string left
 * open (a syntax error, see tokens.ts) has no closing quotes: all after the opening ones.
 */
function inside(image: string, n = 1): string {
  const close = image.slice(-n);
  return image.length >= 2 * n && close === image.slice(0, n) ? image.slice(n, -n) : image.slice(n);
}

/** Undo backslash escapes in a quoted string body. */
export function unescape(body: string): string {
  if (!body.includes('\\')) return body;
  return body.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'u':
        return e.length === 5 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e;
      default:
        return e;
    }
  });
}

/** Everything the builder needs to know about one file. */
class Builder {
  /** The start of the definition being built: where a placeholder goes when nothing before it was read. */
  private anchor: Span;
  /** The offset where each line starts (only \n ends a line, as for the lexer). */
  private readonly lineStarts: number[] = [0];
  /** The line (from 0) of the last offset placed: nodes come in text order, mostly on it or the next. */
  private lastLine = 0;

  constructor(
    private readonly file: string,
    text: string,
  ) {
    this.anchor = { file, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 };
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** How many lines the text has. */
  get lines(): number {
    return this.lineStarts.length;
  }

  /** The line, from 0, that holds `offset`: the last that starts at or before it. */
  private lineAt(offset: number): number {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    // Nodes come in text order: the search starts from the line of the last offset placed, and mostly ends within a few lines of it.
    const last = this.lastLine;
    if (starts[last]! <= offset) {
      lo = last;
      if (last + 4 <= hi && starts[last + 4]! > offset) hi = last + 3;
    } else hi = last - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    return lo;
  }

  /** A token's span, or a node's: from the start of what it read to the end of it (`location` holds offsets only, parser.ts). */
  span(n: CstNode | IToken): Span {
    if ((n as IToken).image !== undefined) return tokenSpan(this.file, n as IToken);
    const l = (n as CstNode).location;
    if (!l || Number.isNaN(l.startOffset)) return this.anchor;
    const offset = int(l.startOffset);
    const endOffset = int((l.endOffset ?? offset) + 1);
    const line = this.lineAt(offset);
    const column = offset - this.lineStarts[line]! + 1;
    // It ends where the character after it stands: after a line break (a `"""` string left open to the end of the file), at the start of the next line.
    const endLine = this.lineAt(endOffset);
    return { file: this.file, line: line + 1, column, offset, endLine: endLine + 1, endColumn: endOffset - this.lineStarts[endLine]! + 1, endOffset };
  }

  /**
   * Where a part missing from `n` goes: after the text `n` read, which stops where the part
   * should start (recovery gives up on a node at the part it cannot read).
   */
  missingIn(n: CstNode | undefined, outer: CstNode): Span {
    const inner = n?.location && !Number.isNaN(n.location.startOffset) ? n : outer;
    return endOf(this.span(inner));
  }

  placeholder(span: Span): A.Ident {
    return { text: '', quoted: false, span, missing: true };
  }

  /** A name token, or a placeholder when it is missing (inserted by recovery, or never reached in `outer`). */
  nameOf(t: IToken | undefined, outer: CstNode): A.Ident {
    if (!t) return this.placeholder(this.missingIn(undefined, outer));
    if (t.isInsertedInRecovery) return this.placeholder(this.span(t));
    return { text: t.image, quoted: false, span: this.span(t) };
  }

  ident(n: CstNode | undefined, outer: CstNode): A.Ident {
    const c = n?.children ?? {};
    const t = read(c, 'Name') ?? read(c, 'Backtick') ?? read(c, 'DqString');
    if (!t) return this.placeholder(this.missingIn(n, outer));
    if (t.tokenType.name === 'Backtick' || t.tokenType.name === 'DqString') {
      const body = inside(t.image);
      return { text: t.tokenType.name === 'DqString' ? unescape(body) : body, quoted: true, span: this.span(t) };
    }
    return { text: t.image, quoted: false, span: this.span(t) };
  }

  stringToken(t: IToken): A.StringLit {
    const raw = t.image;
    const value = raw.startsWith('"""') ? inside(raw, 3) : unescape(inside(raw));
    return { kind: 'string', value, raw, span: this.span(t) };
  }

  missingString(span: Span): A.StringLit {
    return { kind: 'string', value: '', raw: '', span, missing: true };
  }

  stringLit(n: CstNode | undefined, outer: CstNode): A.StringLit {
    const c = n?.children ?? {};
    const t = read(c, 'DqString') ?? read(c, 'SqString') ?? read(c, 'TripleString');
    return t ? this.stringToken(t) : this.missingString(this.missingIn(n, outer));
  }

  number(t: IToken | undefined, outer: CstNode): A.NumberLit {
    if (!t || t.isInsertedInRecovery) return { kind: 'number', value: NaN, raw: '', span: t ? this.span(t) : this.missingIn(undefined, outer), missing: true };
    return { kind: 'number', value: Number(t.image), raw: t.image, span: this.span(t) };
  }

  path(n: CstNode | undefined, outer: CstNode): A.Path {
    return this.pathOf(n ? nodes(n.children, 'ident').map((i) => this.ident(i, n)) : [], n, outer);
  }

  /** A path of these parts, or one placeholder where none was read. */
  pathOf(parts: A.Ident[], n: CstNode | undefined, outer: CstNode): A.Path {
    if (parts.length === 0) {
      const at = this.missingIn(n, outer);
      return { parts: [this.placeholder(at)], span: at };
    }
    return { parts, span: this.span(n!) };
  }

  /** A table's path; a part `env("X")` is the exact name `{{env:X}}`, which the executor fills from X (src/contract/names.ts). */
  tablePath(n: CstNode | undefined, outer: CstNode): A.Path {
    const parts = n
      ? nodes(n.children, 'tablePart').map((part): A.Ident => {
          const env = node(part.children, 'envRef');
          if (!env) return this.ident(node(part.children, 'ident'), part);
          const variable = this.stringLit(node(env.children, 'stringLit'), env);
          if (variable.missing) return this.placeholder(this.missingIn(env, part));
          return { text: envSlot(variable.value), quoted: true, span: this.span(env), env: variable };
        })
      : [];
    return this.pathOf(parts, n, outer);
  }

  /** A table path of one double-quoted part is a string where a string may stand. */
  static loneString(n: CstNode): IToken | undefined {
    const parts = nodes(n.children, n.name === 'tablePath' ? 'tablePart' : 'ident');
    if (parts.length !== 1) return undefined;
    const ident = n.name === 'tablePath' ? node(parts[0]!.children, 'ident') : parts[0];
    return ident ? read(ident.children, 'DqString') : undefined;
  }

  value(n: CstNode | undefined, outer: CstNode): A.SettingValue {
    if (!n) return this.missingString(this.missingIn(undefined, outer));
    const c = n.children;
    const span = this.span(n);
    const num = read(c, 'Number');
    if (num) return this.number(num, n);
    if (read(c, 'True')) return { kind: 'bool', value: true, span };
    if (read(c, 'False')) return { kind: 'bool', value: false, span };
    const env = node(c, 'envRef');
    if (env) return { kind: 'env', variable: this.stringLit(node(env.children, 'stringLit'), env), span };
    const str = read(c, 'SqString') ?? read(c, 'TripleString');
    if (str) return this.stringToken(str);
    const path = node(c, 'path');
    if (!path) return this.missingString(this.missingIn(n, outer));
    const lone = Builder.loneString(path);
    if (lone) return this.stringToken(lone);
    return { kind: 'path', path: this.path(path, n), span };
  }

  settings(n: CstNode | undefined): A.Setting[] {
    if (!n) return [];
    return each(nodes(n.children, 'setting'), (s) => {
      const name = read(s.children, 'name');
      return name && { name: this.nameOf(name, s), value: this.value(node(s.children, 'value'), s), span: this.span(s) };
    });
  }

  /** A definition, or nothing when recovery left none of it to tell which. */
  definition(n: CstNode): A.Definition | undefined {
    const kind = firstKey(n.children);
    const d = kind ? node(n.children, kind) : undefined;
    if (!kind || !d) return undefined;
    const c = d.children;
    const span = this.span(d);
    this.anchor = span;
    const name = this.nameOf(token(c, 'name'), d);
    switch (kind) {
      case 'sourceDef':
        return { kind: 'source', name, dialect: this.nameOf(token(c, 'dialect'), d), settings: this.settings(node(c, 'settingsBlock')), span };
      case 'destinationDef':
        return { kind: 'destination', name, type: this.nameOf(token(c, 'type'), d), settings: this.settings(node(c, 'settingsBlock')), span };
      case 'modelDef':
        return { kind: 'model', name, items: each(nodes(c, 'modelItem'), (i) => this.modelItem(i)), span };
      case 'audienceDef':
        return {
          kind: 'audience',
          name,
          items: [
            ...nodes(c, 'fromItem').map((f) => this.fromItem(f)),
            ...nodes(c, 'whereItem').map((w): A.AudienceItem => ({ kind: 'where', expr: this.expr(node(w.children, 'expr'), w), span: this.span(w) })),
          ].sort((a, b) => a.span.offset - b.span.offset),
          span,
        };
      case 'syncDef':
        return { kind: 'sync', name, items: each(nodes(c, 'syncItem'), (i) => this.syncItem(i)), span };
      default:
        throw new Error(`internal: unknown definition ${kind}`);
    }
  }

  fromItem(n: CstNode): { kind: 'from'; name: A.Ident; span: Span } {
    return { kind: 'from', name: this.nameOf(token(n.children, 'name'), n), span: this.span(n) };
  }

  /** An item, or nothing when recovery kept none of it. */
  modelItem(n: CstNode): A.ModelItem | undefined {
    const c = n.children;
    const span = this.span(n);
    switch (firstKey(c)) {
      case 'fromItem':
        return this.fromItem(node(c, 'fromItem')!);
      case 'Table':
        return { kind: 'table', path: this.tablePath(node(c, 'tablePath'), n), span };
      case 'Sql':
        return { kind: 'sql', query: this.stringLit(node(c, 'stringLit'), n), span };
      case 'Dbt':
        return { kind: 'dbt', model: this.ident(node(c, 'ident'), n), span };
      case 'Primary':
        return { kind: 'primaryKey', column: this.ident(node(c, 'ident'), n), span };
      case 'Order':
        return {
          kind: 'orderBy',
          keys: nodes(c, 'orderKey').map((k) => {
            const dir = read(k.children, 'Asc') ? 'asc' : read(k.children, 'Desc') ? 'desc' : undefined;
            const key: A.OrderKey = { column: this.ident(node(k.children, 'ident'), k), span: this.span(k) };
            if (dir) key.direction = dir;
            return key;
          }),
          span,
        };
      case 'Columns':
        return { kind: 'columns', columns: nodes(c, 'columnDef').map((col) => this.columnDef(col)), span };
      default:
        return undefined;
    }
  }

  columnDef(col: CstNode): A.ColumnDef {
    const t = node(col.children, 'typeRef');
    const typeName = t && read(t.children, 'Name');
    const type: A.TypeRef = typeName ? { name: typeName.image, span: this.span(t) } : { name: '', span: this.missingIn(t, col), missing: true };
    const precision = t && read(t.children, 'precision');
    const scale = t && read(t.children, 'scale');
    if (precision) type.precision = this.number(precision, t);
    if (scale) type.scale = this.number(scale, t);
    return { name: this.ident(node(col.children, 'ident'), col), type, nullable: read(col.children, 'Question') !== undefined, span: this.span(col) };
  }

  /** An operand that is missing: a column reference with no name. */
  missingOperand(span: Span): A.ColumnRef {
    return { kind: 'column', name: this.placeholder(span), span };
  }

  expr(n: CstNode | undefined, outer: CstNode): A.Expr {
    return n ? this.chain(n, 'or', (a) => this.andExpr(a)) : this.missingOperand(this.missingIn(undefined, outer));
  }

  andExpr(n: CstNode): A.Expr {
    return this.chain(n, 'and', (a) => this.notExpr(a));
  }

  chain(n: CstNode, op: 'and' | 'or', sub: (n: CstNode) => A.Expr): A.Expr {
    const parts = nodes(n.children, 'operands').map(sub);
    let result = parts[0] ?? this.missingOperand(this.missingIn(n, n));
    for (const right of parts.slice(1)) {
      result = {
        kind: 'logical',
        op,
        left: result,
        right,
        span: { ...result.span, endLine: right.span.endLine, endColumn: right.span.endColumn, endOffset: right.span.endOffset },
      };
    }
    return result;
  }

  notExpr(n: CstNode): A.Expr {
    const c = n.children;
    const span = this.span(n);
    if (read(c, 'Not')) return { kind: 'not', expr: this.notOperand(node(c, 'notExpr'), n), span };
    if (read(c, 'LParen')) return { kind: 'paren', expr: this.expr(node(c, 'expr'), n), span };
    const predicate = node(c, 'predicate');
    return predicate ? this.predicate(predicate) : this.missingOperand(this.missingIn(n, n));
  }

  notOperand(inner: CstNode | undefined, outer: CstNode): A.Expr {
    return inner ? this.notExpr(inner) : this.missingOperand(this.missingIn(undefined, outer));
  }

  predicate(n: CstNode): A.Expr {
    const c = n.children;
    const span = this.span(n);
    const subject = this.operand(node(c, 'subject'), n);
    const op = node(c, 'compareOp');
    if (op) {
      const t = read(op.children, firstKey(op.children) ?? '');
      if (!t) return subject;
      return { kind: 'compare', op: t.image as A.CompareOp, left: subject, right: this.operand(node(c, 'right'), n), span };
    }
    const negated = read(c, 'Not') !== undefined;
    if (read(c, 'In')) return { kind: 'in', negated, operand: subject, list: each(nodes(c, 'literal'), (l) => this.literal(l)), span };
    if (read(c, 'Is')) return { kind: 'isNull', negated, operand: subject, span };
    if (read(c, 'Like')) return { kind: 'like', negated, operand: subject, pattern: this.stringLit(node(c, 'stringLit'), n), span };
    if (read(c, 'Between')) return { kind: 'between', operand: subject, low: this.operand(node(c, 'low'), n), high: this.operand(node(c, 'high'), n), span };
    return subject;
  }

  operand(n: CstNode | undefined, outer: CstNode): A.Operand {
    const c = n?.children ?? {};
    const lit = node(c, 'literal');
    if (lit) return this.literal(lit) ?? this.missingOperand(this.missingIn(lit, n ?? outer));
    const t = read(c, 'Name') ?? read(c, 'Backtick');
    if (!t) return this.missingOperand(this.missingIn(n, outer));
    const name: A.Ident = t.tokenType.name === 'Backtick' ? { text: inside(t.image), quoted: true, span: this.span(t) } : this.nameOf(t, n!);
    return { kind: 'column', name, span: name.span };
  }

  /** A literal; a date or timestamp without its text is marked `missing`; nothing when recovery kept none of it. */
  literal(n: CstNode): A.Literal | undefined {
    const c = n.children;
    const span = this.span(n);
    const str = read(c, 'SqString') ?? read(c, 'DqString');
    if (str) return { kind: 'literal', type: 'string', value: this.stringToken(str).value, raw: str.image, span };
    const num = read(c, 'Number');
    if (num) return { kind: 'literal', type: 'number', value: Number(num.image), raw: num.image, span };
    if (read(c, 'True')) return { kind: 'literal', type: 'bool', value: true, raw: 'true', span };
    if (read(c, 'False')) return { kind: 'literal', type: 'bool', value: false, raw: 'false', span };
    if (read(c, 'Null')) return { kind: 'literal', type: 'null', value: null, raw: 'null', span };
    for (const [key, type] of [
      ['DateKw', 'date'],
      ['TimestampKw', 'timestamp'],
    ] as const) {
      if (!read(c, key)) continue;
      const s = this.stringLit(node(c, `${type}Value`), n);
      const lit: A.Literal = { kind: 'literal', type, value: s.value, raw: `${type} ${s.raw}`, span };
      if (s.missing) lit.missing = true;
      return lit;
    }
    return undefined;
  }

  mapping(n: CstNode | undefined, outer: CstNode): A.FieldMapping {
    const c = n?.children ?? {};
    const m: A.FieldMapping = {
      column: this.ident(node(c, 'column'), n ?? outer),
      hashed: read(c, 'Hashed') !== undefined,
      span: n ? this.span(n) : this.missingIn(undefined, outer),
    };
    if (!read(c, 'Arrow')) return m;
    const f = node(c, 'field');
    const t = f && read(f.children, firstKey(f.children) ?? '');
    if (!t) {
      m.field = { text: '', quoted: false, raw: '', span: this.missingIn(f, n!), missing: true };
      return m;
    }
    const kind = t.tokenType.name;
    const quoted = kind === 'DqString' || kind === 'SqString' || kind === 'Backtick';
    const text = !quoted ? t.image : kind === 'Backtick' ? inside(t.image) : unescape(inside(t.image));
    m.field = { text, quoted, raw: t.image, span: this.span(t) };
    return m;
  }

  /** An item, or nothing when recovery kept none of it. */
  syncItem(n: CstNode): A.SyncItem | undefined {
    const c = n.children;
    const span = this.span(n);
    switch (firstKey(c)) {
      case 'fromItem':
        return this.fromItem(node(c, 'fromItem')!);
      case 'toItem':
        return this.toItem(node(c, 'toItem')!, span);
      case 'Mode':
        return { kind: 'mode', mode: this.nameOf(token(c, 'mode'), n), span };
      case 'IdentifierKw':
        return { kind: 'identifier', mapping: this.mapping(node(c, 'mapping'), n), span };
      case 'MapKw':
        return { kind: 'map', mappings: nodes(c, 'mapping').map((m) => this.mapping(m, n)), span };
      case 'Batch':
        return { kind: 'batch', size: this.number(token(c, 'Number'), n), span };
      case 'guardItem': {
        const guard = node(c, 'guardItem')!;
        if (read(guard.children, 'Allow')) return { kind: 'guardAllowEmpty', span };
        // `guard` with no bound, or none that could be read, is a bound that is missing.
        return {
          kind: 'guardDeletes',
          limit: this.number(token(guard.children, 'Number'), guard),
          percent: read(guard.children, 'Percent') !== undefined,
          span,
        };
      }
      case 'Schedule':
        return { kind: 'schedule', cron: this.stringLit(node(c, 'stringLit'), n), span };
      case 'Message':
        return { kind: 'message', template: this.stringLit(node(c, 'stringLit'), n), span };
      case 'Format':
        return { kind: 'format', format: this.nameOf(token(c, 'format'), n), span };
      default:
        return undefined;
    }
  }

  toItem(to: CstNode, span: Span): Extract<A.SyncItem, { kind: 'to' }> {
    const tc = to.children;
    const item: Extract<A.SyncItem, { kind: 'to' }> = { kind: 'to', destination: this.nameOf(token(tc, 'destination'), to), span };
    const kind = read(tc, 'objectKind');
    if (kind) {
      item.objectKind = this.nameOf(kind, to);
      const p = node(tc, 'tablePath');
      const sq = read(tc, 'SqString');
      const lone = p ? Builder.loneString(p) : sq;
      if (lone) {
        const value = this.stringToken(lone);
        item.ref = { kind: 'string', value, span: value.span };
      } else {
        const path = this.tablePath(p, to);
        item.ref = { kind: 'path', path, span: path.span };
      }
    }
    return item;
  }
}

/**
 * Build the AST of one file from its CST. `unsure`: the offsets, in order, where the tree may
 * not read the text as written (text recovery skipped, an error it may have misread around);
 * a definition is marked `partial` when one lies between its start and the next definition's:
 * text after a definition's end that is no definition was most likely meant inside it (a
 * block closed early).
 */
export function buildAst(file: string, cst: CstNode, comments: A.Comment[], text: string, unsure: readonly number[] = []): A.SyncFile {
  const b = new Builder(file, text);
  const lastLine = text.lastIndexOf('\n') + 1;
  const definitions: A.Definition[] = [];
  const all = nodes(cst.children, 'definition');
  let next = 0;
  all.forEach((n, i) => {
    const d = b.definition(n);
    if (!d) return;
    const end = all[i + 1]?.location?.startOffset ?? Infinity;
    while (next < unsure.length && unsure[next]! < d.span.offset) next++;
    if (next < unsure.length && unsure[next]! < end) d.partial = true;
    definitions.push(d);
  });
  return {
    file,
    definitions,
    comments,
    span: {
      file,
      line: 1,
      column: 1,
      offset: 0,
      endLine: b.lines,
      endColumn: text.length - lastLine + 1,
      endOffset: text.length,
    },
  };
}
