/**
 * What each rule of the parser (parser.ts) makes of what it read: the AST, with a span for
 * every node and typed values for tokens. The parser builds no concrete syntax tree; each rule
 * keeps what it read in its `Frame` and hands it here when it ends.
 *
 * A rule also ends early, on a syntax error: it then makes what it read so far (a partial
 * node), whether it recovers itself or its caller does (Chevrotain's recovery). Where text is
 * missing (a token recovery inserted, a part it never reached) stands a placeholder marked
 * `missing` (see ast.ts), placed with no width after the text read before it.
 */
import type { IToken } from 'chevrotain';
import type * as A from './ast.js';
import { Lines, type Span } from '../span.js';
import { envSlot } from '../contract/names.js';

/**
 * One rule's run: the offsets of the text it read (tokens, recovery's inserted ones included,
 * and its subrules'; NaN until it reads one), and what it keeps of it (`state`, the rule's
 * own). `failed`: the partial result of a subrule that ended on an error it did not recover
 * from, kept under `failedKey` (its label, or the rule's name) as if it had returned it.
 */
export class Frame {
  start = NaN;
  end = NaN;
  state: unknown = undefined;
  failedKey: string | undefined = undefined;
  failed: unknown = undefined;
}

/** A definition as the parser made it, and where its text starts (NaN when it read none). */
export interface DefinitionResult {
  definition: A.Definition | undefined;
  start: number;
}

/** A path, and its one part's double-quoted token when that is all it is (a string where a string may stand). */
export interface PathResult {
  path: A.Path;
  lone: IToken | undefined;
}

/** A part of a table path: a name, or `env("X")`. */
export interface TablePartResult {
  ident: A.Ident;
  lone: IToken | undefined;
}

export interface EnvResult {
  variable: A.StringLit;
  span: Span;
}

/** The state of a definition's rule. */
export interface DefinitionState {
  name: IToken | undefined;
  /** A source's dialect, a destination's type. */
  second: IToken | undefined;
  settings: A.Setting[] | undefined;
  items: unknown[];
}

/** The state of an item's rule (and of others made of a few tokens and subrules). */
export interface ItemState {
  kind: string | undefined;
  token: IToken | undefined;
  node: unknown;
  list: unknown[] | undefined;
}

export interface ColumnState {
  ident: IToken | undefined;
  /** null: a type that read no text (see `typeRef`). */
  type: A.TypeRef | null | undefined;
  question: IToken | undefined;
}

export interface TypeState {
  name: IToken | undefined;
  precision: IToken | undefined;
  scale: IToken | undefined;
}

export interface MappingState {
  column: IToken | undefined;
  arrow: IToken | undefined;
  field: IToken | undefined;
  hashed: IToken | undefined;
}

export interface ToState {
  destination: IToken | undefined;
  objectKind: IToken | undefined;
  path: PathResult | undefined;
  string: IToken | undefined;
}

export interface GuardState {
  allow: boolean;
  limit: IToken | undefined;
  percent: IToken | undefined;
}

/** An operand null is one that read nothing (see `operand`). */
export interface PredicateState {
  subject: A.Operand | undefined | null;
  kind: 'compare' | 'in' | 'isNull' | 'like' | 'between' | undefined;
  negated: boolean;
  op: IToken | undefined;
  /** A comparison's right operand, or the low bound of `between`. */
  right: A.Operand | undefined | null;
  high: A.Operand | undefined | null;
  list: (A.Literal | null)[] | undefined;
  pattern: IToken | undefined;
}

/**
 * A position as a small integer: Chevrotain keeps positions in fields that start as NaN, so they
 * read as heap numbers, and a span made of them stores each boxed (spans are a third of a parsed
 * project's heap). NaN (a token inserted by error recovery) stays NaN.
 */
const int = (n: number): number => (Number.isNaN(n) ? n : n | 0);

/** A token's span: the lexer keeps only its offset (see `Lines`); all NaN for a token with none (Chevrotain's end of file). */
export function tokenSpan(lines: Lines, t: IToken): Span {
  const offset = int(t.startOffset);
  return lines.span(offset, offset + t.image.length);
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

/** A token read from the text: not one that recovery inserted. */
const read = (t: IToken | undefined): IToken | undefined => (t && !t.isInsertedInRecovery ? t : undefined);

const isQuoted = (t: IToken): boolean => t.tokenType.name === 'DqString';

/** The empty span where `s` ends. */
function endOf(s: Span): Span {
  return { ...s, line: s.endLine, column: s.endColumn, offset: s.endOffset };
}

/** The span from where `a` starts to where `b` ends. */
function across(a: Span, b: Span): Span {
  return { ...a, endLine: b.endLine, endColumn: b.endColumn, endOffset: b.endOffset };
}

/** The AST of one file, made rule by rule as the parser reads it. */
export class Builder {
  readonly lines: Lines;
  /**
   * A node that read no text stands where its definition starts, with the definition's span,
   * which is known only once the definition has been read: such spans are made empty, and
   * filled in, in the order they were made, when it has (`definitionDone`).
   */
  private readonly pending = new Set<Span>();
  private readonly fills: ((definition: Span) => void)[] = [];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lines = new Lines(file, text);
  }

  /** A rule's span: from the start of what it read to the end of it; the definition's when it read nothing. */
  span(f: Frame): Span {
    if (Number.isNaN(f.start)) return this.later((d) => d);
    return this.lines.span(int(f.start), int(f.end + 1));
  }

  /** A span made from the definition's once it is known (see `pending`). */
  private later(make: (definition: Span) => Span): Span {
    const s: Span = { file: this.file, line: 0, column: 0, offset: 0, endLine: 0, endColumn: 0, endOffset: 0 };
    this.pending.add(s);
    this.fills.push((d) => Object.assign(s, make(d)));
    return s;
  }

  private endOf(s: Span): Span {
    return this.pending.has(s) ? this.later(() => endOf(s)) : endOf(s);
  }

  private across(a: Span, b: Span): Span {
    return this.pending.has(a) || this.pending.has(b) ? this.later(() => across(a, b)) : across(a, b);
  }

  /** Where a part missing from a rule goes: after the text the rule read, which stops where the part should start. */
  missingIn(f: Frame): Span {
    return this.endOf(this.span(f));
  }

  tokenSpan(t: IToken): Span {
    return tokenSpan(this.lines, t);
  }

  placeholder(span: Span): A.Ident {
    return { text: '', quoted: false, span, missing: true };
  }

  /** A name token, or a placeholder when it is missing (inserted by recovery, or never reached in `outer`). */
  nameOf(t: IToken | undefined, outer: Frame): A.Ident {
    if (!t) return this.placeholder(this.missingIn(outer));
    if (t.isInsertedInRecovery) return this.placeholder(this.tokenSpan(t));
    return { text: t.image, quoted: false, span: this.tokenSpan(t) };
  }

  /** The token `ident` read (a bare name, or an exact one in backticks or double quotes), or a placeholder at the end of `outer`. */
  identOf(t: IToken | undefined, outer: Frame): A.Ident {
    if (!t) return this.placeholder(this.missingIn(outer));
    const kind = t.tokenType.name;
    if (kind === 'Backtick' || kind === 'DqString') {
      const body = inside(t.image);
      return { text: kind === 'DqString' ? unescape(body) : body, quoted: true, span: this.tokenSpan(t) };
    }
    return { text: t.image, quoted: false, span: this.tokenSpan(t) };
  }

  stringToken(t: IToken): A.StringLit {
    const raw = t.image;
    return { kind: 'string', value: stringValue(raw), raw, span: this.tokenSpan(t) };
  }

  missingString(span: Span): A.StringLit {
    return { kind: 'string', value: '', raw: '', span, missing: true };
  }

  /** The string `stringLit` read, or a missing one at the end of `outer`. */
  stringOf(t: IToken | undefined, outer: Frame): A.StringLit {
    return t ? this.stringToken(t) : this.missingString(this.missingIn(outer));
  }

  number(t: IToken | undefined, outer: Frame): A.NumberLit {
    if (!t || t.isInsertedInRecovery) return { kind: 'number', value: NaN, raw: '', span: t ? this.tokenSpan(t) : this.missingIn(outer), missing: true };
    return { kind: 'number', value: Number(t.image), raw: t.image, span: this.tokenSpan(t) };
  }

  /** A path that was not read at all: one placeholder at the end of `outer`. */
  noPath(outer: Frame): A.Path {
    const at = this.missingIn(outer);
    return { parts: [this.placeholder(at)], span: at };
  }

  // What each rule makes (parser.ts): `f` is the rule's frame, its state the rule's own.

  project(f: Frame): DefinitionResult[] {
    const all = f.state as DefinitionResult[];
    if (f.failed !== undefined) all.push(f.failed as DefinitionResult);
    return all;
  }

  definition(f: Frame): DefinitionResult {
    return { definition: (f.failedKey !== undefined ? f.failed : f.state) as A.Definition | undefined, start: f.start };
  }

  sourceDef(f: Frame): A.Definition {
    return this.definitionOf('source', f);
  }

  destinationDef(f: Frame): A.Definition {
    return this.definitionOf('destination', f);
  }

  modelDef(f: Frame): A.Definition {
    return this.definitionOf('model', f);
  }

  audienceDef(f: Frame): A.Definition {
    return this.definitionOf('audience', f);
  }

  syncDef(f: Frame): A.Definition {
    return this.definitionOf('sync', f);
  }

  /** A definition; the spans of the nodes in it that read no text are its own (`pending`). */
  private definitionOf(kind: A.Definition['kind'], f: Frame): A.Definition {
    const s = f.state as DefinitionState;
    if (f.failedKey === 'settingsBlock') s.settings = f.failed as A.Setting[];
    else if (f.failedKey !== undefined) s.items.push(f.failed);
    const span = this.span(f);
    if (this.fills.length > 0) {
      for (const fill of this.fills) fill(span);
      this.fills.length = 0;
      this.pending.clear();
    }
    const name = this.nameOf(s.name, f);
    switch (kind) {
      case 'source':
        return { kind, name, dialect: this.nameOf(s.second, f), settings: s.settings ?? [], span };
      case 'destination':
        return { kind, name, type: this.nameOf(s.second, f), settings: s.settings ?? [], span };
      case 'model':
        return { kind, name, items: defined(s.items as (A.ModelItem | undefined)[]), span };
      case 'audience':
        return { kind, name, items: s.items as A.AudienceItem[], span };
      case 'sync':
        return { kind, name, items: defined(s.items as (A.SyncItem | undefined)[]), span };
    }
  }

  settingsBlock(f: Frame): A.Setting[] {
    const all = f.state as (A.Setting | undefined)[];
    if (f.failed !== undefined) all.push(f.failed as A.Setting);
    return defined(all);
  }

  setting(f: Frame): A.Setting | undefined {
    const s = f.state as ItemState;
    const name = read(s.token);
    if (!name) return undefined;
    const value = (f.failedKey === 'value' ? f.failed : s.node) as A.SettingValue | undefined;
    return { name: this.nameOf(name, f), value: value ?? this.missingString(this.missingIn(f)), span: this.span(f) };
  }

  /** A setting's value; nothing when none was read (its setting places the placeholder). */
  value(f: Frame): A.SettingValue | undefined {
    const r = (f.failedKey !== undefined ? f.failed : f.state) as IToken | EnvResult | PathResult | undefined;
    if (r === undefined) return undefined;
    if ('image' in r) {
      switch (r.tokenType.name) {
        case 'Number':
          return this.number(r, f);
        case 'True':
          return { kind: 'bool', value: true, span: this.span(f) };
        case 'False':
          return { kind: 'bool', value: false, span: this.span(f) };
        default:
          return this.stringToken(r);
      }
    }
    if ('variable' in r) return { kind: 'env', variable: r.variable, span: this.span(f) };
    if (r.lone) return this.stringToken(r.lone);
    return { kind: 'path', path: r.path, span: this.span(f) };
  }

  envRef(f: Frame): EnvResult {
    const t = (f.failedKey !== undefined ? f.failed : f.state) as IToken | undefined;
    return { variable: this.stringOf(t, f), span: this.span(f) };
  }

  path(f: Frame): PathResult {
    const tokens = f.state as (IToken | undefined)[];
    if (f.failedKey !== undefined) tokens.push(f.failed as IToken | undefined);
    const parts = tokens.map((t) => this.identOf(t, f));
    const lone = tokens.length === 1 ? tokens[0] : undefined;
    return { path: { parts, span: this.span(f) }, lone: lone && isQuoted(lone) ? lone : undefined };
  }

  tablePath(f: Frame): PathResult {
    const all = f.state as TablePartResult[];
    if (f.failedKey !== undefined) all.push(f.failed as TablePartResult);
    return { path: { parts: all.map((p) => p.ident), span: this.span(f) }, lone: all.length === 1 ? all[0]!.lone : undefined };
  }

  /** A part `env("X")` is the exact name `{{env:X}}`, which the executor fills from X (src/contract/names.ts). */
  tablePart(f: Frame): TablePartResult {
    const s = f.state as ItemState;
    const r = (f.failedKey === undefined ? s.node : f.failed) as EnvResult | IToken | undefined;
    if (s.kind === 'envRef') {
      const env = r as EnvResult;
      if (env.variable.missing) return { ident: this.placeholder(this.endOf(env.span)), lone: undefined };
      return { ident: { text: envSlot(env.variable.value), quoted: true, span: env.span, env: env.variable }, lone: undefined };
    }
    const t = r as IToken | undefined;
    return { ident: this.identOf(t, f), lone: t && isQuoted(t) ? t : undefined };
  }

  /** The rules of one token make the token (read: their choices take a token only where it stands). */
  ident(f: Frame): IToken | undefined {
    return f.state as IToken | undefined;
  }

  stringLit(f: Frame): IToken | undefined {
    return f.state as IToken | undefined;
  }

  compareOp(f: Frame): IToken | undefined {
    return f.state as IToken | undefined;
  }

  field(f: Frame): IToken | undefined {
    return f.state as IToken | undefined;
  }

  fromItem(f: Frame): A.ModelItem & A.SyncItem {
    return { kind: 'from', name: this.nameOf(f.state as IToken | undefined, f), span: this.span(f) };
  }

  /** An item, or nothing when recovery kept none of it. */
  modelItem(f: Frame): A.ModelItem | undefined {
    const s = f.state as ItemState;
    const node = f.failedKey === 'orderKey' || f.failedKey === 'columnDef' ? undefined : f.failedKey !== undefined ? f.failed : s.node;
    if (f.failedKey === 'orderKey' || f.failedKey === 'columnDef') s.list!.push(f.failed);
    if (s.kind === undefined) return undefined;
    if (s.kind === 'fromItem') return node as A.ModelItem;
    const span = this.span(f);
    switch (s.kind) {
      case 'Table':
        return { kind: 'table', path: node ? (node as PathResult).path : this.noPath(f), span };
      case 'Sql':
        return { kind: 'sql', query: this.stringOf(node as IToken | undefined, f), span };
      case 'Dbt':
        return { kind: 'dbt', model: this.identOf(node as IToken | undefined, f), span };
      case 'Primary':
        return { kind: 'primaryKey', column: this.identOf(node as IToken | undefined, f), span };
      case 'Order':
        return { kind: 'orderBy', keys: s.list as A.OrderKey[], span };
      default:
        return { kind: 'columns', columns: s.list as A.ColumnDef[], span };
    }
  }

  orderKey(f: Frame): A.OrderKey {
    const s = f.state as ItemState;
    const t = (f.failedKey === 'ident' ? f.failed : s.node) as IToken | undefined;
    const dir = read(s.token);
    const key: A.OrderKey = { column: this.identOf(t, f), span: this.span(f) };
    if (dir) key.direction = dir.tokenType.name === 'Asc' ? 'asc' : 'desc';
    return key;
  }

  columnDef(f: Frame): A.ColumnDef {
    const s = f.state as ColumnState;
    if (f.failedKey === 'ident') s.ident = f.failed as IToken | undefined;
    else if (f.failedKey === 'typeRef') s.type = f.failed as A.TypeRef | null;
    const type = s.type ?? { name: '', span: this.missingIn(f), missing: true as const };
    return { name: this.identOf(s.ident, f), type, nullable: read(s.question) !== undefined, span: this.span(f) };
  }

  /** A column's type; nothing when it read no text (its column places the placeholder). */
  typeRef(f: Frame): A.TypeRef | null {
    if (Number.isNaN(f.start)) return null;
    const s = f.state as TypeState;
    const name = read(s.name);
    const type: A.TypeRef = name ? { name: name.image, span: this.span(f) } : { name: '', span: this.missingIn(f), missing: true };
    if (read(s.precision)) type.precision = this.number(s.precision, f);
    if (read(s.scale)) type.scale = this.number(s.scale, f);
    return type;
  }

  whereItem(f: Frame): A.AudienceItem {
    const e = (f.failedKey !== undefined ? f.failed : f.state) as A.Expr | undefined;
    return { kind: 'where', expr: e ?? this.missingOperand(this.missingIn(f)), span: this.span(f) };
  }

  /** An operand that is missing: a column reference with no name. */
  missingOperand(span: Span): A.ColumnRef {
    return { kind: 'column', name: this.placeholder(span), span };
  }

  expr(f: Frame): A.Expr {
    return this.chain('or', f);
  }

  andExpr(f: Frame): A.Expr {
    return this.chain('and', f);
  }

  /** `a or b or c`, `a and b`: joined from the left. */
  private chain(op: 'and' | 'or', f: Frame): A.Expr {
    const parts = f.state as A.Expr[];
    if (f.failedKey !== undefined) parts.push(f.failed as A.Expr);
    let result = parts[0] ?? this.missingOperand(this.missingIn(f));
    for (let i = 1; i < parts.length; i++) {
      const right = parts[i]!;
      result = { kind: 'logical', op, left: result, right, span: this.across(result.span, right.span) };
    }
    return result;
  }

  notExpr(f: Frame): A.Expr {
    const s = f.state as ItemState;
    const inner = (f.failedKey !== undefined ? f.failed : s.node) as A.Expr | undefined;
    switch (s.kind) {
      case 'Not':
        return { kind: 'not', expr: inner ?? this.missingOperand(this.missingIn(f)), span: this.span(f) };
      case 'LParen':
        return { kind: 'paren', expr: inner ?? this.missingOperand(this.missingIn(f)), span: this.span(f) };
      default:
        return inner ?? this.missingOperand(this.missingIn(f));
    }
  }

  /** An operand of `outer`: `null` when none was read (then it is missing at the end of `outer`). */
  operandIn(o: A.Operand | undefined | null, outer: Frame): A.Operand {
    return o ?? this.missingOperand(this.missingIn(outer));
  }

  predicate(f: Frame): A.Expr {
    const s = f.state as PredicateState;
    if (f.failedKey !== undefined) {
      const failed = f.failed as A.Operand | IToken | A.Literal | undefined | null;
      if (f.failedKey === 'subject') s.subject = failed as A.Operand | null;
      else if (f.failedKey === 'compareOp') s.op = failed as IToken | undefined;
      else if (f.failedKey === 'right' || f.failedKey === 'low') s.right = failed as A.Operand | null;
      else if (f.failedKey === 'high') s.high = failed as A.Operand | null;
      else if (f.failedKey === 'literal') s.list!.push(failed as A.Literal | null);
      else s.pattern = failed as IToken | undefined;
    }
    const subject = this.operandIn(s.subject, f);
    const span = this.span(f);
    switch (s.kind) {
      case 'compare':
        if (!s.op) return subject;
        return { kind: 'compare', op: s.op.image as A.CompareOp, left: subject, right: this.operandIn(s.right, f), span };
      case 'in':
        return { kind: 'in', negated: s.negated, operand: subject, list: defined(s.list!), span };
      case 'isNull':
        return { kind: 'isNull', negated: s.negated, operand: subject, span };
      case 'like':
        return { kind: 'like', negated: s.negated, operand: subject, pattern: this.stringOf(s.pattern, f), span };
      case 'between':
        return { kind: 'between', operand: subject, low: this.operandIn(s.right, f), high: this.operandIn(s.high, f), span };
      default:
        return subject;
    }
  }

  /**
   * An operand; `null` when it read nothing (its caller places the placeholder). A literal
   * that read nothing is missing at the end of the operand (which is where its definition starts).
   */
  operand(f: Frame): A.Operand | null {
    const r = (f.failedKey !== undefined ? f.failed : f.state) as IToken | A.Literal | undefined | null;
    if (r === null) return this.missingOperand(this.missingIn(f));
    if (r === undefined) return null;
    if (!('image' in r)) return r;
    const name: A.Ident = r.tokenType.name === 'Backtick' ? { text: inside(r.image), quoted: true, span: this.tokenSpan(r) } : this.nameOf(r, f);
    return { kind: 'column', name, span: name.span };
  }

  /** A literal; a date or timestamp without its text is marked `missing`; null when recovery kept none of it. */
  literal(f: Frame): A.Literal | null {
    const s = f.state as ItemState;
    const t = s.token;
    if (t === undefined) return null;
    const span = this.span(f);
    switch (t.tokenType.name) {
      case 'SqString':
      case 'DqString':
        return { kind: 'literal', type: 'string', value: stringValue(t.image), raw: t.image, span };
      case 'Number':
        return { kind: 'literal', type: 'number', value: Number(t.image), raw: t.image, span };
      case 'True':
        return { kind: 'literal', type: 'bool', value: true, raw: 'true', span };
      case 'False':
        return { kind: 'literal', type: 'bool', value: false, raw: 'false', span };
      case 'Null':
        return { kind: 'literal', type: 'null', value: null, raw: 'null', span };
      default: {
        const type = t.tokenType.name === 'DateKw' ? 'date' : 'timestamp';
        const str = this.stringOf((f.failedKey !== undefined ? f.failed : s.node) as IToken | undefined, f);
        const lit: A.Literal = { kind: 'literal', type, value: str.value, raw: `${type} ${str.raw}`, span };
        if (str.missing) lit.missing = true;
        return lit;
      }
    }
  }

  mapping(f: Frame): A.FieldMapping {
    const s = f.state as MappingState;
    if (f.failedKey === 'column') s.column = f.failed as IToken | undefined;
    else if (f.failedKey === 'field') s.field = f.failed as IToken | undefined;
    const m: A.FieldMapping = { column: this.identOf(s.column, f), hashed: read(s.hashed) !== undefined, span: this.span(f) };
    if (!read(s.arrow)) return m;
    const t = s.field;
    if (!t) {
      m.field = { text: '', quoted: false, raw: '', span: this.missingIn(f), missing: true };
      return m;
    }
    const kind = t.tokenType.name;
    const quoted = kind === 'DqString' || kind === 'SqString' || kind === 'Backtick';
    const text = !quoted ? t.image : kind === 'Backtick' ? inside(t.image) : unescape(inside(t.image));
    m.field = { text, quoted, raw: t.image, span: this.tokenSpan(t) };
    return m;
  }

  /** A mapping that was not read at all (`identifier` with nothing after it): its parts missing at the end of `outer`. */
  noMapping(outer: Frame): A.FieldMapping {
    return { column: this.placeholder(this.missingIn(outer)), hashed: false, span: this.missingIn(outer) };
  }

  /** An item, or nothing when recovery kept none of it. */
  syncItem(f: Frame): A.SyncItem | undefined {
    const s = f.state as ItemState;
    if (f.failedKey === 'mapping' && s.kind === 'MapKw') s.list!.push(f.failed);
    const node = f.failedKey !== undefined && s.kind !== 'MapKw' ? f.failed : s.node;
    if (s.kind === undefined) return undefined;
    if (s.kind === 'fromItem') return node as A.SyncItem;
    const span = this.span(f);
    switch (s.kind) {
      case 'toItem':
      case 'guardItem': {
        const item = node as Extract<A.SyncItem, { kind: 'to' | 'guardDeletes' | 'guardAllowEmpty' }>;
        item.span = span;
        return item;
      }
      case 'Mode':
        return { kind: 'mode', mode: this.nameOf(s.token, f), span };
      case 'IdentifierKw':
        return { kind: 'identifier', mapping: (node as A.FieldMapping | undefined) ?? this.noMapping(f), span };
      case 'MapKw':
        return { kind: 'map', mappings: s.list as A.FieldMapping[], span };
      case 'Batch':
        return { kind: 'batch', size: this.number(s.token, f), span };
      case 'Schedule':
        return { kind: 'schedule', cron: this.stringOf(node as IToken | undefined, f), span };
      case 'Message':
        return { kind: 'message', template: this.stringOf(node as IToken | undefined, f), span };
      default:
        return { kind: 'format', format: this.nameOf(s.token, f), span };
    }
  }

  /** A `to` item, but its span: its item's (`syncItem`). */
  toItem(f: Frame): Extract<A.SyncItem, { kind: 'to' }> {
    const s = f.state as ToState;
    if (f.failedKey !== undefined) s.path = f.failed as PathResult;
    const item = { kind: 'to', destination: this.nameOf(s.destination, f), span: undefined as unknown as Span } as Extract<A.SyncItem, { kind: 'to' }>;
    const kind = read(s.objectKind);
    if (kind) {
      item.objectKind = this.nameOf(kind, f);
      const lone = s.path ? s.path.lone : read(s.string);
      if (lone) {
        const value = this.stringToken(lone);
        item.ref = { kind: 'string', value, span: value.span };
      } else {
        const path = s.path ? s.path.path : this.noPath(f);
        item.ref = { kind: 'path', path, span: path.span };
      }
    }
    return item;
  }

  /** A `guard` item, but its span: its item's (`syncItem`). `guard` with no bound, or none that could be read, is a bound that is missing. */
  guardItem(f: Frame): Extract<A.SyncItem, { kind: 'guardDeletes' | 'guardAllowEmpty' }> {
    const s = f.state as GuardState;
    const span = undefined as unknown as Span;
    if (s.allow) return { kind: 'guardAllowEmpty', span };
    return { kind: 'guardDeletes', limit: this.number(s.limit, f), percent: read(s.percent) !== undefined, span };
  }

  /**
   * The file's tree. `unsure`: the offsets, in order, where the tree may not read the text as
   * written (text recovery skipped, an error it may have misread around); a definition is
   * marked `partial` when one lies between its start and the next definition's: text after a
   * definition's end that is no definition was most likely meant inside it (a block closed early).
   */
  tree(all: readonly DefinitionResult[], comments: A.Comment[], unsure: readonly number[] = []): A.SyncFile {
    const text = this.text;
    const definitions: A.Definition[] = [];
    let next = 0;
    all.forEach(({ definition: d }, i) => {
      if (!d) return;
      const end = all[i + 1]?.start ?? Infinity;
      while (next < unsure.length && unsure[next]! < d.span.offset) next++;
      if (next < unsure.length && unsure[next]! < end) d.partial = true;
      definitions.push(d);
    });
    return { file: this.file, definitions, comments, span: this.lines.span(0, text.length) };
  }
}

/** A string token's value: the text between its quotes, escapes undone (a `"""` string's as written). */
function stringValue(raw: string): string {
  return raw.startsWith('"""') ? inside(raw, 3) : unescape(inside(raw));
}

/** What was made, but for what recovery left nothing of (a loop: this runs once per list of every node). */
function defined<T>(all: (T | undefined | null)[]): T[] {
  const out: T[] = [];
  for (const x of all) if (x !== undefined && x !== null) out.push(x);
  return out;
}
