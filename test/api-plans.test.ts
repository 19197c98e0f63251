/**
 * Golden plan.json for every API destination type x supported mode, each validated against
 * schemas/plan.schema.json. Update with `npx vitest run test/api-plans.test.ts -u` and review.
 */
import { describe, expect, it } from 'vitest';
import { destinationTypes } from '../src/catalog/index.js';
import { destinationApis } from '../src/catalog/api/index.js';
import { planErrors } from '../src/emit/plan-schema.js';
import { urlWithPath } from '../src/contract/url.js';
import { allApiCases, apiCases } from './fixtures/api/destinations.js';
import { compileSync } from './fixtures/api/compile.js';

const cases = allApiCases();

describe('plan.json per destination type and mode', () => {
  it.each(cases.map((c) => [`${c.type} ${c.kind} ${c.mode}`, c] as const))('%s', async (_, c) => {
    const { plan } = compileSync(c.project, c.sync);
    expect(planErrors(plan)).toEqual([]);
    await expect(`${JSON.stringify(plan, null, 2)}\n`).toMatchFileSnapshot(`golden/api/${c.type}/${c.kind}-${c.mode}.json`);
  });
});

describe('coverage', () => {
  const apiTypes = [...destinationTypes.values()].filter((t) => t.category !== 'warehouse');

  it('describes every API destination type, and has a case for each', () => {
    expect([...destinationApis.keys()].sort()).toEqual(apiTypes.map((t) => t.type).sort());
    expect(Object.keys(apiCases).sort()).toEqual(apiTypes.map((t) => t.type).sort());
  });

  it('plans every mode the catalog allows, record and audience', () => {
    for (const t of apiTypes) {
      const api = destinationApis.get(t.type)!;
      const described = Object.keys(api.modes).sort();
      const allowed = [...t.recordModes.map((m) => `record:${m}`), ...t.audienceModes.map((m) => `audience:${m}`)].sort();
      expect(described, t.type).toEqual(allowed);
    }
  });
});

describe('what every plan keeps', () => {
  const compiled = cases.map((c) => ({ c, ...compileSync(c.project, c.sync) }));
  const plans = compiled.map(({ c, plan }) => ({ c, plan }));

  it('names only files it brings, and brings only files it names', () => {
    for (const { plan, files } of compiled) {
      const named = plan.steps.flatMap((s) => ('file' in s ? [s.file] : []));
      expect(files.map((f) => f.name).sort()).toEqual([...new Set(named)].sort());
    }
  });

  it('carries secrets only as environment references', () => {
    for (const { plan } of plans) {
      const text = JSON.stringify(plan);
      // Every env() setting of the fixtures is named *_TOKEN, *_KEY, *_SECRET or *_PASSWORD.
      expect(text).not.toMatch(/"(token|api_key|secret|password)":\s*"[^"]/);
    }
  });

  it('runs changes first (after the check of earlier jobs, where the plan has one), reads before sending, and commits last when there is an identifier', () => {
    for (const { plan } of plans) {
      const kinds = plan.steps.map((s) => s.kind);
      expect(kinds.filter((k) => k === 'jobs').length).toBeLessThanOrEqual(1);
      expect(kinds[kinds[0] === 'jobs' ? 1 : 0]).toBe('changes');
      expect(kinds.indexOf('read')).toBeLessThan(kinds.findIndex((k) => k === 'send' || k === 'publish' || k === 'write_object'));
      expect(kinds.at(-1)).toBe('commit');
    }
  });
});

describe("the source's Postgres version", () => {
  const project = (version: string) => `
source wh : postgres { database "app" ${version} }
model users { from wh table analytics.users primary key user_id columns { user_id bigint email string plan string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync users_crm { from users to crm object contacts mode upsert identifier email -> email map { plan -> plan } }`;
  const versionOf = (text: string, options: { postgresVersion?: number } = {}) => compileSync(text, 'users_crm', options).plan.source.version;

  it('is the option, else a literal setting, else the default, as for warehouse destinations', () => {
    expect(versionOf(project('version 17'))).toBe(17);
    expect(versionOf(project('version 17'), { postgresVersion: 16 })).toBe(16);
    expect(versionOf(project(''))).toBe(15);
    // Read where the SQL runs, so unknown when compiling: the SQL is generated for the default.
    const fromEnv = compileSync(project('version env("PG_VERSION")'), 'users_crm').plan;
    expect(fromEnv.source.version).toBe(15);
    expect(planErrors(fromEnv)).toEqual([]);
  });
});

describe('Braze urls', () => {
  const trackUrls = (endpoint: string) => {
    const { plan } = compileSync(
      `source wh : postgres { database "app" }
model people { from wh  table crm.people  primary key id  columns { id bigint  email string } }
destination d : braze { api_key env("BRAZE_API_KEY")  rest_endpoint ${endpoint} }
sync s { from people  to d object users  mode upsert  identifier id -> external_id  map { email -> email } }`,
      's',
    );
    expect(planErrors(plan)).toEqual([]);
    return plan.steps.flatMap((s) => ('requests' in s ? s.requests.map((r) => r.request.url) : []));
  };

  it('joins the rest_endpoint and /users/track with one `/`, whether or not the endpoint ends in one', () => {
    // Appended as text, an endpoint ending in `/` made //users/track.
    expect(trackUrls('"https://rest.fra-01.braze.eu/"')).toEqual(['https://rest.fra-01.braze.eu/users/track']);
    // Without one, the two parts as plans always had them (the golden plans).
    expect(trackUrls('"https://rest.iad-01.braze.com"')).toEqual([{ $concat: ['https://rest.iad-01.braze.com', '/users/track'] }]);
    // From the environment: joined at run time by the same rule.
    expect(trackUrls('env("BRAZE_URL")')).toEqual([{ $url: [{ $env: 'BRAZE_URL' }, '/users/track'] }]);
  });
});

describe('Salesforce urls', () => {
  const tokenUrl = (instance: string) => {
    const { plan } = compileSync(
      `source wh : postgres { database "app" }
model people { from wh  table crm.people  primary key id  columns { id bigint  email string } }
destination d : salesforce { instance_url ${instance}  client_id "abc"  client_secret env("SF_SECRET")  refresh_token env("SF_REFRESH") }
sync s { from people  to d object Contact  mode upsert  identifier id -> External_Id__c  map { email -> Email } }`,
      's',
    );
    expect(planErrors(plan)).toEqual([]);
    return plan.steps.flatMap((s) => (s.kind === 'call' && s.name === 'sign_in' ? [s.request.url] : []));
  };

  it('joins the instance_url and /services/oauth2/token with one `/`, whether or not the url ends in one', () => {
    // Appended as text, an org url ending in `/` made //services/oauth2/token.
    expect(tokenUrl('"https://acme.my.salesforce.com/"')).toEqual(['https://acme.my.salesforce.com/services/oauth2/token']);
    expect(tokenUrl('"https://acme.my.salesforce.com"')).toEqual([{ $concat: ['https://acme.my.salesforce.com', '/services/oauth2/token'] }]);
    expect(tokenUrl('env("SF_URL")')).toEqual([{ $url: [{ $env: 'SF_URL' }, '/services/oauth2/token'] }]);
  });
});

describe('webhook urls', () => {
  const requestUrls = (url: string, path: string) => {
    const { plan } = compileSync(
      `source wh : postgres { database "app" }
model people { from wh  table crm.people  primary key id  columns { id bigint  email string } }
destination hook : webhook { url ${JSON.stringify(url)}  batch true }
sync s { from people  to hook path ${JSON.stringify(path)}  mode insert  identifier id -> id  map { email -> email } }`,
      's',
    );
    return plan.steps.flatMap((s) => ('requests' in s ? s.requests.map((r) => r.request.url) : []));
  };

  it("appends the sync's path to the url's path, before its query: appended to the text, the path was in the query", () => {
    expect(requestUrls('https://hooks.example.com/in?token=abc', '/orders')).toEqual(['https://hooks.example.com/in/orders?token=abc']);
    expect(requestUrls('https://hooks.example.com/in?token=abc#f', '/orders?v=2')).toEqual(['https://hooks.example.com/in/orders?token=abc&v=2#f']);
    // Without a query the url and the path are joined as before, at run time (the url may be env()).
    expect(requestUrls('https://hooks.example.com/in', '/orders')).toEqual([{ $concat: ['https://hooks.example.com/in', '/orders'] }]);
    // A url from the environment may hold a query: joined at run time by the same rule (test/run-destinations.test.ts runs it).
    const fromEnv = compileSync(
      `source wh : postgres { database "app" }
model people { from wh  table crm.people  primary key id  columns { id bigint  email string } }
destination hook : webhook { url env("HOOK_URL") }
sync s { from people  to hook path "/orders"  mode insert  identifier id -> id  map { email -> email } }`,
      's',
    ).plan;
    expect(fromEnv.steps.flatMap((s) => ('requests' in s ? s.requests.map((r) => r.request.url) : []))).toEqual([{ $url: [{ $env: 'HOOK_URL' }, '/orders'] }]);
    expect(planErrors(fromEnv)).toEqual([]);
    expect(urlWithPath('https://h/in?token=abc#f', '/orders?v=2')).toBe('https://h/in/orders?token=abc&v=2#f');
    expect(urlWithPath('https://h/in', '/orders')).toBe('https://h/in/orders');
    // One `/` between the url and the path, whichever has it: `users` after a bare host ran into it (the host hooks.example.comusers).
    expect(requestUrls('https://hooks.example.com', 'users')).toEqual(['https://hooks.example.com/users']);
    expect(requestUrls('https://hooks.example.com/in/', '/orders')).toEqual(['https://hooks.example.com/in/orders']);
    expect(urlWithPath('https://h/in/', 'orders?v=2')).toBe('https://h/in/orders?v=2');
    expect(urlWithPath('https://h/in?token=abc', 'orders')).toBe('https://h/in/orders?token=abc');
    expect(urlWithPath('https://h/in/', '?v=2')).toBe('https://h/in/?v=2');
    // A url from the environment ending in a line break, which the URL parser drops after the join: before, //users.
    expect(urlWithPath('https://h/in/\n', '/users')).toBe('https://h/in/users');
    expect(urlWithPath(' https://h/in?t=1\r\n', 'users')).toBe('https://h/in/users?t=1');
  });
});
