// Salesforce campaign membership end to end against a local Salesforce (OAuth, SOQL, sObject
// Collections), on every engine: a mirror deletes the members it created by the ids their
// creation returned, at most 200 per request; a remove finds the members of leaving contacts
// by SOQL before deleting them.
import { expect, it } from 'vitest';
import { startSalesforce } from './servers/salesforce.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 450) g;`;
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
    const run = (sync: string) => runSync(db(), build, sync, { env, endpoints: { sf: salesforce().api.url }, timeoutMs: 5000 });
    const requests = (from = 0) => salesforce().api.requests.slice(from);

    it('mirror: the first run creates the campaign, upserts the contacts and makes them members', async () => {
      const r = await run('paying_to_campaign');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 300, removed: 0 } });
      expect(salesforce().members('Paying', 'Email_Key__c')).toEqual(paying(range(1, 450)));
      expect(salesforce().api.violations).toEqual([]);
    });

    it('mirror: 250 members leaving are deleted by their member ids, 200 per request, their contacts kept', async () => {
      const leaving = range(1, 375).filter((i) => i % 3 !== 0);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id <= 375`);
      const before = requests().length;
      const r = await run('paying_to_campaign');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, removed: leaving.length } });
      const deletes = requests(before).filter((q) => q.method === 'DELETE');
      expect(deletes.map((q) => (q.query.get('ids') ?? '').split(',').length)).toEqual([200, 50]);
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
  },
);
