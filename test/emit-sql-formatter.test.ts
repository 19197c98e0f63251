/**
 * sql-formatter's syntax tree built by recursive descent (src/emit/sql-formatter-parse.ts):
 * the same tree as its nearley parser builds, and so the same text, for what a compile writes,
 * for each rule of the grammar with comments in every place it allows them, and for random
 * texts; where the hand parser does not build a tree, nearley is asked.
 */
import { isDeepStrictEqual } from 'node:util';
import { bigquery, formatDialect, postgresql, snowflake } from 'sql-formatter';
import { describe, expect, it } from 'vitest';
import { bothTrees, formatOptions, formatSql } from '../src/emit/sql-formatter.js';

const languages = { postgresql, snowflake, bigquery } as const;
type Language = keyof typeof languages;

/** What sql-formatter's public entry point makes of `sql`: its text, or its error's message. */
function published(language: Language, sql: string): string {
  try {
    return formatDialect(sql, { dialect: languages[language], ...formatOptions });
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

function ours(language: Language, sql: string): string {
  try {
    return formatSql(language, sql);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/**
 * How the hand parser did on `sql`: built nearley's tree (`same`), another (`different`), none
 * where nearley builds one (`left to nearley`), or none where sql-formatter refuses the text.
 */
function verdict(language: Language, sql: string): 'same' | 'different' | 'left to nearley' | 'refused' {
  let trees: ReturnType<typeof bothTrees>;
  try {
    trees = bothTrees(language, sql);
  } catch {
    return 'refused'; // by sql-formatter's tokenizer
  }
  if (trees.hand === undefined) return trees.nearley instanceof Error ? 'refused' : 'left to nearley';
  return !(trees.nearley instanceof Error) && isDeepStrictEqual(trees.hand, trees.nearley) ? 'same' : 'different';
}

const cases = [
  'SELECT * FROM t',
  'SELECT a, b.* , "c"."d" AS e FROM "s"."t" AS x WHERE a = 1 AND b <> 2 OR NOT c;',
  'select distinct a from t group by a having count(*) > 1 order by a desc nulls last limit 10 offset 5;',
  'SELECT a FROM t LIMIT 5, 10',
  'SELECT a FROM t LIMIT 5, 10, 15 OFFSET 1',
  'SELECT a FROM t LIMIT -- why\n 5 -- five\n, 10',
  'SELECT CASE WHEN a THEN 1 WHEN b -- c\n THEN -- d\n 2 ELSE -- e\n 3 END FROM t',
  'SELECT CASE x WHEN 1 THEN CASE WHEN y THEN 2 END ELSE 0 END AS z',
  'SELECT CASE -- after case\n x -- after x\n WHEN 1 THEN 2 END',
  'SELECT a BETWEEN 1 AND 2, b BETWEEN -- l\n x + 1 -- t\n AND -- a\n y FROM t',
  'SELECT a FROM t WHERE a BETWEEN b /* m */ - 1 AND 5 AND c',
  'SELECT f(a, g(b, (c + d) * 2)), COALESCE(NULL, 1), COUNT(DISTINCT a) OVER (PARTITION BY b ORDER BY c ROWS UNBOUNDED PRECEDING)',
  'SELECT a -- one\n, b /* two */ , c FROM t -- tail',
  '-- lead\n/* block */ SELECT 1;\n-- between\nSELECT 2;',
  'SELECT a . -- dot\n b, c -- before\n .d, e./* x */ "f"',
  'SELECT arr[1], arr [2] , ARRAY[1, 2], x.arr[3] FROM t',
  'SELECT CAST(a AS VARCHAR(20)), CAST(b AS NUMERIC(12, 2)), c::TEXT, d::DECIMAL (3) FROM t',
  "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y') ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b",
  'UPDATE t SET a = 1, b = (SELECT max(c) FROM u WHERE u.id = t.id) WHERE EXISTS (SELECT 1 FROM v)',
  'DELETE FROM t WHERE a IN (SELECT a FROM u UNION ALL SELECT a FROM v EXCEPT SELECT 1)',
  'WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b',
  'CREATE TEMPORARY TABLE x ON COMMIT DROP AS SELECT * FROM (SELECT 1 AS a) AS s',
  'MERGE INTO t USING s ON t.a = s.a WHEN MATCHED AND s.x = 1 THEN UPDATE SET b = s.b WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)',
  'SELECT $1, $2, :name, ? FROM t',
  "SELECT E'a\\'b', 'it''s', \"q\"\"q\", $$dollar$$, 1.5e3, -2 FROM t",
  'SELECT {a: 1}, [1, 2] FROM t',
  'SELECT a FROM t; ; SELECT b',
  'SELECT',
  '',
  ';',
  'SELECT * , * FROM t',
  'SELECT t.* , u . * FROM t JOIN u ON t.a = u.a LEFT OUTER JOIN v USING (a) CROSS JOIN w',
  'SELECT a FROM t WINDOW w AS (ORDER BY a) QUALIFY ROW_NUMBER() OVER w = 1',
  "SELECT OBJECT_CONSTRUCT_KEEP_NULL('k', a), TO_JSON(b), SHA2(c, 256), DATE_PART(EPOCH_MILLISECOND, d) FROM t",
  'SELECT TO_JSON_STRING(STRUCT(a AS b)), SAFE_CAST(c AS STRING), `p.d.t`.col FROM `p.d.t`',
  'SELECT a FROM t WHERE b = -- c\n 1 AND CASE WHEN x THEN y END',
  // Not SQL sql-formatter reads; the hand parser must leave these to it.
  'SELECT CASE WHEN a THEN 1',
  'SELECT (a',
  'SELECT a)',
  'SELECT BETWEEN 1',
  'SELECT a.1',
  'SELECT x FROM t LIMIT 1,',
  'SELECT CASE WHEN a THEN 1 END.b',
];

describe('the hand-built syntax tree of sql-formatter', () => {
  it('is nearley’s for every rule of the grammar, and the text is what sql-formatter writes', () => {
    const seen = new Set<string>();
    for (const language of Object.keys(languages) as Language[]) {
      for (const sql of cases) {
        const v = verdict(language, sql);
        seen.add(v);
        expect(['same', 'refused'], `${language}: ${sql}`).toContain(v);
        expect(ours(language, sql), `${language}: ${sql}`).toBe(published(language, sql));
      }
    }
    expect([...seen].sort()).toEqual(['refused', 'same']);
  });

  it('is nearley’s for random texts', () => {
    // Fragments of each kind of token, so that every rule and most wrong orders are met.
    const fragments = [
      'SELECT',
      '*',
      'a',
      '"b"',
      't.c',
      '.',
      ',',
      '(',
      ')',
      '[',
      ']',
      'CASE',
      'WHEN',
      'THEN',
      'ELSE',
      'END',
      'BETWEEN',
      'AND',
      'OR',
      'LIMIT',
      'FROM',
      'WHERE',
      'UNION ALL',
      'COUNT(',
      'CAST(',
      'AS',
      'VARCHAR(',
      '1',
      "'s'",
      '-- c\n',
      '/* b */',
      '+',
      '=',
      ';',
      'NOT',
      'IN',
      'NULL',
      'arr[',
      'JOIN',
      'ON',
      ':n',
      '$1',
    ];
    // A fixed seed: the same texts on every run.
    let seed = 20261203;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const counts = new Map<string, number>();
    for (const language of Object.keys(languages) as Language[]) {
      for (let k = 0; k < 250; k++) {
        const sql = Array.from({ length: 1 + random(14) }, () => fragments[random(fragments.length)]).join(' ');
        const v = verdict(language, sql);
        counts.set(v, (counts.get(v) ?? 0) + 1);
        expect(['same', 'refused'], `${language}: ${JSON.stringify(sql)}`).toContain(v);
      }
    }
    // Random texts are mostly not SQL; enough of them are for the comparison to mean something.
    expect(counts.get('same')).toBeGreaterThan(75);
  });
});
