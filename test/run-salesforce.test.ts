// Salesforce campaign membership end to end against a local Salesforce (OAuth, SOQL, sObject
// Collections), on every engine: a mirror deletes the members it created by the ids their
// creation returned, at most 100 per request (the batch a lookup of ids the snapshot lacks
// takes, in its URL); a remove finds the members of leaving contacts
// by SOQL before deleting them. A contact already a member (DUPLICATE_VALUE) is accepted with
// its member's id, found by SOQL; a member already deleted (ENTITY_IS_DELETED) counts as removed.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startSalesforce } from './servers/salesforce.js';
import { compileFixture, compileText, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 450) g;
  CREATE TABLE crm.customers (id bigint PRIMARY KEY, email text NOT NULL, active boolean NOT NULL);
  INSERT INTO crm.customers SELECT g, 'customer' || g || '@example.com', g <= 3 FROM generate_series(1, 4) g;`;
const customer = (i: number) => `customer${i}@example.com`;
const email = (i: number) => `user${i}@example.com`;
const paying = (ids: number[]) =>
  ids
    .filter((i) => i % 3 !== 0)
    .map(email)
    .sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const build = await compileFixture('test/fixtures/run/salesforce');
const credentials = { clientId: 'consumer-key', clientSecret: 'sf-secret', refreshToken: 'sf-refresh' };
const env = { SF_CLIENT_SECRET: credentials.clientSecret, SF_REFRESH_TOKEN: credentials.refreshToken };

perEngine(
  'salesforce campaigns',
  people,
  () => startSalesforce(credentials),
  ({ db, service: salesforce }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env, endpoints: { sf: salesforce().api.url } });
    const requests = (from = 0) => salesforce().api.requests.slice(from);

    it('mirror: the first run creates the campaign, upserts the contacts and makes them members', async () => {
      const r = await run('paying_to_campaign');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 300, removed: 0 } });
      expect(salesforce().members('Paying', 'Email_Key__c')).toEqual(paying(range(1, 450)));
      expect(salesforce().api.violations).toEqual([]);
    });

    it('mirror: 250 members leaving are deleted by their member ids, 100 per request, their contacts kept', async () => {
      const leaving = range(1, 375).filter((i) => i % 3 !== 0);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id <= 375`);
      const before = requests().length;
      const r = await run('paying_to_campaign');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, removed: leaving.length } });
      const deletes = requests(before).filter((q) => q.method === 'DELETE');
      // Every member's id is known: no lookup.
      expect(requests(before).filter((q) => q.query.get('q')?.includes('FROM CampaignMember'))).toEqual([]);
      // Largest first: the batches go out concurrently, in no promised order.
      expect(deletes.map((q) => (q.query.get('ids') ?? '').split(',').length).sort((a, b) => b - a)).toEqual([100, 100, 50]);
      expect(
        deletes.every((q) =>
          q.query
            .get('ids')!
            .split(',')
            .every((id) => id.startsWith('00v')),
        ),
      ).toBe(true);
      expect(salesforce().members('Paying', 'Email_Key__c')).toEqual(paying(range(376, 450)));
      expect(salesforce().table('Contact').size).toBe(300);
      expect(salesforce().api.violations).toEqual([]);
    });

    it('remove: members added by others are found by SOQL and deleted when their contact leaves the audience', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id <= 375 AND id % 3 <> 0`);
      // The campaign and its members exist already, filled by a marketer.
      const campaign = salesforce().insert('Campaign', { Name: 'Nurture', IsActive: true });
      for (const contact of salesforce().table('Contact').values()) salesforce().insert('CampaignMember', { CampaignId: campaign.Id, ContactId: contact.Id });
      // First run: nothing leaves; the entering rows are remembered without a single request.
      const start = requests().length;
      const first = await run('lapsed_out_of_nurture');
      expect(first).toMatchObject({ status: 'ok', changes: { added: 300, removed: 0 } });
      expect(requests(start)).toEqual([]);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2, 4, 5)`);
      const before = requests().length;
      const r = await run('lapsed_out_of_nurture');
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 4 } });
      const sent = requests(before).map((q) => `${q.method} ${q.path.replace(/^\/services\/data\/v[\d.]+/, '')}`);
      // Sign in, find the campaign, find the members of the four contacts, delete them.
      expect(sent).toEqual(['POST /services/oauth2/token', 'GET /query', 'GET /query', 'DELETE /composite/sobjects']);
      const lookup = requests(before).find((q) => q.query.get('q')?.startsWith('SELECT Id, Contact.Email_Key__c FROM CampaignMember'))!;
      expect(lookup.query.get('q')).toContain(
        `WHERE CampaignId = '${campaign.Id}' AND Contact.Email_Key__c IN ('user1@example.com', 'user2@example.com', 'user4@example.com', 'user5@example.com')`,
      );
      expect(salesforce().members('Nurture', 'Email_Key__c')).toEqual(paying(range(1, 450)).filter((e) => ![1, 2, 4, 5].map(email).includes(e)));
      expect(salesforce().api.violations).toEqual([]);
    });

    it('remove by Email: a member whose email differs in case is found, as SOQL finds it, and deleted', async () => {
      // Others' contacts of three paying people (7, 8, 10), the first's email written in other case.
      const campaign = salesforce().insert('Campaign', { Name: 'Newsletter', IsActive: true });
      for (const address of ['User7@Example.COM', email(8), email(10)]) {
        const contact = salesforce().insert('Contact', { Email: address });
        salesforce().insert('CampaignMember', { CampaignId: campaign.Id, ContactId: contact.Id });
      }
      expect(await run('lapsed_out_of_newsletter')).toMatchObject({ status: 'ok', changes: { removed: 0 } });
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (7, 8)`);
      const r = await run('lapsed_out_of_newsletter');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 2 } });
      expect(salesforce().members('Newsletter', 'Email')).toEqual([email(10)]);
      expect(salesforce().api.violations).toEqual([]);
    });

    // The "Customers" campaign (sync active_to_customers, a mirror) is one a marketer keeps too.
    const customers = () => [...salesforce().table('Campaign').values()].find((c) => c.Name === 'Customers')!;
    const memberOf = (contactId: string) => [...salesforce().table('CampaignMember').values()].filter((m) => m.ContactId === contactId);
    const contactOf = (address: string) => [...salesforce().table('Contact').values()].find((c) => c.Email_Key__c === address)!;
    const deletedIds = (from: number) => requests(from).flatMap((q) => (q.method === 'DELETE' ? [q.query.get('ids')] : []));

    it('mirror: a contact already a member is accepted with its member id, found by SOQL, and deleted by that id when it leaves', async () => {
      const campaign = salesforce().insert('Campaign', { Name: 'Customers', IsActive: true });
      const contact = salesforce().insert('Contact', { Email_Key__c: customer(1) });
      const member = salesforce().insert('CampaignMember', { CampaignId: campaign.Id, ContactId: contact.Id });
      const before = requests().length;
      const r = await run('active_to_customers');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { added: 3 }, committed: 3 });
      // Its add was answered DUPLICATE_VALUE: its member was looked up by campaign and contact id, and no second one made.
      const lookups = requests(before).flatMap((q) => (q.query.get('q')?.includes('FROM CampaignMember') ? [q.query.get('q')] : []));
      expect(lookups).toEqual([`SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = '${campaign.Id}' AND ContactId IN ('${contact.Id}')`]);
      expect(memberOf(contact.Id)).toEqual([member]);
      expect(salesforce().members('Customers', 'Email_Key__c')).toEqual([customer(1), customer(2), customer(3)]);

      await sql(db(), `UPDATE crm.customers SET active = false WHERE id = 1`);
      const mark = requests().length;
      const left = await run('active_to_customers');
      expect(left.rejected).toEqual([]);
      expect(left).toMatchObject({ status: 'ok', changes: { removed: 1 }, committed: 1 });
      expect(deletedIds(mark)).toEqual([member.Id]);
      expect(salesforce().members('Customers', 'Email_Key__c')).toEqual([customer(2), customer(3)]);
      expect(salesforce().api.violations).toEqual([]);
    });

    it('mirror: a member already deleted in Salesforce (ENTITY_IS_DELETED) is removed without a refusal, and not sent again', async () => {
      const [member] = memberOf(contactOf(customer(2)).Id);
      // A marketer took the contact out of the campaign before it left the audience.
      salesforce().table('CampaignMember').delete(member!.Id);
      await sql(db(), `UPDATE crm.customers SET active = false WHERE id = 2`);
      const mark = requests().length;
      const r = await run('active_to_customers');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 1 }, committed: 1 });
      expect(deletedIds(mark)).toEqual([member!.Id]);
      const next = requests().length;
      expect(await run('active_to_customers')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 } });
      expect(deletedIds(next)).toEqual([]);
      expect(salesforce().members('Customers', 'Email_Key__c')).toEqual([customer(3)]);
      expect(salesforce().api.violations).toEqual([]);
    });

    it('mirror: a contact already a member whose member SOQL does not find stays refused, with the reason, until it is found', async () => {
      const contact = salesforce().insert('Contact', { Email_Key__c: customer(4) });
      const member = salesforce().insert('CampaignMember', { CampaignId: customers().Id, ContactId: contact.Id });
      // Sharing hides the member from the running user's queries; the create still meets it.
      salesforce().hidden.add(member.Id);
      await sql(db(), `UPDATE crm.customers SET active = true WHERE id = 4`);
      for (let i = 0; i < 2; i++) {
        const r = await run('active_to_customers');
        expect(r).toMatchObject({ status: 'rejected', changes: { added: 1 }, committed: 0 });
        expect(r.rejected).toEqual([
          {
            key: customer(4),
            change: 'added',
            operation: 'add_members',
            fate: 'rejected',
            reason: `refused: {"id":null,"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"Already a campaign member.","fields":[]}]}; it is there already, and looking it up failed: the response has no result for the key ${JSON.stringify(contact.Id)} (HTTP 200)`,
          },
        ]);
      }
      expect(memberOf(contact.Id)).toEqual([member]);
      salesforce().hidden.delete(member.Id);
      const r = await run('active_to_customers');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { added: 1 }, committed: 1 });
      await sql(db(), `UPDATE crm.customers SET active = false WHERE id = 4`);
      const mark = requests().length;
      expect(await run('active_to_customers')).toMatchObject({ status: 'ok', changes: { removed: 1 } });
      expect(deletedIds(mark)).toEqual([member.Id]);
      expect(salesforce().api.violations).toEqual([]);
    });
  },
);

// A delete after an upsert whose answer was lost: the snapshot has the row (unknown payload
// hash) but no id, so the delete looks the record, or the campaign member, up by the identifier
// first; one not found was never made. No DELETE names an empty id.
const fixture = readFileSync('test/fixtures/run/salesforce/project.sync', 'utf8');
const lost = await compileText(`${fixture.slice(0, fixture.indexOf('model people'))}
model leads {
  from        warehouse
  table       crm.leads
  primary key id
  columns {
    id    bigint
    email string
    plan  string
  }
}
audience hot_leads {
  from  leads
  where plan = 'hot'
}
sync leads_to_contacts {
  from       leads
  to         sf object Contact
  mode       mirror
  identifier email -> Email_Key__c
  map {
    plan -> Plan__c
  }
}
sync hot_leads_to_campaign {
  from       hot_leads
  to         sf list "Hot"
  mode       mirror
  identifier email -> Email_Key__c
}
`);

perEngine(
  'salesforce deletes after answers lost',
  `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.leads (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.leads SELECT g, 'lead' || g || '@example.com', 'warm' FROM generate_series(1, 4) g;`,
  () => startSalesforce(credentials),
  ({ db, service: salesforce }) => {
    const run = (sync: string, timeoutMs = 5000) => runSync(db(), lost, sync, { env, endpoints: { sf: salesforce().api.url }, timeoutMs });
    const requests = (from = 0) => salesforce().api.requests.slice(from);
    const deletedIds = (from: number) => requests(from).flatMap((q) => (q.method === 'DELETE' ? [q.query.get('ids') ?? ''] : []));
    const contacts = () => [...salesforce().table('Contact').values()].map((c) => String(c.Email_Key__c)).sort();
    const lead = (i: number) => `lead${i}@example.com`;
    const snapshot = async (sync: string, key: string) =>
      (await sql(db(), `SELECT payload_hash, destination_id FROM syncwright.${sync}_snapshot WHERE row_key = '${key}'`)).at(-1)?.[0];

    it('record mirror: the upsert applied but its answer lost, then the row leaves the model: the record is found by the identifier and deleted', async () => {
      expect(await run('leads_to_contacts')).toMatchObject({ status: 'ok', changes: { added: 4 } });
      await sql(db(), `INSERT INTO crm.leads VALUES (5, '${lead(5)}', 'warm'), (6, '${lead(6)}', 'warm')`);
      salesforce().api.failWhen((q) => (q.method === 'PATCH' ? fault.lost() : undefined));
      expect((await run('leads_to_contacts', 1000)).status).not.toBe('ok');
      salesforce().api.failWhen(undefined);
      expect(contacts()).toEqual([1, 2, 3, 4, 5, 6].map(lead));
      expect(await snapshot('leads_to_contacts', lead(5))).toEqual({ payload_hash: 'unknown', destination_id: null });
      // 5 and 6 leave with 1, whose id the snapshot has.
      await sql(db(), `DELETE FROM crm.leads WHERE id IN (1, 5, 6)`);
      const mark = requests().length;
      const r = await run('leads_to_contacts');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 3 } });
      expect(contacts()).toEqual([2, 3, 4].map(lead));
      const lookups = requests(mark).flatMap((q) => (q.method === 'GET' ? [q.query.get('q')] : []));
      expect(lookups).toEqual([`SELECT Id, Email_Key__c FROM Contact WHERE Email_Key__c IN ('${lead(5)}', '${lead(6)}')`]);
      const ids = deletedIds(mark);
      expect(ids).toHaveLength(1);
      expect(ids[0]!.split(',')).toHaveLength(3);
      expect(ids[0]!.split(',').every((id) => id.startsWith('003'))).toBe(true);
      expect(await snapshot('leads_to_contacts', lead(5))).toBeUndefined();
      expect(salesforce().api.violations).toEqual([]);
    });

    it('an instance_url the sign-in answers that is not an https origin gets no request: the sync fails before any record is sent', async () => {
      await sql(db(), `UPDATE crm.leads SET plan = 'cold' WHERE id = 2`);
      // A path and query would take the plan's path for theirs (records sent to /services/apexrest/x). (http, which would carry the
      // token in clear, is refused where no --endpoint takes the origin's place: run-plan-parts.)
      for (const url of ['https://acme.my.salesforce.com/services/apexrest/x?', 'https://acme.my.salesforce.com#', 'https://acme.my.salesforce.com/x']) {
        salesforce().instanceUrl = url;
        const mark = requests().length;
        const r = await run('leads_to_contacts');
        expect(r, url).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining(`instance_url ${JSON.stringify(url)}`) });
        expect(requests(mark).map((q) => q.path)).toEqual(['/services/oauth2/token']);
      }
      salesforce().instanceUrl = 'https://acme.my.salesforce.com';
      expect(await run('leads_to_contacts')).toMatchObject({ status: 'ok', rejected: [] });
    });

    it('record mirror: a row sent but never made (no record found) leaves without a delete', async () => {
      await sql(db(), `INSERT INTO crm.leads VALUES (7, '${lead(7)}', 'warm')`);
      // The upsert never reached Salesforce: every attempt reset before it was read.
      salesforce().api.failWhen((q) => (q.method === 'PATCH' ? fault.reset() : undefined));
      expect((await run('leads_to_contacts', 1000)).status).not.toBe('ok');
      salesforce().api.failWhen(undefined);
      await sql(db(), `DELETE FROM crm.leads WHERE id = 7`);
      const mark = requests().length;
      const r = await run('leads_to_contacts');
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 1 }, rejected: [] });
      expect(deletedIds(mark)).toEqual([]);
      expect(await snapshot('leads_to_contacts', lead(7))).toBeUndefined();
    });

    it('audience mirror: the member made but its answer lost, then the contact leaves: the member is found and deleted', async () => {
      await sql(db(), `UPDATE crm.leads SET plan = 'hot' WHERE id IN (2, 3)`);
      salesforce().api.failWhen((q) => (q.method === 'POST' && q.path.endsWith('/composite/sobjects') ? fault.lost() : undefined));
      expect((await run('hot_leads_to_campaign', 1000)).status).not.toBe('ok');
      salesforce().api.failWhen(undefined);
      expect(salesforce().members('Hot', 'Email_Key__c')).toEqual([lead(2), lead(3)]);
      await sql(db(), `UPDATE crm.leads SET plan = 'warm' WHERE id = 2`);
      const mark = requests().length;
      const r = await run('hot_leads_to_campaign');
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 1 } });
      expect(salesforce().members('Hot', 'Email_Key__c')).toEqual([lead(3)]);
      const ids = deletedIds(mark);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatch(/^00v\w+$/);
      expect(salesforce().api.violations).toEqual([]);
    });
  },
);

// A campaign sync that starts in upsert mode and later mirrors: the snapshot is the sync's,
// whatever its mode, and what a mirror deletes by is the member id it holds.
const tiered = (mode: 'upsert' | 'mirror') =>
  compileText(`${fixture.slice(0, fixture.indexOf('model people'))}
model members {
  from        warehouse
  table       crm.members
  primary key id
  columns {
    id    bigint
    email string
    plan  string
    tier  string
  }
}
audience paying_members {
  from  members
  where plan = 'pro'
}
sync members_to_campaign {
  from       paying_members
  to         sf list "Members"
  mode       ${mode}
  identifier email -> Email_Key__c
  map {
    tier -> Tier__c
  }
}
`);
const [upserting, mirroring] = [await tiered('upsert'), await tiered('mirror')];
/** Three paying members, each in the campaign once a sync has run. */
const threeMembers = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.members (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL, tier text NOT NULL);
  INSERT INTO crm.members SELECT g, 'member' || g || '@example.com', 'pro', 'silver' FROM generate_series(1, 3) g;`;
const member = (i: number) => `member${i}@example.com`;

perEngine(
  'salesforce campaign from upsert to mirror',
  threeMembers,
  () => startSalesforce(credentials),
  ({ db, service: salesforce }) => {
    const run = (build: string) => runSync(db(), build, 'members_to_campaign', { env, endpoints: { sf: salesforce().api.url } });

    it("a changed member's upsert keeps the member id in the snapshot: a later mirror deletes the member, not the contact", async () => {
      expect(await run(upserting)).toMatchObject({ status: 'ok', changes: { added: 3 } });
      await sql(db(), `UPDATE crm.members SET tier = 'gold' WHERE id = 2`);
      expect(await run(upserting)).toMatchObject({ status: 'ok', changes: { changed: 1 } });
      await sql(db(), `UPDATE crm.members SET plan = 'free' WHERE id = 2`);
      const mark = salesforce().api.requests.length;
      const r = await run(mirroring);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 1 } });
      const deletes = salesforce()
        .api.requests.slice(mark)
        .flatMap((q) => (q.method === 'DELETE' ? [q.query.get('ids') ?? ''] : []));
      expect(deletes).toHaveLength(1);
      expect(deletes[0]).toMatch(/^00v\w+$/);
      expect(salesforce().members('Members', 'Email_Key__c')).toEqual([member(1), member(3)]);
      expect([...salesforce().table('Contact').values()].map((c) => String(c.Email_Key__c)).sort()).toEqual([member(1), member(2), member(3)]);
      expect(salesforce().api.violations).toEqual([]);
    });
  },
);

// Snapshots written before the fix above still hold a contact's id (003...) for a member whose
// attributes changed. Salesforce deletes by id whatever the object: a mirror must never send
// that id, which deletes the contact and leaves the member.
perEngine(
  'salesforce campaign mirror over a snapshot holding contact ids',
  threeMembers,
  () => startSalesforce(credentials),
  ({ db, service: salesforce }) => {
    const run = () => runSync(db(), mirroring, 'members_to_campaign', { env, endpoints: { sf: salesforce().api.url } });
    const contactOf = (address: string) => [...salesforce().table('Contact').values()].find((c) => c.Email_Key__c === address);
    const memberOf = (contactId: string) => [...salesforce().table('CampaignMember').values()].find((m) => m.ContactId === contactId)!;
    const held = async (address: string) =>
      (await sql(db(), `SELECT destination_id FROM syncwright.members_to_campaign_snapshot WHERE row_key = '${address}'`)).at(-1)?.[0]?.destination_id;
    // What an older version's upsert left in the snapshot: the contact's id in place of the member's.
    const holdContactId = async (i: number) => {
      const contact = contactOf(member(i))!;
      await sql(db(), `UPDATE syncwright.members_to_campaign_snapshot SET destination_id = '${contact.Id}' WHERE row_key = '${member(i)}'`);
      expect(await held(member(i))).toBe(contact.Id);
      return contact;
    };

    it('a member who left, held by its contact id, is looked up by SOQL and its member deleted; the contact stays', async () => {
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 3 } });
      const contact = await holdContactId(2);
      const gone = memberOf(contact.Id);
      await sql(db(), `UPDATE crm.members SET plan = 'free' WHERE id = 2`);
      const [mark, deletes] = [salesforce().api.requests.length, salesforce().deleted.length];
      const r = await run();
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 1 }, committed: 1 });
      expect(salesforce().deleted.slice(deletes)).toEqual([{ id: gone.Id, type: 'CampaignMember' }]);
      const lookups = salesforce()
        .api.requests.slice(mark)
        .flatMap((q) => (q.query.get('q')?.includes('FROM CampaignMember') ? [q.query.get('q')] : []));
      expect(lookups).toEqual([expect.stringMatching(/AND Contact\.Email_Key__c IN \('member2@example\.com'\)$/)]);
      expect(contactOf(member(2))).toEqual(contact);
      expect(salesforce().members('Members', 'Email_Key__c')).toEqual([member(1), member(3)]);
      expect(await held(member(2))).toBeUndefined();
      expect(salesforce().api.violations).toEqual([]);
    });

    it('an id the lookup answers that is no member id is not deleted: the row is refused, kept, and removed by the next run', async () => {
      const contact = await holdContactId(3);
      const stays = memberOf(contact.Id);
      await sql(db(), `UPDATE crm.members SET plan = 'free' WHERE id = 3`);
      // A lookup answering the contact where its member was asked for.
      const wrong = { totalSize: 1, done: true, records: [{ attributes: { type: 'CampaignMember' }, Id: contact.Id, Contact: { Email_Key__c: member(3) } }] };
      salesforce().api.failWhen((q) => (q.query.get('q')?.includes('FROM CampaignMember') ? fault.status(200, wrong) : undefined));
      const [mark, deletes] = [salesforce().api.requests.length, salesforce().deleted.length];
      const r = await run();
      salesforce().api.failWhen(undefined);
      expect(r).toMatchObject({ status: 'rejected', changes: { removed: 1 }, committed: 0 });
      expect(r.rejected).toEqual([
        {
          key: member(3),
          change: 'removed',
          operation: 'remove_members',
          fate: 'rejected',
          reason: `its destination id ${JSON.stringify(contact.Id)} is not one this request may name: it names only CampaignMember ids (00v...); the row is not sent, and stays for the next run`,
        },
      ]);
      expect(
        salesforce()
          .api.requests.slice(mark)
          .filter((q) => q.method === 'DELETE'),
      ).toEqual([]);
      expect(salesforce().deleted.slice(deletes)).toEqual([]);
      expect(contactOf(member(3))).toEqual(contact);
      expect(salesforce().members('Members', 'Email_Key__c')).toEqual([member(1), member(3)]);
      expect(await held(member(3))).toBe(contact.Id);

      const next = await run();
      expect(next.rejected).toEqual([]);
      expect(next).toMatchObject({ status: 'ok', changes: { removed: 1 }, committed: 1 });
      expect(salesforce().deleted.slice(deletes)).toEqual([{ id: stays.Id, type: 'CampaignMember' }]);
      expect(contactOf(member(3))).toEqual(contact);
      expect(salesforce().members('Members', 'Email_Key__c')).toEqual([member(1)]);
      expect(salesforce().api.violations).toEqual([]);
    });
  },
);
