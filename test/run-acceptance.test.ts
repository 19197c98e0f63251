// A row is accepted only on a result of its own. A HubSpot mirror keyed on ref -> customer_ref,
// against a local HubSpot batch API that answers 207 Multi-Status (results for the inputs it
// wrote, errors for the others, as HubSpot documents): the API refuses acme-1 and accepts ACME-1.
// acme-1 must stay refused, and when it leaves the model, ACME-1's record must not be archived.
import { expect, it } from 'vitest';
import { startFakeApi, type Recorded, type Reply } from './servers/fake-api.js';
import { compileText, perEngine, runSync, sql } from './servers/run-harness.js';

const project = `
source wh : postgres { database "app" }
model customers {
  from wh
  table crm.customers
  primary key ref
  columns { ref string  name string }
}
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync customers_to_hubspot {
  from       customers
  to         crm object companies
  mode       mirror
  identifier ref -> customer_ref
  map { name -> name }
}
`;

const build = await compileText(project);
const env = { HUBSPOT_TOKEN: 'hs-token' };

/** HubSpot's batch upsert and archive for one object type, with customer_ref a unique, case-sensitive property. */
class Companies {
  readonly records = new Map<string, { id: string; properties: Record<string, string> }>();
  private next = 100;
  refuse = new Set<string>();

  handle(req: Recorded): Reply {
    const inputs = (req.body as { inputs: { id: string; idProperty?: string; properties?: Record<string, string> }[] }).inputs;
    if (req.path.endsWith('/batch/archive')) {
      for (const { id } of inputs) for (const [k, r] of this.records) if (r.id === id) this.records.delete(k);
      return { status: 204 };
    }
    const results = [];
    const errors = [];
    for (const input of inputs) {
      if (this.refuse.has(input.id)) {
        errors.push({
          status: 'error',
          category: 'VALIDATION_ERROR',
          message: `Property values were not valid: customer_ref ${input.id}`,
          context: { ids: [input.id] },
        });
        continue;
      }
      const record = this.records.get(input.id) ?? { id: String(this.next++), properties: {} };
      Object.assign(record.properties, input.properties, { customer_ref: input.id });
      this.records.set(input.id, record);
      results.push({ id: record.id, properties: record.properties });
    }
    return { status: errors.length ? 207 : 200, body: { status: 'COMPLETE', results, ...(errors.length ? { numErrors: errors.length, errors } : {}) } };
  }
}

perEngine(
  'results matched to their own rows',
  `CREATE SCHEMA crm; CREATE TABLE crm.customers (ref text, name text); INSERT INTO crm.customers VALUES ('acme-1', 'Acme (lower)'), ('ACME-1', 'Acme (upper)'), ('zeta', 'Zeta');`,
  async () => {
    const companies = new Companies();
    return Object.assign(companies, { api: await startFakeApi((req) => companies.handle(req)) });
  },
  ({ db, service }) => {
    const run = () => runSync(db(), build, 'customers_to_hubspot', { env, endpoints: { crm: service().api.url } });

    it('a refused row is not accepted on the result of a row whose key differs only in case, and its leaving archives nothing', async () => {
      const hubspot = service();
      hubspot.refuse.add('acme-1');
      const first = await run();
      expect(first.status).toBe('rejected');
      expect(first.rejected).toEqual([
        { key: 'acme-1', change: 'added', operation: 'upsert', fate: 'rejected', reason: 'Property values were not valid: customer_ref acme-1' },
      ]);
      const [snapshot = []] = await sql(db(), 'SELECT row_key, destination_id FROM syncwright.customers_to_hubspot_snapshot ORDER BY row_key');
      expect(snapshot).toEqual([
        { row_key: 'ACME-1', destination_id: hubspot.records.get('ACME-1')?.id },
        { row_key: 'zeta', destination_id: hubspot.records.get('zeta')?.id },
      ]);

      await sql(db(), `DELETE FROM crm.customers WHERE ref = 'acme-1'`);
      const second = await run();
      expect(second).toMatchObject({ status: 'ok', changes: { removed: 0 }, operations: { archive: 0 } });
      expect([...hubspot.records.keys()].sort()).toEqual(['ACME-1', 'zeta']);
    });
  },
);
