/**
 * Names within each warehouse's limit: the state tables an API sync keeps (and its temporary
 * change set) are named after the sync, shortened with a hash where the name would be longer
 * than the warehouse keeps (63 bytes on Postgres), so a long sync name runs; names a user
 * writes over the limit are the checker's errors
 * (test/fixtures/invalid/088-names-over-the-engine-limit.sync).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialectNames, getDialect } from '../src/dialect/index.js';
import { generatedName, nameLength } from '../src/dialect/quote.js';
import { compileText, runSync, sql } from './servers/run-harness.js';
import { scratchEngines } from './servers/scratch-db.js';
import { startWebhook } from './servers/webhook.js';

describe('generated names', () => {
  it('are kept whole within the limit, else cut with a hash: distinct, deterministic, within the limit', () => {
    for (const dialect of dialectNames) {
      const spec = getDialect(dialect);
      const limit = spec.identifiers.maxLength.table;
      expect(generatedName(spec, 'table', 'users_to_crm', '_snapshot')).toBe('users_to_crm_snapshot');
      // The suffixes of an API sync's tables (src/plan/api-changes.ts).
      const suffixes = ['_snapshot', '_accepted_rows', '_changes'];
      for (const base of ['s'.repeat(limit), `${'é'.repeat(limit)}`, `${'x'.repeat(limit - 9)}`]) {
        const names = suffixes.map((suffix) => generatedName(spec, 'table', base, suffix));
        expect(new Set(names).size).toBe(3);
        for (const [i, suffix] of suffixes.entries()) {
          expect(nameLength(spec, names[i]!)).toBeLessThanOrEqual(limit);
          expect(names[i]!.endsWith(suffix)).toBe(true);
          expect(generatedName(spec, 'table', base, suffix)).toBe(names[i]);
        }
        // Two bases that share their start get different names.
        expect(generatedName(spec, 'table', `${base}a`, '_snapshot')).not.toBe(generatedName(spec, 'table', `${base}b`, '_snapshot'));
      }
    }
  });
});

const longName = `new_paying_customers_from_the_billing_system_to_the_crm_webhook_${'x'.repeat(8)}`;

for (const engine of scratchEngines) {
  describe(`a sync named with ${longName.length} characters [${engine.name}]`, () => {
    it('runs: its state tables and change set are named within the limit, a rerun sends nothing, a new row sends one', async () => {
      const db = await engine.open();
      const hook = await startWebhook();
      try {
        await sql(
          db,
          `CREATE SCHEMA shop; CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text);
          INSERT INTO shop.customers VALUES (1, 'a@x.test'), (2, 'b@x.test'), (3, 'c@x.test');`,
        );
        const build = await compileText(`
source shop : postgres { database "shop" }
model customers {
  from shop
  table shop.customers
  primary key id
  columns { id bigint  email string }
}
destination hook : webhook { url "https://crm.example.com/hooks" }
sync ${longName} {
  from customers
  to hook
  mode insert
  identifier id -> id
  map { email -> email }
}
`);
        const run = () => runSync(db, build, longName, { endpoints: { hook: hook.api.url } });
        const first = await run();
        expect(first, JSON.stringify(first.rejected?.slice(0, 2) ?? first.error)).toMatchObject({ status: 'ok', operations: { post: 3 } });
        // The snapshot, the accepted rows and the keys of the deliveries (a webhook's Idempotency-Key) in the state
        // schema; the change set, a temporary table of the run's session, is gone with it: its name is read from changes.sql.
        const [tables] = await sql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'syncwright' ORDER BY 1");
        const changes = /CREATE TEMPORARY TABLE pg_temp\."([^"]+)"/.exec(readFileSync(join(build, longName, 'changes.sql'), 'utf8'))?.[1];
        const names = [...tables!.map((t) => String(t.tablename)), changes ?? ''];
        for (const n of names) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
        expect(names.map((n) => /_(snapshot|accepted_rows|changes|keys)$/.exec(n)?.[1]).sort()).toEqual(['accepted_rows', 'changes', 'keys', 'snapshot']);
        expect(names.every((n) => n.startsWith('new_paying_customers_from_the_billing'))).toBe(true);
        expect(await run()).toMatchObject({ status: 'ok', operations: {} });
        await sql(db, "INSERT INTO shop.customers VALUES (4, 'd@x.test')");
        expect(await run()).toMatchObject({ status: 'ok', operations: { post: 1 } });
        expect(hook.deliveries).toHaveLength(4);
      } finally {
        await hook.api.close();
        await db.drop();
      }
    });
  });
}
