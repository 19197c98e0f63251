/**
 * A model's `sql` as people write it: ending with a line comment, with a `;`, with both, with
 * semicolons and comment markers inside strings. The compiled SQL puts the query between
 * parentheses on a line of its own, without its trailing semicolons and without touching
 * anything inside a string or a comment: warehouse and API syncs run on Postgres, and the
 * Snowflake and BigQuery SQL parses.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialectNames, getDialect } from '../src/dialect/index.js';
import { readQuery } from '../src/dialect/sql-text.js';
import { compileText as compileInMemory } from './fixtures/warehouse/compile.js';
import { compileText, execOptions, sql } from './servers/run-harness.js';
import { runPlans } from '../src/run/index.js';
import { scratchEngines } from './servers/scratch-db.js';
import { startWebhook } from './servers/webhook.js';
import { describeWithSqlfluff, parseManyWithSqlfluff } from './support/sqlfluff.js';

describe('reading a model query', () => {
  const body = (dialect: (typeof dialectNames)[number], sql: string) => {
    const r = readQuery(getDialect(dialect), sql);
    return 'body' in r ? r.body : `problem: ${r.problem}`;
  };

  it('drops trailing semicolons, and only those outside strings and comments', () => {
    for (const d of dialectNames) {
      expect(body(d, '  select 1;  \n')).toBe('select 1');
      expect(body(d, 'select 1 ; ;')).toBe('select 1');
      expect(body(d, "select ';' ;")).toBe("select ';'");
      expect(body(d, 'select 1; -- done;')).toBe('select 1 -- done;');
      expect(body(d, 'select 1 /* ; */ ;')).toBe('select 1 /* ; */');
      expect(body(d, "select 'a' -- it's done")).toBe("select 'a' -- it's done");
      expect(body(d, 'select 1; select 2')).toMatch(/^problem: a `;` ends the query/);
      expect(body(d, "select 'x")).toBe("problem: a `'` quoted text is never closed");
      expect(body(d, '-- nothing')).toBe('problem: the query is empty');
    }
  });

  it('reads each dialect its own way', () => {
    // Postgres: E'' strings take backslash escapes, '' strings none; $tag$ bodies; nested comments.
    expect(body('postgres', "select E'\\';' ;")).toBe("select E'\\';'");
    expect(body('postgres', "select '\\' ;")).toBe("select '\\'");
    expect(body('postgres', 'select $f$ ; $f$, $$;$$ ;')).toBe('select $f$ ; $f$, $$;$$');
    expect(body('postgres', 'select 1 /* a /* b */ ; */ ;')).toBe('select 1 /* a /* b */ ; */');
    expect(body('postgres', 'select $1 ;')).toBe('select $1');
    // A line comment ends at a carriage return too, and a non-ASCII letter continues a name: neither hides a `;` any more.
    expect(body('postgres', 'select id from t -- note\r; drop table victim; --')).toMatch(/^problem: a `;` ends the query/);
    expect(body('postgres', 'select 1 as é$a$ from t; drop table victim; select 1 as é$a$')).toMatch(/^problem: a `;` ends the query/);
    expect(body('postgres', 'select 1 as é$a$ from t')).toBe('select 1 as é$a$ from t');
    expect(body('postgres', 'select $é$ $a$ $é$ as x; drop table victim; select $a$ $a$ as y')).toMatch(/^problem: a `;` ends the query/);
    expect(body('postgres', 'select $é$ ; $é$ ;')).toBe('select $é$ ; $é$');
    // Snowflake: backslash escapes in '', // comments, $$ bodies.
    expect(body('snowflake', "select '\\';' ;")).toBe("select '\\';'");
    expect(body('snowflake', 'select 1 // a; comment')).toBe('select 1 // a; comment');
    expect(body('snowflake', 'select $$;$$;')).toBe('select $$;$$');
    // BigQuery: # comments, triple-quoted strings, backtick names.
    expect(body('bigquery', 'select 1 # a; comment')).toBe('select 1 # a; comment');
    expect(body('bigquery', "select ''' ; ' ''' ;")).toBe("select ''' ; ' '''");
    expect(body('bigquery', 'select `a;b` ;')).toBe('select `a;b`');
  });
});

/** Each way of ending a query, read by a warehouse sync and an API sync. */
const endings = {
  line_comment: 'select id, email from shop.customers -- every customer',
  semicolon: 'select id, email from shop.customers;',
  both: "select id, email from shop.customers where email <> ';' ; -- done; really",
  block_comment: 'select id, email from shop.customers /* all; */',
};

const project = (source: string) => `
${source}
${Object.entries(endings)
  .map(
    ([name, query]) => `
model ${name} {
  from wh
  sql """
    ${query}"""
  primary key id
  columns { id bigint  email string }
}
sync ${name}_copy {
  from ${name}
  to wh table shop.${name}
  mode upsert
  identifier id -> id
  map { email -> email }
}
sync ${name}_hook {
  from ${name}
  to hook
  mode insert
  identifier id -> id
  map { email -> email }
}`,
  )
  .join('\n')}
destination hook : webhook { url "https://crm.example.com/hooks" }
`;

for (const engine of scratchEngines) {
  describe(`model queries ending in a comment or a semicolon [${engine.name}]`, () => {
    it('run as warehouse syncs and as API syncs', async () => {
      const db = await engine.open();
      const hook = await startWebhook();
      try {
        await sql(
          db,
          `CREATE SCHEMA shop; CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text);
          INSERT INTO shop.customers VALUES (1, 'a@x.test'), (2, 'b@x.test');
          ${Object.keys(endings)
            .map((n) => `CREATE TABLE shop.${n} (id bigint PRIMARY KEY, email text);`)
            .join('\n')}`,
        );
        const build = await compileText(project('source wh : postgres { database "shop" }'));
        // Every sync in one run: one session of the database.
        const syncs = Object.keys(endings).flatMap((name) => [`${name}_copy`, `${name}_hook`]);
        const databases = { ...(db.url ? { default: db.url } : {}), byName: {}, folder: db.folder ?? '' };
        const report = await runPlans(
          syncs.map((s) => join(build, s, 'plan.json')),
          databases,
          execOptions({ endpoints: { hook: hook.api.url } }),
        );
        for (const [i, sync] of syncs.entries()) {
          const r = report.plans[i]!;
          expect(r.status, `${sync}: ${r.error ?? ''}`).toBe('ok');
          if (sync.endsWith('_hook')) expect(r.operations, sync).toEqual({ post: 2 });
        }
        for (const name of Object.keys(endings)) {
          const [rows] = await sql(db, `SELECT id::int AS id, email FROM shop.${name} ORDER BY id`);
          expect(rows, name).toEqual([
            { id: 1, email: 'a@x.test' },
            { id: 2, email: 'b@x.test' },
          ]);
        }
      } finally {
        await hook.api.close();
        await db.drop();
      }
    });
  });
}

describeWithSqlfluff('model queries ending in a comment or a semicolon, in Snowflake and BigQuery SQL', () => {
  it('parse', { timeout: 600_000 }, async () => {
    const sources = { snowflake: 'source wh : snowflake { account "acme-test" database "SHOP" }', bigquery: 'source wh : bigquery { project "acme-test" }' };
    const files = (['snowflake', 'bigquery'] as const).flatMap((dialect) =>
      // Every ending in a warehouse script; the change set (long, and the same around the query) for one.
      compileInMemory(project(sources[dialect])).flatMap((a) =>
        a.files
          .filter((f) => f.name === 'apply.sql' || (f.name === 'changes.sql' && a.plan.sync.name === 'both_hook'))
          .map((f) => ({ dialect, sql: f.content })),
      ),
    );
    expect(files).toHaveLength(2 * (Object.keys(endings).length + 1));
    const results = await parseManyWithSqlfluff(files);
    results.forEach((r, i) => expect(r.unparsable, files[i]!.sql).toEqual([]));
  });
});
