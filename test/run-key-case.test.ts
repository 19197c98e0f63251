// Identifiers the destination compares without case (HubSpot contact emails, Salesforce's
// Email), end to end on every engine against local HubSpot and Salesforce: an email that
// changes only in case is the same record, so a mirror never archives, deletes or takes off a
// list what a row still in the model maps to; and a snapshot kept before keys were compared so
// is taken over without removing anything.
import { expect, it } from 'vitest';
import { startHubspot } from './servers/hubspot.js';
import { startSalesforce } from './servers/salesforce.js';
import { compileText, perEngine, runSync, sql } from './servers/run-harness.js';

const build = await compileText(`
source warehouse : postgres { database "app" version 15 }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
destination sf : salesforce {
  instance_url  "https://acme.my.salesforce.com"
  client_id     "consumer-key"
  client_secret env("SF_CLIENT_SECRET")
  refresh_token env("SF_REFRESH_TOKEN")
}
model users { from warehouse  table crm.users  primary key id  columns { id bigint  email string  plan string } }
audience paying { from users where plan <> 'free' }
sync users_to_hubspot { from users to crm object contacts mode mirror identifier email -> email map { plan -> plan_tier } guard deletes <= 50% }
sync paying_to_list { from paying to crm list "Paying" mode mirror identifier email -> email guard deletes <= 50% }
sync users_to_salesforce { from users to sf object Contact mode mirror identifier email -> Email map { plan -> Plan__c } guard deletes <= 50% }
sync paying_to_campaign { from paying to sf list "Paying" mode mirror identifier email -> Email guard deletes <= 50% }
`);

const users = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.users (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.users VALUES (1, 'Ann@Example.com', 'pro'), (2, 'bob@example.com', 'pro'), (3, 'cy@example.com', 'free'),
    (4, 'dan@example.com', 'pro'), (5, 'eve@example.com', 'pro');`;

const snapshotOf = async (db: Parameters<typeof sql>[0], sync: string) =>
  (await sql(db, `SELECT row_key, destination_id FROM syncwright.${sync}_snapshot ORDER BY row_key`))[0] ?? [];

const hubspotEnv = { HUBSPOT_TOKEN: 'hs-test-token' };

perEngine(
  'identifiers HubSpot compares without case',
  users,
  () => startHubspot({ token: hubspotEnv.HUBSPOT_TOKEN }),
  ({ db, service: hubspot }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: hubspotEnv, endpoints: { crm: hubspot().api.url } });
    const contactId = (email: string) => hubspot().find('contacts', 'email', email)?.id;
    const paths = (from: number) =>
      hubspot()
        .api.requests.slice(from)
        .map((q) => `${q.method} ${q.path}`);

    it('first run: every contact upserted, the paying ones on the list', async () => {
      expect(await run('users_to_hubspot')).toMatchObject({ status: 'ok', changes: { added: 5 }, operations: { upsert: 5, archive: 0 } });
      expect(await run('paying_to_list')).toMatchObject({ status: 'ok', changes: { added: 4 } });
      expect(hubspot().records('contacts')).toHaveLength(5);
      expect(hubspot().listEmails('Paying')).toEqual(['ann@example.com', 'bob@example.com', 'dan@example.com', 'eve@example.com']);
    });

    it('an email that changes only in case keeps its contact and its place on the list; a third run sends nothing', async () => {
      const ann = contactId('ann@example.com');
      await sql(db(), `UPDATE crm.users SET email = 'ann@example.com' WHERE id = 1`);
      const before = hubspot().api.requests.length;
      const mirror = await run('users_to_hubspot');
      const list = await run('paying_to_list');
      expect(contactId('ann@example.com')).toBe(ann);
      expect(hubspot().listEmails('Paying')).toContain('ann@example.com');
      expect(mirror).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 5 } });
      expect(list).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 4 } });
      expect(paths(before)).toEqual([]);
      expect(await snapshotOf(db(), 'users_to_hubspot')).toContainEqual({ row_key: 'ann@example.com', destination_id: ann });

      const third = await run('users_to_hubspot');
      expect(third).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 5 } });
      expect(paths(before)).toEqual([]);
    });

    it('two rows whose emails differ only in case are one duplicate key, as they are one contact', async () => {
      await sql(db(), `INSERT INTO crm.users VALUES (6, 'BOB@example.com', 'pro')`);
      const before = hubspot().api.requests.length;
      const r = await run('users_to_hubspot');
      expect(r).toMatchObject({ status: 'ok', changes: { duplicate_keys: 1, added: 0, removed: 0, unchanged: 5 } });
      expect(paths(before)).toEqual([]);
      await sql(db(), `DELETE FROM crm.users WHERE id = 6`);
    });

    it('a snapshot keyed by the model’s case, as earlier versions kept it, is taken over without archiving or taking off anything', async () => {
      const [ann, bob] = [contactId('ann@example.com'), contactId('bob@example.com')];
      // What the earlier comparison left: keys as the model spelled them, Ann's mixed case,
      // and Bob under two spellings (two rows of the model, delivered to his one contact).
      await sql(
        db(),
        ['users_to_hubspot', 'paying_to_list']
          .map(
            (sync) => `UPDATE syncwright.${sync}_snapshot SET row_key = 'Ann@Example.com' WHERE row_key = 'ann@example.com';
          INSERT INTO syncwright.${sync}_snapshot SELECT 'BOB@example.com', payload_hash, destination_id FROM syncwright.${sync}_snapshot WHERE row_key = 'bob@example.com';`,
          )
          .join('\n'),
      );
      const before = hubspot().api.requests.length;
      expect(await run('users_to_hubspot')).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 5 } });
      expect(await run('paying_to_list')).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 4 } });
      expect(paths(before)).toEqual([]);
      expect(hubspot().records('contacts')).toHaveLength(5);

      // Ann leaves, Bob stops paying: each is archived or taken off the list once, by the id kept.
      await sql(db(), `DELETE FROM crm.users WHERE id = 1; UPDATE crm.users SET plan = 'free' WHERE id = 2`);
      const start = hubspot().api.requests.length;
      expect(await run('paying_to_list')).toMatchObject({ status: 'ok', changes: { removed: 2 } });
      expect(await run('users_to_hubspot')).toMatchObject({ status: 'ok', changes: { changed: 1, removed: 1 }, operations: { upsert: 1, archive: 1 } });
      const sent = hubspot().api.requests.slice(start);
      expect(sent.find((q) => q.path.endsWith('/batch/archive'))?.body).toEqual({ inputs: [{ id: ann }] });
      expect(sent.find((q) => q.path.endsWith('/memberships/remove'))?.body).toEqual([ann, bob].sort());
      expect(contactId('ann@example.com')).toBeUndefined();
      expect(contactId('bob@example.com')).toBe(bob);
      expect(hubspot().listEmails('Paying')).toEqual(['dan@example.com', 'eve@example.com']);
      // The keys written before are gone with the rows that replaced or removed them.
      expect((await snapshotOf(db(), 'users_to_hubspot')).map((s) => s.row_key)).toEqual([
        'bob@example.com',
        'cy@example.com',
        'dan@example.com',
        'eve@example.com',
      ]);
      expect((await snapshotOf(db(), 'paying_to_list')).map((s) => s.row_key)).toEqual(['dan@example.com', 'eve@example.com']);
    });
  },
);

const credentials = { clientId: 'consumer-key', clientSecret: 'sf-secret', refreshToken: 'sf-refresh' };
const salesforceEnv = { SF_CLIENT_SECRET: credentials.clientSecret, SF_REFRESH_TOKEN: credentials.refreshToken };

perEngine(
  'the Email Salesforce compares without case',
  users,
  () => startSalesforce(credentials),
  ({ db, service: salesforce }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: salesforceEnv, endpoints: { sf: salesforce().api.url } });
    const contacts = () => [...salesforce().table('Contact').values()].map((c) => c.Email).sort();

    it('an email that changes only in case keeps its contact and its campaign membership; a third run sends nothing', async () => {
      expect(await run('users_to_salesforce')).toMatchObject({ status: 'ok', changes: { added: 5 } });
      // Salesforce matches Email without case but keeps it as sent: a record sync writes it as the model has it.
      expect(contacts()).toEqual(['Ann@Example.com', 'bob@example.com', 'cy@example.com', 'dan@example.com', 'eve@example.com']);
      expect(await run('paying_to_campaign')).toMatchObject({ status: 'ok', changes: { added: 4 } });
      const ann = [...salesforce().table('Contact').values()].find((c) => String(c.Email).toLowerCase() === 'ann@example.com')?.Id;

      await sql(db(), `UPDATE crm.users SET email = 'ann@example.com' WHERE id = 1`);
      const mirror = await run('users_to_salesforce');
      const campaign = await run('paying_to_campaign');
      expect(salesforce().table('Contact').get(String(ann))).toBeDefined();
      // The one contact, written with the new case; nothing deleted or taken off.
      expect(contacts()).toEqual(['ann@example.com', 'bob@example.com', 'cy@example.com', 'dan@example.com', 'eve@example.com']);
      expect(
        salesforce()
          .members('Paying', 'Email')
          .map((e) => String(e).toLowerCase()),
      ).toEqual(['ann@example.com', 'bob@example.com', 'dan@example.com', 'eve@example.com']);
      expect(mirror).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0, changed: 1, unchanged: 4 } });
      expect(campaign).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0, unchanged: 4 } });
      const before = salesforce().api.requests.length;
      expect(await run('users_to_salesforce')).toMatchObject({ status: 'ok', changes: { unchanged: 5 } });
      expect(await run('paying_to_campaign')).toMatchObject({ status: 'ok', changes: { unchanged: 4 } });
      expect(salesforce().api.requests.length).toBe(before);
      expect(salesforce().api.violations).toEqual([]);
    });
  },
);

// Keys as written, whatever the engine's reader or the column's collation: a key beginning with a
// byte-order mark (the embedded database's own reader drops it), and an email column of collation
// "C", whose lower() folds only ASCII while the snapshot's folds by the database's default. Either
// made an unchanged mirror add and archive the same record on every other run.
perEngine(
  'keys as written, whatever the reader or the collation',
  `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.things (code text PRIMARY KEY, name text NOT NULL);
  INSERT INTO crm.things VALUES (U&'\\FEFFA1', 'first'), ('B2', 'second');
  CREATE TABLE crm.leads (id bigint PRIMARY KEY, email text COLLATE "C" NOT NULL, name text NOT NULL);
  INSERT INTO crm.leads VALUES (1, 'ÖZIL@EXAMPLE.COM', 'Mesut'), (2, 'ada@example.com', 'Ada');`,
  () => startHubspot({ token: hubspotEnv.HUBSPOT_TOKEN }),
  ({ db, service: hubspot }) => {
    const written = compileText(`
source warehouse : postgres { database "app" version 15 }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
model things { from warehouse  table crm.things  primary key code  columns { code string  name string } }
model leads { from warehouse  table crm.leads  primary key id  columns { id bigint  email string  name string } }
sync things_mirror { from things  to crm object p_things  mode mirror  identifier code -> code  map { name -> name } }
sync leads_mirror { from leads  to crm object contacts  mode mirror  identifier email -> email  map { name -> firstname } }`);

    it('an unchanged model keeps its records, run after run', async () => {
      for (const [sync, object] of [
        ['things_mirror', 'p_things'],
        ['leads_mirror', 'contacts'],
      ] as const) {
        const runs = [];
        for (let i = 0; i < 3; i++) runs.push(await runSync(db(), await written, sync, { env: hubspotEnv, endpoints: { crm: hubspot().api.url } }));
        expect(runs.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
        expect(runs.slice(1).map((r) => r.changes)).toMatchObject([
          { added: 0, removed: 0 },
          { added: 0, removed: 0 },
        ]);
        expect(hubspot().records(object)).toHaveLength(2);
      }
    });
  },
);
