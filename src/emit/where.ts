/**
 * An audience's `where` as SQL of the model's dialect: names through the dialect's quoting,
 * strings through its literal function, dates and timestamps cast to its types, and `like`
 * with a backslash as its escape character on every warehouse.
 *
 * A literal is written as the column it is compared with reads it, so that the condition means
 * what it means on Postgres (the reference): a number exactly (on BigQuery a number with a point
 * is FLOAT64, and NUMERIC and INT64 meeting one are compared as FLOAT64), unless the column is a
 * float; a date against a timestamp as its midnight, and a date column against a timestamp
 * promoted to its midnight (BigQuery compares no DATE with a TIMESTAMP). A timestamp (and a date
 * against one) is UTC, as payloads are: the SQL selects the same rows in a session of any zone.
 *
 * The condition is laid out here, as sql-formatter lays out conditions (each AND/OR term on a
 * line of its own; a bracketed group on one line when short, else its terms indented by two
 * between lines of their own), and goes into its statement as one hole (SqlWriter.block):
 * sql-formatter's time grows with the square of a statement's length, and a condition may
 * hold 100,000 values. Both passes use explicit stacks, since a chain of terms nests as deep
 * as it is long: the time is linear in the condition, and no depth overflows the stack.
 */
import type { Expr, Ident, Literal, Operand } from '../syntax/ast.js';
import type { ColumnType } from '../catalog/types.js';
import type { DialectSpec } from '../dialect/index.js';
import { exactNumberLiteral, quoteLiteral } from '../dialect/quote.js';
import { fillSnippet } from '../dialect/snippet.js';
import { timestampAtUtc } from '../syntax/timestamp.js';
import { sqlNumber } from './sql-writer.js';

/** How a column of the model is referred to (e.g. `"m"."ltv"`), as SQL text, and the type it is declared with. */
export type ColumnSql = (name: Ident) => { sql: string; type: ColumnType | undefined };

/** sql-formatter's expressionWidth: a bracketed group up to this long stays on one line. */
const inlineWidth = 50;

type Logical = Extract<Expr, { kind: 'logical' }>;
type InList = Extract<Expr, { kind: 'in' }>;

/** What the operands of one comparison (`=`, `between`, `in`) are compared as. */
interface Comparison {
  /** A float column takes part: numbers are compared as floats, as Postgres converts NUMERIC to one. */
  float: boolean;
  /** A timestamp takes part: dates are promoted to their midnight. */
  timestamp: boolean;
  /** A `timestamp` column takes part: a timestamp literal is written as the dialect compares one with it. */
  timestampColumn: boolean;
}

function literalSql(l: Literal, spec: DialectSpec, c: Comparison): string {
  switch (l.type) {
    case 'string':
      return quoteLiteral(spec, String(l.value));
    case 'number': {
      // Against a float the literal converts to one wherever it is read; an integer is written
      // exactly, as one too long for the dialect's integers would not be read at all.
      if (c.float && /[.eE]/.test(l.raw)) return sqlNumber(l.raw);
      const exact = exactNumberLiteral(spec, l.raw);
      // The checker refuses a number the dialect cannot hold exactly.
      if (exact === undefined) throw new Error(`${spec.name} holds no exact number ${l.raw}`);
      return exact;
    }
    case 'bool':
      return l.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'date':
      if (c.timestamp) return timestampSql(String(l.value), spec, c);
      return `CAST(${quoteLiteral(spec, String(l.value))} AS ${spec.types.date})`;
    case 'timestamp':
      return timestampSql(String(l.value), spec, c);
  }
}

/**
 * A timestamp literal as its wall clock at UTC (its own offset applied): against a `timestamp`
 * column, in the dialect's text of a UTC instant, which the column reads as that instant if it
 * has a zone and as that wall clock if not, in a session of any time zone; else (against a date
 * column's midnight) that wall clock as the dialect's timestamp without zone.
 */
function timestampSql(text: string, spec: DialectSpec, c: Comparison): string {
  const utc = timestampAtUtc(text);
  // The checker refuses a timestamp that has no instant between the years 1 and 9999.
  if (utc === undefined) throw new Error(`\`${text}\` is not a valid timestamp`);
  if (!c.timestampColumn) return `CAST(${quoteLiteral(spec, utc)} AS ${spec.types.timestamp})`;
  return fillSnippet(spec.conditions.timestampLiteral, { v: quoteLiteral(spec, fillSnippet(spec.conditions.utcText, { t: utc })) });
}

/** The terms of a chain of one operator, in order (the chain nests to the left). */
function chainTerms(chain: Logical): Expr[] {
  const terms: Expr[] = [];
  let left: Expr = chain;
  for (; left.kind === 'logical' && left.op === chain.op; left = left.left) terms.push(left.right);
  terms.push(left);
  return terms.reverse();
}

/** A term that binds more loosely than the operator around it is bracketed. */
const bracketed = (e: Expr, parent: 'and' | 'not'): boolean => e.kind === 'logical' && (parent === 'not' || e.op === 'or');

/** The parts of a condition as SQL text: predicates whole, `in` as its head and items. */
class Parts {
  readonly text = new Map<Expr, string>();
  readonly lists = new Map<InList, { head: string; items: string[] }>();
  /** The length of each node on one line. */
  readonly width = new Map<Expr, number>();
  readonly terms = new Map<Logical, Expr[]>();

  constructor(
    private readonly spec: DialectSpec,
    private readonly column: ColumnSql,
  ) {}

  private operand(o: Operand, c: Comparison): string {
    if (o.kind !== 'column') return literalSql(o, this.spec, c);
    const { sql, type } = this.column(o.name);
    return type === 'date' && c.timestamp ? `CAST(${sql} AS ${this.spec.types.timestamp})` : sql;
  }

  /** What the operands of one comparison are compared as, from the columns' types and the literals. */
  private comparison(operands: readonly Operand[]): Comparison {
    const c: Comparison = { float: false, timestamp: false, timestampColumn: false };
    for (const o of operands) {
      const type = o.kind === 'column' ? this.column(o.name).type : o.type;
      if (type === 'float') c.float = true;
      if (type === 'timestamp') c.timestamp = true;
      if (type === 'timestamp' && o.kind === 'column') c.timestampColumn = true;
    }
    return c;
  }

  /** The children a node is printed from, in order. */
  children(e: Expr): Expr[] {
    if (e.kind === 'logical') {
      let terms = this.terms.get(e);
      if (!terms) this.terms.set(e, (terms = chainTerms(e)));
      return terms;
    }
    return e.kind === 'not' || e.kind === 'paren' ? [e.expr] : [];
  }

  /** Text and width of a node whose children are done. */
  measure(e: Expr): void {
    const w = (x: Expr, parent?: 'and' | 'not') => this.width.get(x)! + (parent && bracketed(x, parent) ? 2 : 0);
    switch (e.kind) {
      case 'logical': {
        const terms = this.children(e);
        const sep = e.op === 'and' ? 5 : 4;
        this.width.set(
          e,
          terms.reduce((sum, t, i) => sum + w(t, e.op === 'and' ? 'and' : undefined) + (i > 0 ? sep : 0), 0),
        );
        return;
      }
      case 'not':
        this.width.set(e, 4 + w(e.expr, 'not'));
        return;
      case 'paren':
        this.width.set(e, 2 + w(e.expr));
        return;
      case 'in': {
        const c = this.comparison([e.operand, ...e.list]);
        const list = { head: `${this.operand(e.operand, c)} ${e.negated ? 'NOT IN' : 'IN'}`, items: e.list.map((l) => literalSql(l, this.spec, c)) };
        this.lists.set(e, list);
        this.width.set(e, list.head.length + 3 + list.items.reduce((sum, item) => sum + item.length + 2, 0));
        return;
      }
      default: {
        const text = this.leaf(e);
        this.text.set(e, text);
        this.width.set(e, text.length);
      }
    }
  }

  private leaf(e: Exclude<Expr, Logical | InList | { kind: 'not' | 'paren' }>): string {
    const operands = e.kind === 'compare' ? [e.left, e.right] : e.kind === 'between' ? [e.operand, e.low, e.high] : [];
    const c = this.comparison(operands);
    const op = (o: Operand) => this.operand(o, c);
    switch (e.kind) {
      case 'compare':
        return `${op(e.left)} ${e.op === '!=' ? '<>' : e.op} ${op(e.right)}`;
      case 'isNull':
        return `${op(e.operand)} IS ${e.negated ? 'NOT NULL' : 'NULL'}`;
      case 'like': {
        const escape = this.spec.like.escapeClause ? ` ESCAPE ${quoteLiteral(this.spec, '\\')}` : '';
        return `${op(e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${quoteLiteral(this.spec, e.pattern.value)}${escape}`;
      }
      case 'between':
        return `${op(e.operand)} BETWEEN ${op(e.low)} AND ${op(e.high)}`;
      case 'column':
      case 'literal':
        return op(e);
    }
  }
}

type Task = { text: string } | { line: number } | { node: Expr; indent: number; flat: boolean; bracket: boolean };

/** The condition as lines of SQL, indented relative to the first. */
export function whereSql(condition: Expr, spec: DialectSpec, column: ColumnSql): string[] {
  const parts = new Parts(spec, column);
  // Children before parents: each width from its children's.
  const pending: { e: Expr; ready: boolean }[] = [{ e: condition, ready: false }];
  while (pending.length > 0) {
    const top = pending.pop()!;
    if (top.ready) parts.measure(top.e);
    else {
      pending.push({ e: top.e, ready: true });
      for (const child of parts.children(top.e)) pending.push({ e: child, ready: false });
    }
  }

  const lines: string[] = [];
  let line = '';
  const tasks: Task[] = [{ node: condition, indent: 0, flat: false, bracket: false }];
  while (tasks.length > 0) {
    const t = tasks.pop()!;
    if ('text' in t) {
      line += t.text;
      continue;
    }
    if ('line' in t) {
      lines.push(line);
      line = ' '.repeat(t.line);
      continue;
    }
    const { node: e, indent } = t;
    const next: Task[] = [];
    if (t.bracket) {
      const flat = t.flat || parts.width.get(e)! + 2 <= inlineWidth;
      if (flat) next.push({ text: '(' }, { node: e, indent, flat: true, bracket: false }, { text: ')' });
      else next.push({ text: '(' }, { line: indent + 2 }, { node: e, indent: indent + 2, flat: false, bracket: false }, { line: indent }, { text: ')' });
    } else if (e.kind === 'logical') {
      const op = e.op === 'and' ? 'AND' : 'OR';
      parts.children(e).forEach((term, i) => {
        // Each term after the first on a line of its own, after its operator.
        if (i > 0) next.push(...(t.flat ? [{ text: ` ${op} ` }] : [{ line: indent }, { text: `${op} ` }]));
        next.push({ node: term, indent, flat: t.flat, bracket: e.op === 'and' && bracketed(term, 'and') });
      });
    } else if (e.kind === 'not') {
      next.push({ text: 'NOT ' }, { node: e.expr, indent, flat: t.flat, bracket: bracketed(e.expr, 'not') });
    } else if (e.kind === 'paren') {
      next.push({ node: e.expr, indent, flat: t.flat, bracket: true });
    } else if (e.kind === 'in') {
      const { head, items } = parts.lists.get(e)!;
      if (t.flat || parts.width.get(e)! - head.length <= inlineWidth) next.push({ text: `${head} (${items.join(', ')})` });
      else {
        next.push({ text: `${head} (` });
        items.forEach((item, i) => next.push({ line: indent + 2 }, { text: i < items.length - 1 ? `${item},` : item }));
        next.push({ line: indent }, { text: ')' });
      }
    } else {
      next.push({ text: parts.text.get(e)! });
    }
    for (let i = next.length - 1; i >= 0; i--) tasks.push(next[i]!);
  }
  lines.push(line);
  return lines;
}
