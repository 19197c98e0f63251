/**
 * changes.sql, read.sql and commit.sql in every source dialect: golden files side by side, and
 * Snowflake/BigQuery parsed by sqlfluff (they cannot be executed here; Postgres is executed in
 * api-changes.test.ts). Update the goldens with `npx vitest run test/api-dialects.test.ts -u`.
 */
import { describe, expect, it } from 'vitest';
import { compileSync } from './fixtures/api/compile.js';
import { describeWithSqlfluff, parseManyWithSqlfluff } from './support/sqlfluff.js';
import type { Dialect } from '../src/check/model.js';
import { apiSqlDialect } from '../src/emit/api-dialect.js';

const sources: Record<Dialect, string> = {
  postgres: 'source wh : postgres { database "app" version 16 }',
  snowflake: 'source wh : snowflake { account "acme-prod" database "ANALYTICS" state_schema "SYNC_STATE" }',
  bigquery: 'source wh : bigquery { project "acme-analytics" }',
};

const body = `
model users {
  from wh
  table analytics.dim_users
  primary key user_id
  order by updated_at desc, user_id
  columns { user_id bigint email string phone string? plan string ltv decimal(12, 2) "Signup Date" date? updated_at timestamp }
}
audience whales { from users where ltv >= 1000 and (plan != 'free' or \`Signup Date\` < date '2024-01-01') }
destination meta : facebook_ads { ad_account "act_1" token env("META_TOKEN") }
destination google : google_ads { customer_id "1234567890" developer_token env("D") client_id "c" client_secret env("S") refresh_token env("R") }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
destination hook : webhook { url "https://hooks.acme.com" }
sync whales_meta { from whales to meta audience "Whales" mode mirror identifier email -> EMAIL hashed map { phone -> PHONE hashed  plan -> CT hashed } guard allow empty }
sync whales_google { from whales to google audience "Whales" mode add identifier email -> hashedEmail hashed }
sync users_crm { from users to crm object contacts mode mirror identifier email -> email map { plan -> plan_tier ltv -> "lifetime value" "Signup Date" -> signup_date updated_at -> last_seen } }
sync users_hook { from users to hook mode insert message """{ "email": {{json email}}, "plan": {{json plan}} }""" }
destination mp : mixpanel { project_token env("MIXPANEL_TOKEN") api_secret env("MIXPANEL_SECRET") }
sync users_mixpanel { from users to mp event "Seen" mode insert identifier user_id -> distinct_id map { updated_at -> time "Signup Date" -> signed_up_on } }
`;

const syncs = ['whales_meta', 'whales_google', 'users_crm', 'users_hook', 'users_mixpanel'];
const dialects = Object.keys(sources) as Dialect[];

const compiled = dialects.flatMap((dialect) =>
  syncs.flatMap((sync) => compileSync(`${sources[dialect]}\n${body}`, sync).files.map((f) => ({ dialect, sync, ...f }))),
);

describe('change set SQL per dialect', () => {
  it.each(compiled.map((f) => [`${f.dialect} ${f.sync} ${f.name}`, f] as const))('%s', async (_, f) => {
    await expect(f.content).toMatchFileSnapshot(`golden/api/sql/${f.dialect}/${f.sync}/${f.name}`);
  });

  it('drops commit.sql only where there is no identifier', () => {
    const commits = compiled.filter((f) => f.name === 'commit.sql').map((f) => f.sync);
    expect(new Set(commits)).toEqual(new Set(['whales_meta', 'whales_google', 'users_crm', 'users_mixpanel']));
  });
});

describeWithSqlfluff('sqlfluff parses the change set SQL', () => {
  const checked = compiled.filter((f) => f.dialect !== 'postgres' && f.name !== 'read.sql');
  it('has no unparsable section in any Snowflake or BigQuery file', async () => {
    const results = await parseManyWithSqlfluff(checked.map((f) => ({ sql: f.content, dialect: f.dialect as 'snowflake' | 'bigquery' })));
    const failures = results.flatMap((r, i) => r.unparsable.map((u) => `${checked[i]!.dialect} ${checked[i]!.sync}/${checked[i]!.name}:${u.line}: ${u.text}`));
    expect(failures).toEqual([]);
    for (const r of results) expect(r.statements.length).toBeGreaterThan(0);
  }, 600_000);

  // Each snippet on its own, one small statement per dialect: every step a change set may chain.
  it('parses every normalisation step and value encoding of Snowflake and BigQuery', async () => {
    const snippetSql = (dialect: 'snowflake' | 'bigquery') => {
      const d = apiSqlDialect(dialect);
      const steps = Object.values(d.snippets.normalise).map((s) => d.fill(s, { v: '"t"."v"' }));
      const encodings = Object.values(d.snippets.encode).flatMap((byType) => Object.values(byType).map((s) => d.fill(s, { v: '"t"."v"' })));
      return `SELECT ${[...steps, ...encodings, d.fill(d.snippets.emptyIfNull, { v: '"t"."v"' })].map((e, i) => `${e} AS a${i}`).join(',\n  ')}\nFROM t;`.replaceAll(
        '"',
        dialect === 'bigquery' ? '`' : '"',
      );
    };
    const results = await parseManyWithSqlfluff((['snowflake', 'bigquery'] as const).map((dialect) => ({ sql: snippetSql(dialect), dialect })));
    expect(results.flatMap((r) => r.unparsable)).toEqual([]);
  }, 600_000);
});
