/**
 * An audience's condition as SQL, laid out as sql-formatter lays out the rest of the file: each
 * AND/OR term on a line of its own, a bracketed group or an `in` list on one line while short,
 * else broken over lines indented by two; the brackets where precedence needs them.
 */
import { describe, expect, it } from 'vitest';
import { getDialect } from '../src/dialect/index.js';
import { quoteIdent } from '../src/dialect/quote.js';
import { whereSql } from '../src/emit/where.js';
import { parseFile } from '../src/syntax/parse.js';
import type { Expr } from '../src/syntax/ast.js';

function condition(where: string): Expr {
  const { ast, diagnostics } = parseFile('w.sync', `audience a { from m  where ${where} }`);
  expect(diagnostics).toEqual([]);
  const def = ast!.definitions[0]!;
  if (def.kind !== 'audience') throw new Error('no audience');
  return def.items.find((i) => i.kind === 'where')!.expr;
}

const lines = (where: string, dialect: 'postgres' | 'snowflake' = 'postgres') =>
  whereSql(condition(where), getDialect(dialect), (name) => ({ sql: quoteIdent(getDialect(dialect), name.text), type: undefined }));

describe('the layout of a condition', () => {
  it.each([
    ['a = 1', ['"a" = 1']],
    ['a = 1 and b = 2 or c = 3', ['"a" = 1', 'AND "b" = 2', 'OR "c" = 3']],
    ['a = 1 and (b = 2 or c = 3)', ['"a" = 1', 'AND ("b" = 2 OR "c" = 3)']],
    ['not (a = 1 or b = 2)', ['NOT ("a" = 1 OR "b" = 2)']],
    [
      "a = 1 and (b = 'a long enough string' or c = 'to break the group')",
      ['"a" = 1', 'AND (', '  "b" = \'a long enough string\'', '  OR "c" = \'to break the group\'', ')'],
    ],
    ["a in (1, 2, 3) and b not in ('x')", ['"a" IN (1, 2, 3)', 'AND "b" NOT IN (\'x\')']],
    [
      `a in (${Array.from({ length: 12 }, (_, i) => `'value ${i}'`).join(', ')})`,
      ['"a" IN (', ...Array.from({ length: 12 }, (_, i) => `  'value ${i}'${i < 11 ? ',' : ''}`), ')'],
    ],
    ["a between 1 and 2 and b is not null and c not like 'x%'", ['"a" BETWEEN 1 AND 2', 'AND "b" IS NOT NULL', 'AND "c" NOT LIKE \'x%\'']],
    ["d >= date '2024-01-31'", ['"d" >= CAST(\'2024-01-31\' AS DATE)']],
  ])('%s', (where, expected) => {
    expect(lines(where)).toEqual(expected);
  });

  it("writes strings with the dialect's literal function, and `like` with the backslash as its escape", () => {
    expect(lines("a = 'it\\'s' or b like 'a\\\\%'")).toEqual(["\"a\" = 'it''s'", 'OR "b" LIKE E\'a\\\\%\'']);
    expect(lines("b like 'a\\\\%'", 'snowflake')).toEqual(["\"b\" LIKE 'a\\\\%' ESCAPE '\\\\'"]);
  });
});
