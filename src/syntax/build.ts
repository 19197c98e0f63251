/** CST -> AST: gives every node a span and turns tokens into typed values. */
import type { CstNode, CstElement, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { Span } from './span.js';

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

// A CST key holds tokens or nodes, rarely both; the common case returns the CST's own array
// (never mutated) rather than a filtered copy, as the builder runs once per CST node.
const none: CstElement[] = [];

function tokens(c: Children, key: string): IToken[] {
  const all = c[key] ?? none;
  return all.every(isToken) ? (all as IToken[]) : all.filter(isToken);
}
function nodes(c: Children, key: string): CstNode[] {
  const all = c[key] ?? none;
  return all.some(isToken) ? all.filter((e): e is CstNode => !isToken(e)) : (all as CstNode[]);
}
function token(c: Children, key: string): IToken | undefined {
  for (const e of c[key] ?? none) if (isToken(e)) return e;
  return undefined;
}
function node(c: Children, key: string): CstNode | undefined {
  for (const e of c[key] ?? none) if (!isToken(e)) return e;
  return undefined;
}
/**
 * The name of what a node consumed first: Chevrotain adds children in the order they are
 * read, so this tells which alternative of an item matched with one key, not a probe per kind.
 */
function firstKey(c: Children): string | undefined {
  for (const key in c) return key;
  return undefined;
}
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal: CST without ${what}`);
  return value;
}

export function tokenSpan(file: string, t: IToken): Span {
  return {
    file,
    line: t.startLine ?? 1,
    column: t.startColumn ?? 1,
    offset: t.startOffset,
    endLine: t.endLine ?? t.startLine ?? 1,
    endColumn: (t.endColumn ?? t.startColumn ?? 0) + 1,
    endOffset: (t.endOffset ?? t.startOffset) + 1,
  };
}

/** Undo backslash escapes in a quoted string body. */
export function unescape(body: string): string {
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
  constructor(private readonly file: string) {}

  span(n: CstNode | IToken): Span {
    if (isToken(n)) return tokenSpan(this.file, n);
    const l = must(n.location, 'location');
    return {
      file: this.file,
      line: l.startLine ?? 1,
      column: l.startColumn ?? 1,
      offset: l.startOffset,
      endLine: l.endLine ?? 1,
      endColumn: (l.endColumn ?? 0) + 1,
      endOffset: (l.endOffset ?? l.startOffset) + 1,
    };
  }

  nameOf(t: IToken): A.Ident {
    return { text: t.image, quoted: false, span: this.span(t) };
  }

  ident(n: CstNode): A.Ident {
    const c = n.children;
    const t = must(token(c, 'Name') ?? token(c, 'Backtick') ?? token(c, 'DqString'), 'ident');
    if (t.tokenType.name === 'Backtick' || t.tokenType.name === 'DqString') {
      const body = t.image.slice(1, -1);
      return { text: t.tokenType.name === 'DqString' ? unescape(body) : body, quoted: true, span: this.span(t) };
    }
    return this.nameOf(t);
  }

  stringToken(t: IToken): A.StringLit {
    const raw = t.image;
    const value = raw.startsWith('"""') ? raw.slice(3, -3) : unescape(raw.slice(1, -1));
    return { kind: 'string', value, raw, span: this.span(t) };
  }

  stringLit(n: CstNode): A.StringLit {
    const c = n.children;
    return this.stringToken(must(token(c, 'DqString') ?? token(c, 'SqString') ?? token(c, 'TripleString'), 'string'));
  }

  number(t: IToken): A.NumberLit {
    return { kind: 'number', value: Number(t.image), raw: t.image, span: this.span(t) };
  }

  path(n: CstNode): A.Path {
    return { parts: nodes(n.children, 'ident').map((i) => this.ident(i)), span: this.span(n) };
  }

  /** A path of one double-quoted part is a string where a string may stand. */
  static loneString(n: CstNode): IToken | undefined {
    const parts = nodes(n.children, 'ident');
    if (parts.length !== 1) return undefined;
    const t = token(parts[0]!.children, 'DqString');
    return t;
  }

  value(n: CstNode): A.SettingValue {
    const c = n.children;
    const span = this.span(n);
    const num = token(c, 'Number');
    if (num) return this.number(num);
    if (token(c, 'True')) return { kind: 'bool', value: true, span };
    if (token(c, 'False')) return { kind: 'bool', value: false, span };
    const env = node(c, 'envRef');
    if (env) return { kind: 'env', variable: this.stringLit(must(node(env.children, 'stringLit'), 'env name')), span };
    const str = token(c, 'SqString') ?? token(c, 'TripleString');
    if (str) return this.stringToken(str);
    const path = must(node(c, 'path'), 'value');
    const lone = Builder.loneString(path);
    if (lone) return this.stringToken(lone);
    return { kind: 'path', path: this.path(path), span };
  }

  settings(n: CstNode): A.Setting[] {
    return nodes(n.children, 'setting').map((s) => ({
      name: this.nameOf(must(token(s.children, 'name'), 'setting name')),
      value: this.value(must(node(s.children, 'value'), 'setting value')),
      span: this.span(s),
    }));
  }

  definition(n: CstNode): A.Definition {
    const kind = must(firstKey(n.children), 'definition');
    const d = must(node(n.children, kind), 'definition');
    const c = d.children;
    const span = this.span(d);
    const name = this.nameOf(must(token(c, 'name'), 'name'));
    switch (kind) {
      case 'sourceDef':
        return {
          kind: 'source',
          name,
          dialect: this.nameOf(must(token(c, 'dialect'), 'dialect')),
          settings: this.settings(must(node(c, 'settingsBlock'), 'settings')),
          span,
        };
      case 'destinationDef':
        return {
          kind: 'destination',
          name,
          type: this.nameOf(must(token(c, 'type'), 'type')),
          settings: this.settings(must(node(c, 'settingsBlock'), 'settings')),
          span,
        };
      case 'modelDef':
        return { kind: 'model', name, items: nodes(c, 'modelItem').map((i) => this.modelItem(i)), span };
      case 'audienceDef':
        return {
          kind: 'audience',
          name,
          items: [
            ...nodes(c, 'fromItem').map((f) => this.fromItem(f)),
            ...nodes(c, 'whereItem').map((w): A.AudienceItem => ({
              kind: 'where',
              expr: this.expr(must(node(w.children, 'expr'), 'expr')),
              span: this.span(w),
            })),
          ].sort((a, b) => a.span.offset - b.span.offset),
          span,
        };
      case 'syncDef':
        return { kind: 'sync', name, items: nodes(c, 'syncItem').map((i) => this.syncItem(i)), span };
      default:
        throw new Error(`internal: unknown definition ${kind}`);
    }
  }

  fromItem(n: CstNode): { kind: 'from'; name: A.Ident; span: Span } {
    return { kind: 'from', name: this.nameOf(must(token(n.children, 'name'), 'from name')), span: this.span(n) };
  }

  modelItem(n: CstNode): A.ModelItem {
    const c = n.children;
    const span = this.span(n);
    switch (firstKey(c)) {
      case 'fromItem':
        return this.fromItem(must(node(c, 'fromItem'), 'from'));
      case 'Table':
        return { kind: 'table', path: this.path(must(node(c, 'path'), 'path')), span };
      case 'Sql':
        return { kind: 'sql', query: this.stringLit(must(node(c, 'stringLit'), 'sql')), span };
      case 'Primary':
        return { kind: 'primaryKey', column: this.ident(must(node(c, 'ident'), 'key')), span };
      case 'Order':
        return {
          kind: 'orderBy',
          keys: nodes(c, 'orderKey').map((k) => {
            const dir = token(k.children, 'Asc') ? 'asc' : token(k.children, 'Desc') ? 'desc' : undefined;
            const key: A.OrderKey = { column: this.ident(must(node(k.children, 'ident'), 'order key')), span: this.span(k) };
            if (dir) key.direction = dir;
            return key;
          }),
          span,
        };
    }
    return {
      kind: 'columns',
      columns: nodes(c, 'columnDef').map((col) => {
        const t = must(node(col.children, 'typeRef'), 'type');
        const type: A.TypeRef = { name: must(token(t.children, 'Name'), 'type name').image, span: this.span(t) };
        const precision = token(t.children, 'precision');
        const scale = token(t.children, 'scale');
        if (precision) type.precision = this.number(precision);
        if (scale) type.scale = this.number(scale);
        return {
          name: this.ident(must(node(col.children, 'ident'), 'column name')),
          type,
          nullable: token(col.children, 'Question') !== undefined,
          span: this.span(col),
        };
      }),
      span,
    };
  }

  expr(n: CstNode): A.Expr {
    return this.chain(n, 'or', (a) => this.andExpr(a));
  }

  andExpr(n: CstNode): A.Expr {
    return this.chain(n, 'and', (a) => this.notExpr(a));
  }

  chain(n: CstNode, op: 'and' | 'or', sub: (n: CstNode) => A.Expr): A.Expr {
    const parts = nodes(n.children, 'operands').map(sub);
    let result = must(parts[0], 'operand');
    for (const right of parts.slice(1)) {
      result = { kind: 'logical', op, left: result, right, span: { ...result.span, endLine: right.span.endLine, endColumn: right.span.endColumn, endOffset: right.span.endOffset } };
    }
    return result;
  }

  notExpr(n: CstNode): A.Expr {
    const c = n.children;
    const span = this.span(n);
    const inner = node(c, 'notExpr');
    if (token(c, 'Not') && inner) return { kind: 'not', expr: this.notExpr(inner), span };
    const paren = node(c, 'expr');
    if (paren) return { kind: 'paren', expr: this.expr(paren), span };
    return this.predicate(must(node(c, 'predicate'), 'predicate'));
  }

  predicate(n: CstNode): A.Expr {
    const c = n.children;
    const span = this.span(n);
    const subject = this.operand(must(node(c, 'subject'), 'subject'));
    const op = node(c, 'compareOp');
    if (op) {
      const t = must(token(op.children, must(firstKey(op.children), 'operator')), 'operator');
      return { kind: 'compare', op: t.image as A.CompareOp, left: subject, right: this.operand(must(node(c, 'right'), 'right')), span };
    }
    const negated = token(c, 'Not') !== undefined;
    if (token(c, 'In')) return { kind: 'in', negated, operand: subject, list: nodes(c, 'literal').map((l) => this.literal(l)), span };
    if (token(c, 'Is')) return { kind: 'isNull', negated, operand: subject, span };
    if (token(c, 'Like')) return { kind: 'like', negated, operand: subject, pattern: this.stringLit(must(node(c, 'stringLit'), 'pattern')), span };
    if (token(c, 'Between')) {
      return {
        kind: 'between',
        operand: subject,
        low: this.operand(must(node(c, 'low'), 'low')),
        high: this.operand(must(node(c, 'high'), 'high')),
        span,
      };
    }
    return subject;
  }

  operand(n: CstNode): A.Operand {
    const c = n.children;
    const lit = node(c, 'literal');
    if (lit) return this.literal(lit);
    const t = must(token(c, 'Name') ?? token(c, 'Backtick'), 'operand');
    const name: A.Ident = t.tokenType.name === 'Backtick' ? { text: t.image.slice(1, -1), quoted: true, span: this.span(t) } : this.nameOf(t);
    return { kind: 'column', name, span: name.span };
  }

  literal(n: CstNode): A.Literal {
    const c = n.children;
    const span = this.span(n);
    const raw = (t: IToken) => t.image;
    const str = token(c, 'SqString') ?? token(c, 'DqString');
    if (str) return { kind: 'literal', type: 'string', value: this.stringToken(str).value, raw: raw(str), span };
    const num = token(c, 'Number');
    if (num) return { kind: 'literal', type: 'number', value: Number(num.image), raw: num.image, span };
    if (token(c, 'True')) return { kind: 'literal', type: 'bool', value: true, raw: 'true', span };
    if (token(c, 'False')) return { kind: 'literal', type: 'bool', value: false, raw: 'false', span };
    if (token(c, 'Null')) return { kind: 'literal', type: 'null', value: null, raw: 'null', span };
    const date = node(c, 'dateValue');
    if (date) {
      const s = this.stringLit(date);
      return { kind: 'literal', type: 'date', value: s.value, raw: `date ${s.raw}`, span };
    }
    const ts = this.stringLit(must(node(c, 'timestampValue'), 'literal'));
    return { kind: 'literal', type: 'timestamp', value: ts.value, raw: `timestamp ${ts.raw}`, span };
  }

  mapping(n: CstNode): A.FieldMapping {
    const c = n.children;
    const m: A.FieldMapping = {
      column: this.ident(must(node(c, 'column'), 'column')),
      hashed: token(c, 'Hashed') !== undefined,
      span: this.span(n),
    };
    const f = node(c, 'field');
    if (f) {
      const t = must(token(f.children, must(firstKey(f.children), 'field')), 'field');
      const kind = t.tokenType.name;
      const quoted = kind === 'DqString' || kind === 'SqString' || kind === 'Backtick';
      const text = !quoted ? t.image : kind === 'Backtick' ? t.image.slice(1, -1) : unescape(t.image.slice(1, -1));
      m.field = { text, quoted, raw: t.image, span: this.span(t) };
    }
    return m;
  }

  syncItem(n: CstNode): A.SyncItem {
    const c = n.children;
    const span = this.span(n);
    switch (firstKey(c)) {
      case 'fromItem':
        return this.fromItem(must(node(c, 'fromItem'), 'from'));
      case 'toItem':
        return this.toItem(must(node(c, 'toItem'), 'to'), span);
      case 'Mode':
        return { kind: 'mode', mode: this.nameOf(must(token(c, 'mode'), 'mode')), span };
      case 'IdentifierKw':
        return { kind: 'identifier', mapping: this.mapping(must(node(c, 'mapping'), 'mapping')), span };
      case 'MapKw':
        return { kind: 'map', mappings: nodes(c, 'mapping').map((m) => this.mapping(m)), span };
      case 'Batch':
        return { kind: 'batch', size: this.number(must(token(c, 'Number'), 'batch size')), span };
      case 'guardItem': {
        const g = must(node(c, 'guardItem'), 'guard').children;
        if (token(g, 'Allow')) return { kind: 'guardAllowEmpty', span };
        return { kind: 'guardDeletes', limit: this.number(must(token(g, 'Number'), 'guard limit')), percent: token(g, 'Percent') !== undefined, span };
      }
      case 'Schedule':
        return { kind: 'schedule', cron: this.stringLit(must(node(c, 'stringLit'), 'schedule')), span };
      case 'Message':
        return { kind: 'message', template: this.stringLit(must(node(c, 'stringLit'), 'message')), span };
      default:
        return { kind: 'format', format: this.nameOf(must(token(c, 'format'), 'format')), span };
    }
  }

  toItem(to: CstNode, span: Span): Extract<A.SyncItem, { kind: 'to' }> {
    const tc = to.children;
    const item: Extract<A.SyncItem, { kind: 'to' }> = {
      kind: 'to',
      destination: this.nameOf(must(token(tc, 'destination'), 'destination')),
      span,
    };
    const kind = token(tc, 'objectKind');
    if (kind) {
      item.objectKind = this.nameOf(kind);
      const p = node(tc, 'path');
      const sq = token(tc, 'SqString');
      const lone = p ? Builder.loneString(p) : sq;
      if (lone) {
        const value = this.stringToken(lone);
        item.ref = { kind: 'string', value, span: value.span };
      } else if (p) {
        item.ref = { kind: 'path', path: this.path(p), span: this.span(p) };
      }
    }
    return item;
  }
}

/** Build the AST of one file from its CST. Only called on a CST that parsed without errors. */
export function buildAst(file: string, cst: CstNode, comments: A.Comment[], text: string): A.SyncFile {
  const b = new Builder(file);
  const lines = text.split('\n');
  return {
    file,
    definitions: nodes(cst.children, 'definition').map((d) => b.definition(d)),
    comments,
    span: {
      file,
      line: 1,
      column: 1,
      offset: 0,
      endLine: lines.length,
      endColumn: (lines[lines.length - 1] ?? '').length + 1,
      endOffset: text.length,
    },
  };
}
