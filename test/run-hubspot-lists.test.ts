// A HubSpot list kept equal to an audience: the compiled plan run by the executor against a
// local HubSpot on 127.0.0.1 (lists API v3 and contacts batch endpoints), on every engine the
// tests have. The list is found or created, entering contacts are upserted and added, leaving
// ones are looked up by email and removed.
import { expect, it } from 'vitest';
import { startHubspot } from './servers/hubspot.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL, score int NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END, g FROM generate_series(1, 150) g;`;
const paying = (ids: number[]) =>
  ids
    .filter((i) => i % 3 !== 0)
    .map((i) => `user${i}@example.com`)
    .sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const build = await compileFixture('test/fixtures/run/hubspot-lists');
const env = { HUBSPOT_TOKEN: 'hs-test-token' };

perEngine(
  'hubspot list',
  people,
  () => startHubspot({ token: env.HUBSPOT_TOKEN }),
  ({ db, service: hubspot }) => {
    const run = () => runSync(db(), build, 'paying_to_hubspot_list', { env, endpoints: { crm: hubspot().api.url } });
    const paths = (from = 0) =>
      hubspot()
        .api.requests.slice(from)
        .map((q) => `${q.method} ${q.path}`);

    it('first run creates the list, upserts the contacts of the audience and adds them', async () => {
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 100, removed: 0 } });
      expect(hubspot().lists.map((l) => [l.name, l.objectTypeId, l.processingType])).toEqual([['Paying', '0-1', 'MANUAL']]);
      expect(hubspot().listEmails('Paying')).toEqual(paying(range(1, 150)));
      expect(paths()).toEqual([
        'GET /crm/v3/lists/object-type-id/0-1/name/Paying',
        'POST /crm/v3/lists',
        'POST /crm/v3/objects/contacts/batch/upsert',
        `PUT /crm/v3/lists/${hubspot().lists[0]!.listId}/memberships/add`,
      ]);
      expect(hubspot().api.requests.every((q) => q.headers.authorization === 'Bearer hs-test-token')).toBe(true);
    });

    it('a second run sends nothing, not even the list lookup', async () => {
      const before = hubspot().api.requests.length;
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 100 } });
      expect(paths(before)).toEqual([]);
      expect(hubspot().lists).toHaveLength(1);
    });

    it('rows leaving the audience are looked up by email and removed from the list; entering ones added', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2, 4); UPDATE crm.people SET plan = 'pro' WHERE id = 3;`);
      const before = hubspot().api.requests.length;
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 1, removed: 3 } });
      const listId = hubspot().lists[0]!.listId;
      expect(paths(before).sort()).toEqual(
        [
          'GET /crm/v3/lists/object-type-id/0-1/name/Paying',
          'POST /crm/v3/objects/contacts/batch/upsert',
          `PUT /crm/v3/lists/${listId}/memberships/add`,
          'POST /crm/v3/objects/contacts/batch/read',
          `PUT /crm/v3/lists/${listId}/memberships/remove`,
        ].sort(),
      );
      expect(hubspot().listEmails('Paying')).toEqual([...paying(range(5, 150)), 'user3@example.com'].sort());
      // Leaving the list does not delete the contact.
      expect(hubspot().find('contacts', 'email', 'user1@example.com')).toBeDefined();
    });

    it('a leaving member whose email was changed in HubSpot is not found by it, and is removed by the contact id its add recorded', async () => {
      const contact = hubspot().find('contacts', 'email', 'user8@example.com')!;
      contact.properties.email = 'renamed8@example.com';
      expect(hubspot().listEmails('Paying')).toContain('renamed8@example.com');
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id = 8`);
      expect(await run()).toMatchObject({ status: 'ok', rejectedTotal: 0, changes: { removed: 1 } });
      expect(hubspot().listEmails('Paying')).not.toContain('renamed8@example.com');
    });

    it('a leaving member whose contact is gone from HubSpot is off the list already: removed, and not sent again', async () => {
      const contact = hubspot().find('contacts', 'email', 'user5@example.com')!;
      // Deleted in HubSpot (by hand, or merged away): it leaves its lists with it.
      hubspot().objects.get('contacts')!.delete(contact.id);
      for (const l of hubspot().lists) l.members.delete(contact.id);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (5, 7)`);
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', rejectedTotal: 0, changes: { removed: 2 } });
      expect(hubspot().listEmails('Paying')).not.toContain('user7@example.com');
      const before = hubspot().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 } });
      expect(paths(before)).toEqual([]);
    });

    it('an entering contact the list says it has no record of (recordIdsMissing) is refused, not committed, and added by the next run', async () => {
      // The contact goes (merged away, deleted) between its upsert and its add: HubSpot ignores the id and names it missing.
      hubspot().api.failWhen((req) => {
        if (req.path.endsWith('/memberships/add')) {
          const contact = hubspot().find('contacts', 'email', 'user6@example.com');
          if (contact) hubspot().objects.get('contacts')!.delete(contact.id);
        }
        return undefined;
      });
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
      const r = await run();
      hubspot().api.failWhen(undefined);
      expect(r).toMatchObject({ rejectedTotal: 1, changes: { added: 1 } });
      expect(r.rejected[0]).toMatchObject({ key: 'user6@example.com', operation: 'add_members' });
      expect(hubspot().listEmails('Paying')).not.toContain('user6@example.com');
      const again = await run();
      expect(again).toMatchObject({ status: 'ok', rejectedTotal: 0, changes: { added: 1 } });
      expect(hubspot().listEmails('Paying')).toContain('user6@example.com');
    });
  },
);
