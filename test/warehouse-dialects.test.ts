// Snowflake and BigQuery SQL we cannot execute here: parsed by sqlfluff for its dialect, and
// checked against each engine's own rules. Postgres SQL is executed (warehouse-postgres.test.ts).
import { describe, expect, it } from 'vitest';
import { describeWithSqlfluff, parseManyWithSqlfluff } from './support/sqlfluff.js';
import { compileText, statements } from './fixtures/warehouse/compile.js';
import { audienceModes, audienceSync, crossProject, project, recordModes, recordSync } from './fixtures/warehouse/dialects.js';
import type { Dialect } from '../src/check/model.js';
import { getDialect, dialectNames } from '../src/dialect/index.js';
import { quoteIdent, quoteLiteral } from '../src/dialect/quote.js';

const syncs = [...recordModes.map((m) => recordSync(m)), recordSync('insert', false), ...audienceModes.map((m) => audienceSync(m))];
const scripts = (dialect: Dialect, options = {}) => syncs.map((s) => compileText(project(dialect, s), options)[0]!.files[0]!.content);

/**
 * sqlfluff 1.4.5 has no grammar for Snowflake's EXECUTE IMMEDIATE, which runs the Snowflake
 * Scripting block that raises a guard's error (https://docs.snowflake.com/en/sql-reference/sql/execute-immediate,
 * https://docs.snowflake.com/en/developer-guide/snowflake-scripting/raise). That block is the
 * only section it may leave unparsed, and it holds just one IF and one RAISE.
 */
const snowflakeGuard =
  /^EXECUTE IMMEDIATE \$\$\nDECLARE\n {2}guard_tripped EXCEPTION \(-20001, '[^\n]*'\);\nBEGIN\n {2}IF \(EXISTS \(SELECT 1 FROM "sw_summary" WHERE [^\n]*\)\) THEN\n {4}RAISE guard_tripped;\n {2}END IF;\nEND;\n\$\$;?$/;

describeWithSqlfluff('generated Snowflake and BigQuery SQL parses under sqlfluff', () => {
  it('parses every mode, the cross-warehouse files included', { timeout: 600_000 }, async () => {
    const inputs: { sql: string; dialect: 'snowflake' | 'bigquery' }[] = [
      ...scripts('snowflake').map((sql) => ({ sql, dialect: 'snowflake' as const })),
      ...scripts('bigquery').map((sql) => ({ sql, dialect: 'bigquery' as const })),
    ];
    for (const [from, to] of [
      ['postgres', 'snowflake'],
      ['snowflake', 'bigquery'],
      ['bigquery', 'snowflake'],
    ] as const) {
      for (const f of compileText(crossProject(from, to))[0]!.files) {
        const dialect = f.name === 'extract.sql' ? from : to;
        if (dialect !== 'postgres') inputs.push({ sql: f.content, dialect });
      }
    }
    // The statements that check a target before its script, a bound value where each `?` is (sqlfluff takes no Snowflake placeholder).
    for (const dialect of ['snowflake', 'bigquery'] as const) {
      const { targetExists, targetColumns, targetRequired } = getDialect(dialect).session!;
      const catalog = dialect === 'bigquery' ? '`acme.crm.INFORMATION_SCHEMA`' : '"DW".INFORMATION_SCHEMA';
      for (const sql of [targetExists, targetColumns, targetRequired])
        inputs.push({ sql: `${sql!.replaceAll('{{catalog}}', catalog).replaceAll('?', "'x'")};`, dialect });
    }
    const results = await parseManyWithSqlfluff(inputs);
    results.forEach((r, i) => {
      const { dialect, sql } = inputs[i]!;
      const allowed = dialect === 'snowflake' ? r.unparsable.filter((u) => snowflakeGuard.test(u.text)) : [];
      expect(
        r.unparsable.filter((u) => !allowed.includes(u)),
        `${dialect} input ${i}:\n${sql}`,
      ).toEqual([]);
      expect(r.raw).not.toBeNull();
    });
    // The guard blocks are the only exception, and mirror/remove scripts do have them.
    expect(results.some((r) => r.unparsable.length > 0)).toBe(true);
  });
});

describe('engine rules', () => {
  it("Snowflake's target check gives a decimal written without a scale the benefit of the doubt by the very type the dialect makes it", () => {
    const snowflake = getDialect('snowflake');
    expect(snowflake.session!.targetColumns).toContain(`"e".VALUE:type::VARCHAR <> '${snowflake.types.decimal}'`);
  });

  it('Snowflake: temporary tables are created before BEGIN, since DDL commits', () => {
    for (const sql of scripts('snowflake')) {
      const stmts = statements(sql);
      const begin = stmts.indexOf('BEGIN TRANSACTION');
      expect(begin).toBeGreaterThan(0);
      stmts.forEach((s, i) => {
        if (/^CREATE\b/.test(s)) expect(i).toBeLessThan(begin);
      });
      expect(stmts.slice(begin).some((s) => /^(CREATE|DROP|ALTER)\b/.test(s))).toBe(false);
      expect(stmts.at(-1)).toBe('COMMIT');
      // Before anything it reads: run by snowsql or Airflow, the session is the account's zone otherwise.
      expect(stmts[0]).toBe("ALTER SESSION SET TIMEZONE = 'UTC'");
    }
  });

  it("every dialect deletes the change set's rows by key: no NOT MATCHED BY SOURCE, which would need every staged row again", () => {
    for (const d of ['postgres', 'snowflake', 'bigquery'] as const) expect(scripts(d).join('\n')).not.toMatch(/BY SOURCE/);
    const mirror = compileText(project('snowflake', recordSync('mirror')))[0]!.files[0]!.content;
    // The anti-join is the FULL OUTER JOIN of the model's ranked rows with the target that builds the change set; the DELETEs read it.
    expect(mirror).toMatch(/\) AS "s"\s+FULL OUTER JOIN "CRM"."USERS" AS "t" ON "s"."ID" = "t"."ID"/);
    expect(mirror).toMatch(/DELETE FROM "CRM"."USERS" AS "t"\s+WHERE\s+"t"."ID" IN \(\s+SELECT\s+"c"."sw_target_key"/);
    expect(mirror).toMatch(/DELETE FROM "CRM"."USERS" AS "t"\s+WHERE\s+"t"."ID" IS NULL\s+AND EXISTS \(/);
  });

  it('Snowflake: bare names fold to upper case, quoted ones stay exact', () => {
    const sql = compileText(project('snowflake', recordSync('upsert')))[0]!.files[0]!.content;
    expect(sql).toContain('"ANALYTICS"."USERS"');
    expect(sql).toContain('"m"."Full Name"');
    expect(sql).toContain('AS "FULL_NAME"');
    expect(sql).toContain('MERGE INTO "CRM"."USERS" AS "t"');
  });

  it('BigQuery: backtick quoting; a staging table only for appends', () => {
    for (const sql of scripts('bigquery')) {
      const body = sql.replace(/^--.*$/gm, '').replace(/'(?:[^'\\]|\\.)*'/g, "''");
      expect(body).not.toContain('"');
      expect(body).toMatch(/`sw_(stage|changes)`/);
    }
    expect(compileText(project('bigquery', recordSync('insert', false)))[0]!.files[0]!.content).toMatch(/CREATE TEMP TABLE `sw_stage`/);
    expect(compileText(project('bigquery', recordSync('mirror')))[0]!.files[0]!.content).not.toMatch(/sw_stage/);
  });

  it('Postgres: the same SQL on every version, one advisory lock per sync', () => {
    // So the scripts are executed and kept as golden files for the default version only.
    const every = scripts('postgres', { postgresVersion: 15 });
    for (const v of [16, 17, 18]) expect(scripts('postgres', { postgresVersion: v })).toEqual(every);
    const at = (v: number) => compileText(project('postgres', recordSync('mirror')), { postgresVersion: v })[0]!.files[0]!.content;
    expect(at(15)).toMatch(/DELETE FROM\s+"crm"."users" AS "t"/);
    expect(at(15)).toMatch(/^BEGIN;\n\nSELECT\n {2}PG_ADVISORY_XACT_LOCK\(-?\d+\);/m);
  });

  it('the version setting is recorded in plan.json unless --postgres-version overrides it', () => {
    const text = project('postgres', recordSync('mirror')).replace('database "acme"', 'database "acme" version 17');
    expect(compileText(text)[0]!.plan.source.version).toBe(17);
    expect(compileText(text, { postgresVersion: 16 })[0]!.plan.source.version).toBe(16);
  });

  it("the order that keeps one row per identifier says where NULLs go in each term after the identifier: the engine's own default differs (BigQuery's puts them first, and so may a Snowflake account's)", () => {
    // Ranked per identifier, the first row is kept: the model's order by (sw_o0, desc), then each column ascending, NULLs last.
    // Postgres keeps the last row before the next identifier: the same order reversed, NULLs first.
    const orders = {
      snowflake: [/PARTITION BY\s+\S+\s+ORDER BY\s+([\s\S]*?)\s*\) AS "sw_rn"/, 'DESC NULLS LAST', 'ASC NULLS LAST'],
      bigquery: [/PARTITION BY\s+\S+\s+ORDER BY\s+([\s\S]*?)\s*\) AS `sw_rn`/, 'DESC NULLS LAST', 'ASC NULLS LAST'],
      postgres: [/ORDER BY\s+"r"."sw_c0",\s+([\s\S]*?) ROWS UNBOUNDED PRECEDING/, 'ASC NULLS FIRST', 'DESC NULLS FIRST'],
    } as const;
    for (const [d, [order, modelOrder, column]] of Object.entries(orders)) {
      let terms = 0;
      for (const sql of scripts(d as Dialect)) {
        const found = order.exec(sql)?.[1]?.split(',');
        // Every script that picks among duplicates (all but insert without identifier) has the order.
        expect(found !== undefined, d).toBe(/sw_rn|sw_next_key/.test(sql));
        for (const term of found ?? []) {
          terms++;
          expect(term.trim(), d).toMatch(new RegExp(`^.+ ${/sw_o\d/.test(term) ? modelOrder : column}$`));
        }
      }
      expect(terms, d).toBe(28);
    }
  });

  it('hashing per dialect, over the trimmed (and, for emails, lower-cased) value, an empty one left NULL', () => {
    const hashOf = (d: Dialect) => compileText(project(d, recordSync('upsert')))[0]!.files[0]!.content;
    expect(hashOf('postgres')).toMatch(
      /ENCODE\(\s*SHA256\(\s*CONVERT_TO\(\s*NULLIF\(\s*CASE\s+WHEN strpos\(btrim\("m"."email"\), '@'\) > 0 THEN lower\(btrim\("m"."email"\) COLLATE "default"\)\s+ELSE btrim\("m"."email"\)\s+END,\s*''\s*\)/,
    );
    expect(hashOf('snowflake')).toMatch(
      /SHA2\(\s*NULLIF\(\s*CASE\s+WHEN CONTAINS\(TRIM\("m"."EMAIL"\), '@'\) THEN LOWER\(TRIM\("m"."EMAIL"\)\)[\s\S]*?,\s*''\s*\)\s*\)/,
    );
    expect(hashOf('bigquery')).toMatch(
      /TO_HEX\(\s*SHA256\(\s*NULLIF\(\s*CASE\s+WHEN STRPOS\(TRIM\(`m`.`email`, ' '\), '@'\) > 0 THEN LOWER\(TRIM\(`m`.`email`, ' '\)\)/,
    );
  });
});

describe('quoting and literals, for every dialect', () => {
  const hostile = [
    'a"b',
    'a`b',
    "a'b",
    'a\\b',
    '\\',
    '"; drop table x; --',
    "'; drop table x; --",
    'line\nbreak',
    'Mixed Case',
    'select',
    '$$ $guard$',
    '/* -- */',
    'Zoë ✓ 𝔘',
  ];
  const unquoteIdent: Record<Dialect, (q: string) => string> = {
    postgres: (q) => q.slice(1, -1).replace(/""/g, '"'),
    snowflake: (q) => q.slice(1, -1).replace(/""/g, '"'),
    bigquery: (q) => q.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r' })[c] ?? c),
  };
  // What each engine reads: Postgres E'...' takes backslash escapes, '...' none (whatever standard_conforming_strings says of E'' it is the same).
  const unquoteLiteral: Record<Dialect, (q: string) => string> = {
    postgres: (q) => (q.startsWith("E'") ? q.slice(2, -1).replace(/''|\\\\/g, (m) => m[0]!) : q.slice(1, -1).replace(/''/g, "'")),
    snowflake: (q) => q.slice(1, -1).replace(/''|\\x00|\\\\/g, (m) => (m === '\\x00' ? '\0' : m[0]!)),
    bigquery: (q) => q.slice(1, -1).replace(/\\x00|\\(.)/g, (m, c: string) => (m === '\\x00' ? '\0' : ({ n: '\n', r: '\r' }[c] ?? c))),
  };
  for (const name of dialectNames) {
    it(`${name}: names and strings survive quoting and never close their quotes early`, () => {
      const spec = getDialect(name);
      for (const text of hostile) {
        const id = quoteIdent(spec, text);
        expect(unquoteIdent[name](id)).toBe(text);
        const inner = id.slice(1, -1);
        // A quote character inside is always escaped.
        expect(inner.replace(/""|\\./g, '')).not.toContain(spec.identifiers.quote[1]);
        const lit = quoteLiteral(spec, text);
        expect(unquoteLiteral[name](lit)).toBe(text);
        const body = lit.slice(lit.indexOf("'") + 1, -1);
        expect(body.replace(/''|\\./g, '')).not.toContain("'");
        // A backslash never stands alone where it could escape: doubled, or in a form that reads it as itself.
        if (name !== 'postgres' || lit.startsWith("E'")) expect(body.replace(/\\./g, '')).not.toContain('\\');
        else expect(body).not.toContain('\\');
      }
    });
  }
  it("BigQuery literals escape newlines and backslashes; Snowflake doubles backslashes; Postgres writes E'' where a backslash is", () => {
    expect(quoteLiteral(getDialect('bigquery'), "a\\'\nb")).toBe("'a\\\\\\'\\nb'");
    expect(quoteLiteral(getDialect('snowflake'), "a\\'b")).toBe("'a\\\\''b'");
    expect(quoteLiteral(getDialect('postgres'), "a\\'b")).toBe("E'a\\\\''b'");
    expect(quoteLiteral(getDialect('postgres'), "a'b")).toBe("'a''b'");
  });
  // Trojan Source: a `\u202E` escape in a .sync string shows as six characters there; raw in the SQL under review, it reorders the line.
  it('a bidirectional control character is written as its escape, so the SQL shows in the order it reads', () => {
    const text = "x\u202Ey' \u2066z\u2069 \u202A\u202B\u202C\u202D\u2067\u2068";
    const escapes = "x\\u202Ey' \\u2066z\\u2069 \\u202A\\u202B\\u202C\\u202D\\u2067\\u2068";
    expect(quoteLiteral(getDialect('postgres'), text)).toBe(`E'${escapes.replace("'", "''")}'`);
    expect(quoteLiteral(getDialect('snowflake'), text)).toBe(`'${escapes.replace("'", "''")}'`);
    expect(quoteLiteral(getDialect('bigquery'), text)).toBe(`'${escapes.replace("'", "\\'")}'`);
    expect(quoteLiteral(getDialect('postgres'), 'a\\\u202Eb')).toBe("E'a\\\\\\u202Eb'");
  });
  it('a NUL: Snowflake and BigQuery write its escape, Postgres refuses it (the checker reports it before)', () => {
    expect(quoteLiteral(getDialect('snowflake'), 'a\0b')).toBe("'a\\x00b'");
    expect(quoteLiteral(getDialect('bigquery'), 'a\0b')).toBe("'a\\x00b'");
    expect(() => quoteLiteral(getDialect('postgres'), 'a\0b')).toThrow('U+0000');
    for (const name of dialectNames) expect(() => quoteIdent(getDialect(name), 'a\0b')).toThrow('U+0000');
    expect(() => quoteLiteral(getDialect('bigquery'), 'a\ud800b')).toThrow('surrogate');
  });
});
