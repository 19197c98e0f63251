/**
 * sql-formatter's syntax tree built by recursive descent (src/emit/sql-formatter-parse.ts):
 * the same tree as its nearley parser builds, and so the same text, for what a compile writes,
 * for each rule of the grammar with comments in every place it allows them, and for random
 * texts; where the hand parser does not build a tree, nearley is asked.
 */
import { isDeepStrictEqual } from 'node:util';
import { bigquery, formatDialect, postgresql, snowflake } from 'sql-formatter';
import { describe, expect, it } from 'vitest';
import {
  bothTokens,
  bothTrees,
  formatOptions,
  formatSql,
  internalsOf,
  ownTokenizer,
  publishedFormat,
  readVersion,
  sqlFormatterVersion,
  wordLists as lists,
} from '../src/emit/sql-formatter.js';
import { parseStatements } from '../src/emit/sql-formatter-parse.js';
import { replacesExpression, reservedWords } from '../src/emit/sql-formatter-words.js';

const languages = { postgresql, snowflake, bigquery } as const;
type Language = keyof typeof languages;

/** What sql-formatter's public entry point makes of `sql`: its text, or its error's message. */
const published = (language: Language, sql: string) => attempt((l, text) => formatDialect(text, { dialect: languages[l], ...formatOptions }), language, sql);

/** What `format` makes of `sql`: its text, or its error's message. */
function attempt(format: (language: Language, sql: string) => string, language: Language, sql: string): string {
  try {
    return format(language, sql);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const ours = (language: Language, sql: string) => attempt(formatSql, language, sql);

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
  // sql-formatter's disable comments, in each place a comment may be.
  'SELECT /* sql-formatter-disable */ a ,b /* sql-formatter-enable */ , c FROM t',
  'SELECT CASE /* sql-formatter-disable */ x /* sql-formatter-enable */ WHEN 1 THEN 2 END',
  'SELECT a /* sql-formatter-disable */ /* sql-formatter-enable */ . b, x BETWEEN 1 /* sql-formatter-disable */ /* sql-formatter-enable */ AND 2',
  'SELECT f /* sql-formatter-disable */ /* sql-formatter-enable */ (1) FROM t /* sql-formatter-disable */ WHERE   a=1',
  // Not SQL sql-formatter reads; the hand parser must leave these to it.
  'SELECT CASE WHEN a THEN 1',
  'SELECT (a',
  'SELECT a)',
  'SELECT BETWEEN 1',
  'SELECT a.1',
  'SELECT x FROM t LIMIT 1,',
  'SELECT CASE WHEN a THEN 1 END.b',
];

/** Whether the quicker tokenizer gives sql-formatter's tokens of `sql` (or refuses it as sql-formatter's does). */
function sameTokens(language: Language, sql: string): boolean {
  const { quick, own } = bothTokens(language, sql);
  return quick instanceof Error ? own instanceof Error && own.message === quick.message : isDeepStrictEqual(quick, own);
}

describe('the hand-built syntax tree of sql-formatter', () => {
  it('is the tree of the sql-formatter it was written for: another version is used as it is', () => {
    // Bumping sql-formatter fails here: its grammar is to be read again (src/emit/sql-formatter-parse.ts) before readVersion follows.
    expect(sqlFormatterVersion).toBe(readVersion);
    expect(internalsOf('15.6.13')).toBeUndefined();
    // What another version is used through writes what the hand-built trees write.
    for (const language of Object.keys(languages) as Language[]) {
      for (const sql of cases.slice(0, 12)) expect(attempt(publishedFormat, language, sql), `${language}: ${sql}`).toBe(ours(language, sql));
    }
  });

  it('is left to nearley where brackets nest deeper than the stack allows', () => {
    // Far deeper than any stack: sql-formatter's own limit is lower still, so it is its error that is shown.
    const depth = 200_000;
    const token = (type: string, text: string) => ({ type, text, raw: text });
    const tokens = [
      token('RESERVED_SELECT', 'SELECT'),
      ...Array.from({ length: depth }, () => token('OPEN_PAREN', '(')),
      token('NUMBER', '1'),
      ...Array.from({ length: depth }, () => token('CLOSE_PAREN', ')')),
      token('EOF', '«EOF»'),
    ];
    expect(parseStatements(tokens)).toBeUndefined();
    expect(parseStatements([...tokens.slice(0, 3), ...tokens.slice(-3)])).toHaveLength(1);
  });

  it('is nearley’s for every rule of the grammar, and the text is what sql-formatter writes', () => {
    const seen = new Set<string>();
    for (const language of Object.keys(languages) as Language[]) {
      for (const sql of cases) {
        const v = verdict(language, sql);
        seen.add(v);
        expect(['same', 'refused'], `${language}: ${sql}`).toContain(v);
        expect(ours(language, sql), `${language}: ${sql}`).toBe(published(language, sql));
        expect(sameTokens(language, sql), `${language}: ${sql}`).toBe(true);
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
        expect(sameTokens(language, sql), `${language}: ${JSON.stringify(sql)}`).toBe(true);
      }
    }
    // Random texts are mostly not SQL; enough of them are for the comparison to mean something.
    expect(counts.get('same')).toBeGreaterThan(75);
  });
});

describe('reserved words found by look-up', () => {
  // sql-formatter's own tokenizer of each dialect, its expressions as its package builds them.
  const kinds = (Object.keys(languages) as Language[]).flatMap((language) => {
    const { cfg, rulesBeforeParams, rulesAfterParams } = ownTokenizer(language);
    return [...rulesBeforeParams, ...rulesAfterParams]
      .filter((rule) => rule.type in lists)
      .map((rule) => ({ language, rule, words: (cfg[lists[rule.type] ?? ''] ?? []) as string[], identChars: cfg.identChars ?? {} }));
  });

  it('stand in for every reserved-word expression of the three dialects', () => {
    // Postgres has nine kinds with words, Snowflake and BigQuery eight (no data type phrases).
    const replaced = kinds.filter((k) => k.words.length > 0 && replacesExpression(k.rule.regex, k.words, k.identChars));
    expect(replaced.map((k) => `${k.language} ${k.rule.type}`)).toEqual(kinds.filter((k) => k.words.length > 0).map((k) => `${k.language} ${k.rule.type}`));
    expect(replaced.length).toBe(9 + 8 + 8);
    // A list that is not the expression's is not stood in for.
    const [first] = replaced;
    expect(first && replacesExpression(first.rule.regex, first.words.slice(1), first.identChars)).toBe(false);
  });

  it('match what the expressions match, at every position of random texts', () => {
    let seed = 1203;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // Case changed at random, k and s sometimes as the Kelvin sign and the long s, and white space of every kind between parts.
    const spaces = [' ', '  ', '\t', '\n', '\u00a0', '\r\n ', '\u2003'];
    const mangle = (word: string) =>
      [...word]
        .map((c) => {
          if (c === ' ') return spaces[random(spaces.length)];
          if (/[kK]/.test(c) && random(6) === 0) return '\u212a';
          if (/[sS]/.test(c) && random(6) === 0) return '\u017f';
          return random(2) ? c.toLowerCase() : c.toUpperCase();
        })
        .join('');
    const tails = ['', ' ', '$', '-', 'x', '_', '9', '.', '(', '\u0131', '\u00e9', '\u{1f600}', ',', '"', '\u212a'];
    let matched = 0;
    let texts = 0;
    for (const { rule, words, identChars } of kinds) {
      if (words.length === 0) continue;
      const matcher = reservedWords(words, identChars);
      for (let k = 0; k < 60; k++) {
        const parts = Array.from({ length: 1 + random(3) }, () => {
          const word = words[random(words.length)] ?? '';
          // Sometimes a word cut short or run on, so that near misses are met too.
          const cut = random(4) === 0 ? word.slice(0, random(word.length + 1)) : word;
          return mangle(cut) + (tails[random(tails.length)] ?? '');
        });
        // Every tenth text a run of words with no white space, longer than the longest word.
        const text = k % 10 === 0 ? words.slice(0, 40).join('').replaceAll(' ', '') + parts.join(' ') : parts.join(random(2) ? ' ' : '');
        texts++;
        for (let at = 0; at <= text.length; at++) {
          // The tokenizer never starts inside a surrogate pair.
          if (/[\ud800-\udbff]/.test(text[at - 1] ?? '') && /[\udc00-\udfff]/.test(text[at] ?? '')) continue;
          rule.regex.lastIndex = at;
          const expected = rule.regex.exec(text)?.[0] ?? null;
          matcher.lastIndex = at;
          const got = matcher.exec(text)?.[0] ?? null;
          expect(got, `${rule.type} at ${at} of ${JSON.stringify(text)}`).toBe(expected);
          if (expected !== null) matched++;
        }
      }
    }
    // Most positions are inside a word, where nothing matches; a match in every fourth text at least.
    expect(matched).toBeGreaterThan(texts / 4);
  });
});
