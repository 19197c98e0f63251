/** An audience's `where` condition as SQL over the model's columns. */
import type { Expr, Literal, Operand } from '../syntax/ast.js';
import { storedName } from '../dialect/index.js';
import type { ApiSqlDialect } from './api-dialect.js';

function literal(d: ApiSqlDialect, l: Literal): string {
  switch (l.type) {
    case 'null':
      return 'NULL';
    case 'bool':
      return l.value ? 'TRUE' : 'FALSE';
    case 'number':
      return String(l.value);
    case 'date':
      return `DATE ${d.string(String(l.value))}`;
    case 'timestamp':
      return `TIMESTAMP ${d.string(String(l.value))}`;
    case 'string':
      return d.string(String(l.value));
  }
}

function operand(d: ApiSqlDialect, o: Operand): string {
  return o.kind === 'column' ? d.ident(storedName(d.spec, o.name)) : literal(d, o);
}

export function whereSql(d: ApiSqlDialect, e: Expr): string {
  switch (e.kind) {
    case 'logical':
      return `${whereSql(d, e.left)} ${e.op.toUpperCase()} ${whereSql(d, e.right)}`;
    case 'not':
      return `NOT ${whereSql(d, e.expr)}`;
    case 'paren':
      return `(${whereSql(d, e.expr)})`;
    case 'compare':
      return `${operand(d, e.left)} ${e.op === '!=' ? '<>' : e.op} ${operand(d, e.right)}`;
    case 'in':
      return `${operand(d, e.operand)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map((l) => literal(d, l)).join(', ')})`;
    case 'isNull':
      return `${operand(d, e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL`;
    case 'like':
      return `${operand(d, e.operand)} ${e.negated ? 'NOT LIKE' : 'LIKE'} ${d.string(e.pattern.value)}`;
    case 'between':
      return `${operand(d, e.operand)} BETWEEN ${operand(d, e.low)} AND ${operand(d, e.high)}`;
    default:
      return operand(d, e);
  }
}
