/**
 * The one-line text of the leaves of the AST for the formatter: names, values, types,
 * mappings and `where` expressions, and how wide it prints. Strings and numbers come out as
 * written (`raw`), so nothing is ever re-escaped; `source` is the file's text, for quoted names.
 */
import type * as A from './ast.js';

export const indentUnit = '  ';

/** Past this column a `where` condition is broken over several lines. */
export const maxLineWidth = 100;

/** Characters as the eye counts them, near enough: code points, not UTF-16 units. */
export function width(text: string): number {
  return [...text].length;
}

/** A quoted name as written (backticks or double quotes, escapes intact): the AST keeps only its unescaped text. A table path's `env("X")` part as written. */
export function identText(id: A.Ident, source: string): string {
  if (id.env) return `env(${id.env.raw})`;
  return id.quoted ? source.slice(id.span.offset, id.span.endOffset) : id.text;
}

export function pathText(path: A.Path, source: string): string {
  return path.parts.map((part) => identText(part, source)).join('.');
}

export function settingValueText(value: A.SettingValue, source: string): string {
  switch (value.kind) {
    case 'string':
    case 'number':
      return value.raw;
    case 'bool':
      return String(value.value);
    case 'env':
      return `env(${value.variable.raw})`;
    case 'path':
      return pathText(value.path, source);
  }
}

export function typeText(type: A.TypeRef): string {
  if (!type.precision) return type.name;
  const scale = type.scale ? `, ${type.scale.raw}` : '';
  return `${type.name}(${type.precision.raw}${scale})`;
}

/** What follows the column of a mapping: `-> field`, `hashed`, both, or nothing. */
export function mappingTargetText(mapping: A.FieldMapping): string {
  const parts = mapping.field ? ['->', mapping.field.raw] : [];
  if (mapping.hashed) parts.push('hashed');
  return parts.join(' ');
}

export function mappingText(mapping: A.FieldMapping, source: string): string {
  return [identText(mapping.column, source), mappingTargetText(mapping)].filter((part) => part !== '').join(' ');
}

export function orderKeysText(keys: A.OrderKey[], source: string): string {
  return keys.map((key) => (key.direction ? `${identText(key.column, source)} ${key.direction}` : identText(key.column, source))).join(', ');
}

export function targetText(item: Extract<A.SyncItem, { kind: 'to' }>, source: string): string {
  const parts = [identText(item.destination, source)];
  if (item.objectKind) parts.push(identText(item.objectKind, source));
  if (item.ref) parts.push(item.ref.kind === 'path' ? pathText(item.ref.path, source) : item.ref.value.raw);
  return parts.join(' ');
}

function operandText(operand: A.Operand, source: string): string {
  return operand.kind === 'column' ? identText(operand.name, source) : operand.raw;
}

export type Logical = Extract<A.Expr, { kind: 'logical' }>;

/**
 * The terms of a chain of one operator (`a and b and c`), in order. The chain nests to the
 * left as deep as it is long, so it is walked without recursion.
 */
export function chainTerms(chain: Logical): A.Expr[] {
  const terms: A.Expr[] = [];
  let left: A.Expr = chain;
  for (; left.kind === 'logical' && left.op === chain.op; left = left.left) terms.push(left.right);
  terms.push(left);
  return terms.reverse();
}

/** `x in` or `x not in`: what comes before the list. */
export function inHeadText(expr: Extract<A.Expr, { kind: 'in' }>, source: string): string {
  return `${operandText(expr.operand, source)} ${expr.negated ? 'not ' : ''}in`;
}

/** Single spaces around operators; parentheses exactly where the source had them (`paren` nodes). */
export function exprText(expr: A.Expr, source: string): string {
  const not = (negated: boolean) => (negated ? 'not ' : '');
  switch (expr.kind) {
    case 'logical':
      return chainTerms(expr)
        .map((term, i) => (i === 0 ? exprText(term, source) : `${expr.op} ${exprText(term, source)}`))
        .join(' ');
    case 'not':
      return `not ${exprText(expr.expr, source)}`;
    case 'paren':
      return `(${exprText(expr.expr, source)})`;
    case 'compare':
      return `${operandText(expr.left, source)} ${expr.op} ${operandText(expr.right, source)}`;
    case 'in':
      return `${inHeadText(expr, source)} (${expr.list.map((l) => l.raw).join(', ')})`;
    case 'isNull':
      return `${operandText(expr.operand, source)} is ${not(expr.negated)}null`;
    case 'like':
      return `${operandText(expr.operand, source)} ${not(expr.negated)}like ${expr.pattern.raw}`;
    case 'between':
      return `${operandText(expr.operand, source)} between ${operandText(expr.low, source)} and ${operandText(expr.high, source)}`;
    case 'column':
    case 'literal':
      return operandText(expr, source);
  }
}
