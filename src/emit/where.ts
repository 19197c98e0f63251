/**
 * An audience's `where` as SQL of the model's dialect. Names go through the writer's quoting,
 * strings through its literal function; dates and timestamps are cast to the dialect's types.
 */
import type { Expr, Ident, Literal, Operand } from '../syntax/ast.js';
import type { SqlWriter } from './sql-writer.js';

/** How a column of the model is referred to (e.g. `"m"."ltv"`). */
export type ColumnSql = (name: Ident) => string;

function literalSql(l: Literal, w: SqlWriter): string {
  switch (l.type) {
    case 'string':
      return w.literal(String(l.value));
    case 'number':
      return w.number(/^-?[\d.]/.test(l.raw) ? l.raw : String(l.value));
    case 'bool':
      return l.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'date':
    case 'timestamp':
      return `CAST(${w.literal(String(l.value))} AS ${w.spec.types[l.type]})`;
  }
}

function operandSql(o: Operand, w: SqlWriter, column: ColumnSql): string {
  return o.kind === 'column' ? column(o.name) : literalSql(o, w);
}

/** Wraps a child whose operator binds more loosely than its parent's. */
function nested(e: Expr, parent: 'and' | 'not', w: SqlWriter, column: ColumnSql): string {
  const sql = whereSql(e, w, column);
  const loose = e.kind === 'logical' && (parent === 'not' || e.op === 'or');
  return loose ? `(${sql})` : sql;
}

export function whereSql(e: Expr, w: SqlWriter, column: ColumnSql): string {
  const op = (o: Operand) => operandSql(o, w, column);
  switch (e.kind) {
    case 'logical':
      return e.op === 'and'
        ? `${nested(e.left, 'and', w, column)} AND ${nested(e.right, 'and', w, column)}`
        : `${whereSql(e.left, w, column)} OR ${whereSql(e.right, w, column)}`;
    case 'not':
      return `NOT ${nested(e.expr, 'not', w, column)}`;
    case 'paren':
      return `(${whereSql(e.expr, w, column)})`;
    case 'compare':
      return `${op(e.left)} ${e.op === '!=' ? '<>' : e.op} ${op(e.right)}`;
    case 'in':
      return `${op(e.operand)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map((l) => literalSql(l, w)).join(', ')})`;
    case 'isNull':
      return `${op(e.operand)} IS ${e.negated ? 'NOT NULL' : 'NULL'}`;
    case 'like':
      return `${op(e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${w.literal(e.pattern.value)}`;
    case 'between':
      return `${op(e.operand)} BETWEEN ${op(e.low)} AND ${op(e.high)}`;
    case 'column':
    case 'literal':
      return op(e);
  }
}
