// The executor's plan-reading parts, each on its own: templates, requests, acceptance rules,
// guards, progress output.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readResponse } from '../src/run/http/acceptance.js';
import { applied } from '../src/catalog/api/destinations/braze.js';
import { slackPosted } from '../src/catalog/api/destinations/other.js';
import { partlyApplied } from '../src/catalog/api/destinations/google-ads.js';
import { invalidEntries } from '../src/catalog/api/destinations/facebook-ads.js';
import { imported } from '../src/catalog/api/destinations/mixpanel.js';
import { guardViolation } from '../src/run/guard.js';
import { pointerGet } from '../src/run/json-pointer.js';
import { lineProgress, terminalProgress } from '../src/run/output/progress.js';
import { planSummary } from '../src/run/output/summary.js';
import { callBudgetMs } from '../src/run/locks/call-lock.js';
import { standardRetry } from '../src/catalog/api/http.js';
import { stepReport, type PlanReport } from '../src/run/output/report.js';
import { buildRequest, overrideBase } from '../src/run/http/request.js';
import { compileMessage, envFrom, envPlaceholder, render, TemplateError, type RenderContext } from '../src/run/template.js';
import { csvLine } from '../src/run/sinks/formats.js';
import { sinkPath } from '../src/run/sinks/folder.js';
import { byBytes } from '../src/run/sinks/publish.js';
import { changeQueries } from '../src/emit/session-sql.js';
import { fillSlots } from '../src/contract/plan.js';
import { asSubquery } from '../src/run/engines/sql-session.js';
import { conditionHolds } from '../src/run/api-plan.js';
import type { Acceptance, AcceptStep, SendStep } from '../src/contract/api-steps.js';

const row = {
  key: 'k1',
  change: 'added',
  payload: { 'first.name': 'Ada', plan: 'pro', n: 3 },
  idempotency_key: 'abc',
  destination_id: null,
  columns: { name: 'Ada', plan: 'pro' },
  seq: 1,
};
const ctx: RenderContext = {
  vars: { list_id: 'L9' },
  run: { id: 'run-1', session: 42 },
  row,
  rows: [row, { ...row, key: 'k2', payload: { plan: 'free' } }],
  batch: { index: 1, last: true },
};
const options = { env: envFrom({ TOKEN: 'secret' }), message: compileMessage('Hi {{name}} <{{plan}}> {{missing}}!') };
const r = (t: unknown) => render(t as never, ctx, options);

describe('templates', () => {
  it('copies plain JSON and evaluates each directive', () => {
    expect(r({ a: [1, true, null, 'x'] })).toEqual({ a: [1, true, null, 'x'] });
    expect(r({ $ref: 'row.key' })).toBe('k1');
    expect(r({ $ref: ['row', 'payload', 'first.name'] })).toBe('Ada');
    expect(r({ $ref: 'row.nothing.here' })).toBeNull();
    expect(r({ $env: 'TOKEN' })).toBe('secret');
    expect(r({ $concat: ['Bearer ', { $env: 'TOKEN' }, null, 7] })).toBe('Bearer secret7');
    expect(r({ $merge: [{ $ref: 'row.payload' }, { plan: 'over', id: { $ref: 'row.key' } }, null] })).toEqual({
      'first.name': 'Ada',
      plan: 'over',
      n: 3,
      id: 'k1',
    });
    expect(r({ $each: { id: { $ref: 'row.key' } } })).toEqual([{ id: 'k1' }, { id: 'k2' }]);
    expect(r({ $json: [{ $ref: 'vars.list_id' }] })).toBe('["L9"]');
    expect(r({ $base64: 'héllo' })).toBe(Buffer.from('héllo').toString('base64'));
    expect(r({ $message: null })).toBe('Hi Ada <pro> !');
    expect(r({ $join: [{ $each: { $ref: 'row.key' } }, ','] })).toBe('k1,k2');
    expect(r({ $slice: ['a😀bcd', 1, 3] })).toBe('😀b');
    expect(r({ $url: [{ $concat: ['https://h/in?t=', { $env: 'TOKEN' }] }, '/x'] })).toBe('https://h/in/x?t=secret');
    expect(r({ $switch: [{ $ref: 'row.payload.plan' }, { pro: 'P', free: 'F' }] })).toBe('P');
    expect(r({ $switch: ['other', { pro: 'P' }] })).toBeNull();
    expect(r({ $literal: { $ref: 'not evaluated' } })).toEqual({ $ref: 'not evaluated' });
    // A `$` key that is not a directive (Mixpanel's $set) is a plain key.
    expect(r({ $set: { $ref: 'row.key' } })).toEqual({ $set: 'k1' });
  });

  it('stops on an unset variable, and a dry run shows a placeholder instead of any secret', () => {
    expect(() => render({ $env: 'NOPE' }, ctx, { env: envFrom({}) })).toThrow(new TemplateError('environment variable NOPE is not set'));
    expect(render({ $concat: ['Bearer ', { $env: 'TOKEN' }] }, ctx, { env: envPlaceholder })).toBe('Bearer <env TOKEN>');
    expect(() => render({ $message: null }, ctx, { env: envPlaceholder })).toThrow(/no message template/);
  });
});

describe('requests', () => {
  it('renders URL, query, headers and a JSON body, sent to the override base', () => {
    const req = buildRequest(
      {
        method: 'POST',
        url: { $concat: ['https://api.example.com/v1/lists/', { $ref: 'vars.list_id' }] },
        query: { a: 'x y', b: null, c: { $json: [1] } },
        headers: { Authorization: { $concat: ['Bearer ', { $env: 'TOKEN' }] }, Skip: null },
        body: { encoding: 'json', template: { ids: { $each: { $ref: 'row.key' } } } },
      },
      ctx,
      options,
      'http://127.0.0.1:8080/proxy/',
    );
    expect(req).toEqual({
      method: 'POST',
      url: 'http://127.0.0.1:8080/proxy/v1/lists/L9?a=x+y&c=%5B1%5D',
      headers: { Authorization: 'Bearer secret', 'Content-Type': 'application/json' },
      body: '{"ids":["k1","k2"]}',
    });
    expect(overrideBase('https://a.example.com/x?y=1', undefined)).toBe('https://a.example.com/x?y=1');
  });

  it('a value an answer gave stays where the URL puts it: an origin and nothing more (https, unless --endpoint takes its place), a path part within the path', () => {
    const at = (vars: Record<string, string>, url: unknown[], base?: string) => () =>
      buildRequest({ method: 'GET', url: { $concat: url } as never, headers: {} }, { ...ctx, vars }, options, base).url;
    const instance = (u: string, base?: string) => at({ instance_url: u }, [{ $ref: 'vars.instance_url' }, '/services/data/v62.0/x'], base);
    expect(instance('https://acme.my.salesforce.com')()).toBe('https://acme.my.salesforce.com/services/data/v62.0/x');
    expect(instance('https://acme--dev.sandbox.my.salesforce.com/')()).toBe('https://acme--dev.sandbox.my.salesforce.com//services/data/v62.0/x');
    for (const u of [
      'http://acme.my.salesforce.com',
      'https://acme.my.salesforce.com/x?',
      'https://acme.my.salesforce.com#',
      'https://u:p@acme.my.salesforce.com',
      'acme',
    ])
      expect(instance(u), u).toThrow(/is not an https origin|not a URL/);
    // --endpoint puts its own origin in the answer's place: http there carries nothing to another host.
    expect(instance('http://127.0.0.1:9', 'http://127.0.0.1:8080')()).toBe('http://127.0.0.1:8080/services/data/v62.0/x');
    const list = (id: string) => at({ list_id: id }, ['https://a.klaviyo.com/api/lists/', { $ref: 'vars.list_id' }, '/relationships/profiles']);
    for (const id of ['Xy9Kp2', 'customers/123/offlineUserDataJobs/456', 'a=b', 'L1.v2']) expect(list(id)(), id).toContain(`/lists/${id}/`);
    for (const id of [
      'L1/../L2',
      'L1/.\t./L2',
      'L1/..\n/L2',
      'L1/\t../L2',
      '..',
      '.',
      'L1/./x',
      'L1%2F..%2FL2',
      'L1%2e%2e',
      'L1?x',
      'L1#',
      'L1\\..\\L2',
      'L 1',
      '',
    ])
      expect(list(id), JSON.stringify(id)).toThrow(/would leave its place in the path/);
    // A value of a few hundred thousand characters is clipped in the message.
    expect(list(`../${'x'.repeat(100_000)}`)).toThrow(/^.{0,600}$/s);
  });

  it('encodes a form body, and signs the body it sends', () => {
    const req = buildRequest(
      {
        method: 'POST',
        url: 'https://h.example.com/',
        headers: {},
        body: { encoding: 'form', template: { api_key: 'k', identification: { $json: [{ id: 1 }] } } },
        signature: { header: 'X-Sig', key: { $env: 'TOKEN' } },
      },
      ctx,
      options,
      undefined,
      1_700_000_000_999,
    );
    expect(req.body).toBe('api_key=k&identification=%5B%7B%22id%22%3A1%7D%5D');
    expect(req.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    // Stripe's scheme: the timestamp (unix seconds when sent) is signed with the body.
    expect(req.headers['X-Sig']).toBe(
      `t=1700000000,v1=${createHmac('sha256', 'secret')
        .update(`1700000000.${req.body as string}`)
        .digest('hex')}`,
    );
  });
});

describe('acceptance', () => {
  const res = (status: number, body: unknown) => ({ status, headers: new Headers(), body: typeof body === 'string' ? body : JSON.stringify(body) });
  const rows = () => [
    { key: 'A@x.com', destination_id: null },
    { key: 'b@x.com', destination_id: null },
    { key: 'c@x.com', destination_id: null },
  ];

  it("by errors, as Klaviyo's import errors are read: the rows they name by key are refused, page after page; an error of no row leaves all unsure", () => {
    const key = ['/attributes/original_payload/attributes/email', '/attributes/original_payload/email'];
    const errors = { accept: { by: 'errors' as const, items: '/data', key, reason: '/attributes/detail', next: '/links/next' } };
    const error = (email: string, detail = 'Invalid email') => ({ attributes: { detail, original_payload: { type: 'profile', attributes: { email } } } });
    const page = (data: unknown[], next: unknown = null) => res(200, { data, links: { next } });
    expect(readResponse(errors, page([error('b@x.com')]), rows(), ctx, options)).toEqual({
      accepted: [0, 2],
      rejected: [{ index: 1, reason: 'refused: Invalid email' }],
      retry: [],
    });
    const next = 'https://a.klaviyo.com/api/profile-bulk-import-jobs/j/import-errors?page%5Bcursor%5D=20';
    expect(readResponse(errors, page([error('c@x.com')], next), rows(), ctx, options)).toMatchObject({ accepted: [0, 1], rejected: [{ index: 2 }], next });
    const unsure = (r: ReturnType<typeof readResponse>) => [r.accepted, r.rejected.map((x) => [x.index, x.unsure])];
    const allUnsure = [[], [0, 1, 2].map((i) => [i, true])];
    // The key beside the attributes is read too; a key is matched exactly, with its case.
    expect(readResponse(errors, page([{ attributes: { original_payload: { email: 'A@x.com' } } }]), rows(), ctx, options).rejected.map((r) => r.index)).toEqual(
      [0],
    );
    expect(unsure(readResponse(errors, page([error('a@x.com')]), rows(), ctx, options))).toEqual(allUnsure);
    // Another row's key among the profile's properties names nothing: only the identifier counts.
    const named = { attributes: { original_payload: { type: 'profile', attributes: { email: 'c@x.com', properties: { referrer: 'b@x.com' } } } } };
    expect(readResponse(errors, page([named]), rows(), ctx, options).rejected.map((r) => r.index)).toEqual([2]);
    expect(unsure(readResponse(errors, page([{ attributes: { original_payload: ['A@x.com'] } }]), rows(), ctx, options))).toEqual(allUnsure);
    // A page naming none that goes on is read as it is: the delivery engine, which knows the pages before, judges it.
    expect(readResponse(errors, page([], next), rows(), ctx, options)).toEqual({ accepted: [0, 1, 2], rejected: [], retry: [], next });
    expect(unsure(readResponse(errors, page([error('b@x.com')], 'elsewhere'), rows(), ctx, options))).toEqual(allUnsure);
    expect(unsure(readResponse(errors, res(200, { errors: [] }), rows(), ctx, options))).toEqual(allUnsure);
    // Refused, it is not asked again in halves: the same question whatever rows it is for.
    expect(readResponse(errors, res(400, { errors: [] }), rows(), ctx, options)).toMatchObject({
      retry: [],
      rejected: [{ unsure: true }, { unsure: true }, { unsure: true }],
    });
  });

  it('a job: its status asks again, passes the rows on or refuses them all; what a 2xx captures for the batch, or all unsure without it', () => {
    const poll = { accept: { by: 'status' as const }, poll: { status: '/data/attributes/status', done: ['complete'], failed: ['cancelled'], waitSeconds: 60 } };
    const job = (status: unknown) => res(200, { data: { id: 'j1', attributes: { status } } });
    expect(readResponse(poll, job('processing'), rows(), ctx, options)).toEqual({ accepted: [], rejected: [], retry: [], pending: 'the job is processing' });
    expect(readResponse(poll, job(7), rows(), ctx, options).pending).toBe('the job is of no status at /data/attributes/status');
    expect(readResponse(poll, job('complete'), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(poll, job('cancelled'), rows(), ctx, options).rejected.map((r) => [r.index, r.unsure, r.reason.slice(0, 24)])).toEqual(
      [0, 1, 2].map((i) => [i, true, 'the job ended cancelled:']),
    );
    const queue = { accept: { by: 'status' as const }, captureBatch: { job: '/data/id' } };
    expect(readResponse(queue, res(202, { data: { id: 'j1' } }), rows(), ctx, options)).toEqual({
      accepted: [0, 1, 2],
      rejected: [],
      retry: [],
      captured: { job: 'j1' },
    });
    expect(readResponse(queue, res(202, { data: {} }), rows(), ctx, options).rejected.map((r) => r.unsure)).toEqual([true, true, true]);
    // Put into a later request's path, a value that is not one segment would name another resource there.
    for (const id of ['j1/../j0', 'j1?x=', 'j1#', 'j1%2F..', 'j1\\..\\j0', '..', '.', ''])
      expect(
        readResponse(queue, res(202, { data: { id } }), rows(), ctx, options).rejected.map((r) => r.unsure),
        id,
      ).toEqual([true, true, true]);
    // Any other segment's characters are kept: a base64 id's padding, a dotted name.
    for (const id of ['ZXlKMGVY=', 'job.2024-01', '...'])
      expect(readResponse(queue, res(202, { data: { id } }), rows(), ctx, options).captured, id).toEqual({ job: id });
  });

  it('by status: 2xx accepts all, unless the success pointer says otherwise', () => {
    expect(readResponse({ accept: { by: 'status' } }, res(204, ''), rows(), ctx, options)).toEqual({ accepted: [0, 1, 2], rejected: [], retry: [] });
    const slack = { accept: slackPosted };
    expect(readResponse(slack, res(200, { ok: true }), rows().slice(0, 1), ctx, options).accepted).toEqual([0]);
    expect(readResponse(slack, res(200, { ok: false, error: 'channel_not_found' }), rows().slice(0, 1), ctx, options).rejected).toEqual([
      { index: 0, reason: 'HTTP 200: {"ok":false,"error":"channel_not_found"}' },
    ]);
  });

  it("by status: Slack's internal_error and fatal_error, after which some of the operation may have succeeded, refuse the message as unsure", () => {
    for (const error of ['internal_error', 'fatal_error']) {
      const v = readResponse({ accept: slackPosted }, res(200, { ok: false, error }), rows().slice(0, 1), ctx, options);
      expect(v).toEqual({
        accepted: [],
        rejected: [
          {
            index: 0,
            reason: `the destination says some of the request may have been done, so whether it took the rows is unknown: HTTP 200: {"ok":false,"error":"${error}"}`,
            unsure: true,
          },
        ],
        retry: [],
      });
    }
    // Only where every code at the pointer is one of them.
    expect(readResponse({ accept: slackPosted }, res(200, { ok: false }), rows().slice(0, 1), ctx, options).rejected[0]?.unsure).toBeUndefined();
  });

  it('by status: a 207 Multi-Status says each part has a status of its own, which a rule by status does not read: no row is taken, the rows are sent again in halves as perhaps applied', () => {
    // RFC 4918 §13: "the recipient needs to consult the contents of the multistatus response body for further information about the success or failure".
    const multi = { status: 207, headers: new Headers(), body: JSON.stringify([{ status: 200 }, { status: 422 }, { status: 200 }]) };
    for (const accept of [{ by: 'status' as const }, applied]) {
      const v = readResponse({ accept }, multi, rows(), ctx, options);
      expect(v).toEqual({ accepted: [], rejected: [], retry: [0, 1, 2], split: true, unsure: true, reason: expect.stringContaining('HTTP 207') });
    }
    // A question about a job is the same in halves: its rows are refused, whether taken unknown.
    const poll = { status: '/status', done: ['complete'], failed: [], waitSeconds: 60 };
    const asked = readResponse({ accept: { by: 'status' }, poll }, { ...multi, body: '{"status":"complete"}' }, rows(), ctx, options);
    expect(asked.accepted).toEqual([]);
    expect(asked.split).toBeUndefined();
    expect(asked.rejected.map((r) => [r.index, r.unsure])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
  });

  it("by status with refusals, as Braze's and Google Ads' plans read them: the rows a 2xx lists are refused, the rest accepted; a refusal that names no row refuses all", () => {
    const braze = { accept: applied };
    const refusal = (index: unknown, input_array = 'attributes') => ({ type: 'Invalid email', input_array, index });
    expect(readResponse(braze, res(201, { message: 'success', errors: [refusal(1)] }), rows(), ctx, options)).toEqual({
      accepted: [0, 2],
      rejected: [{ index: 1, reason: 'refused: Invalid email' }],
      retry: [],
    });
    expect(readResponse(braze, res(201, { message: 'success' }), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(braze, res(201, { message: 'success', errors: [] }), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    // Out of range, not a number, another array, a bare message, or errors that are no list (an object by position, a text, a count): which rows were applied is not said.
    for (const errors of [[refusal(3)], [refusal('1')], [refusal(0, 'events')], ['minor error'], { '1': refusal(1) }, 'attributes[1] invalid', 1]) {
      const v = readResponse(braze, res(201, { message: 'success', errors }), rows(), ctx, options);
      expect(v.accepted).toEqual([]);
      expect(v.rejected.map((r) => r.index)).toEqual([0, 1, 2]);
    }
    // An answer nested deeper than any API's, its refusals readable or not: every row unsure (read as no answer, all were taken).
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    for (const body of [`{"message":"success","errors":[{"type":"bad","input_array":"attributes","index":0}],"x":${deep}}`, `{"errors":${deep}}`]) {
      const v = readResponse(braze, res(201, body), rows(), ctx, options);
      expect(v.accepted).toEqual([]);
      expect(v.rejected.map((r) => [r.index, r.unsure])).toEqual([
        [0, true],
        [1, true],
        [2, true],
      ]);
      expect(v.rejected[0]?.reason).toMatch(/^the answer nests deeper than 256 levels/);
    }
    // Google Ads: a google.rpc.Status whose details are GoogleAdsFailures, errors located by the operation's index.
    const ads = { accept: partlyApplied };
    const located = (index: number, message: string) => ({
      message,
      location: { fieldPathElements: [{ fieldName: 'operations', index }, { fieldName: 'create' }] },
    });
    const failure = {
      partialFailureError: { code: 3, details: [{ errors: [located(0, 'bad hash')] }, { errors: [located(2, 'too long'), located(2, 'bad hash')] }] },
    };
    // A partial failure in a shape not read refuses every row; none at all, or an empty one, refuses none.
    expect(readResponse(ads, res(200, { partialFailureError: { code: 3, message: 'x', details: [{ other: 1 }] } }), rows(), ctx, options).accepted).toEqual([]);
    expect(readResponse(ads, res(200, {}), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(ads, res(200, { partialFailureError: {} }), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(ads, res(200, failure), rows(), ctx, options)).toEqual({
      accepted: [1],
      rejected: [
        { index: 0, reason: 'refused: bad hash' },
        { index: 2, reason: 'refused: too long; refused: bad hash' },
      ],
      retry: [],
    });
  });

  it("by status with invalid entries, as Meta's plan reads them: the rows a 200 names by their sent values are refused; a count beyond those named refuses all", () => {
    const meta = { accept: invalidEntries(2) };
    const answer = (count: unknown, samples: unknown) =>
      res(200, { audience_id: '1', num_received: 3, num_invalid_entries: count, invalid_entry_samples: samples });
    expect(readResponse(meta, answer(0, {}), rows(), ctx, options)).toEqual({ accepted: [0, 1, 2], rejected: [], retry: [] });
    expect(readResponse(meta, res(200, { audience_id: '1' }), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    // An entry is the row's values joined by commas, its key first (multi-key rows carry more).
    expect(readResponse(meta, answer(2, { 'b@x.com,': 'bad key', 'c@x.com,f00d': 'bad FN' }), rows(), ctx, options)).toEqual({
      accepted: [0],
      rejected: [
        { index: 1, reason: 'refused: bad key' },
        { index: 2, reason: 'refused: bad FN' },
      ],
      retry: [],
    });
    // More invalid than named, an entry that is no row of the request (the key as sent, exactly), or a count not a number: which rows were taken is unknown.
    for (const [count, samples] of [
      [2, { 'b@x.com,': 'bad key' }],
      [1, { 'a@x.com,': 'bad key' }],
      ['many', {}],
    ] as const) {
      const v = readResponse(meta, answer(count, samples), rows(), ctx, options);
      expect(v.accepted).toEqual([]);
      expect(v.rejected.map((r) => r.index)).toEqual([0, 1, 2]);
    }
    // A key may hold a comma: read as all but the entry's other values (Meta refused `abc,def`, not `abc`); where their count
    // is not known, an entry that begins with two rows' keys names neither.
    const commas = [
      { key: 'abc', destination_id: null },
      { key: 'abc,def', destination_id: null },
    ];
    expect(readResponse({ accept: invalidEntries(1) }, answer(1, { 'abc,def': 'invalid extern id' }), commas, ctx, options)).toEqual({
      accepted: [0],
      rejected: [{ index: 1, reason: 'refused: invalid extern id' }],
      retry: [],
    });
    expect(readResponse(meta, answer(1, { 'abc,def,f00d': 'bad FN' }), commas, ctx, options).rejected).toEqual([{ index: 1, reason: 'refused: bad FN' }]);
    const uncounted = { accept: { by: 'status' as const, invalid: { count: '/num_invalid_entries', samples: '/invalid_entry_samples', separator: ',' } } };
    const either = readResponse(uncounted, answer(1, { 'abc,def': 'invalid extern id' }), commas, ctx, options);
    expect([either.accepted, either.rejected.map((r) => [r.index, r.unsure])]).toEqual([
      [],
      [
        [0, true],
        [1, true],
      ],
    ]);
    const partly = readResponse(meta, answer(2, { 'b@x.com,': 'bad key' }), rows(), ctx, options).rejected;
    expect(partly[1]?.reason).toBe('refused: bad key');
    expect(partly[0]?.reason).toMatch(
      /^the response counts 2 invalid entries and names 1 of them, so which rows were taken is unknown; all are sent again: HTTP 200/,
    );
  });

  it("by status with the ids it has no record of, as HubSpot's list memberships answer recordIdsMissing: those rows refused; an id no row's, or no list, refuses all as unsure", () => {
    const add = { accept: { by: 'status' as const, missing: '/recordIdsMissing' } };
    const members = () => [
      { key: 'a@x.com', destination_id: '101' },
      { key: 'b@x.com', destination_id: '102' },
      { key: 'c@x.com', destination_id: '103' },
    ];
    const answer = (missing: unknown) => res(200, { recordIdsAdded: ['101', '103'], recordIdsMissing: missing });
    expect(readResponse(add, answer([]), members(), ctx, options)).toEqual({ accepted: [0, 1, 2], rejected: [], retry: [] });
    expect(readResponse(add, res(200, { recordIdsAdded: [] }), members(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(add, answer(['102']), members(), ctx, options)).toEqual({
      accepted: [0, 2],
      rejected: [{ index: 1, reason: 'refused: the destination has no record "102", so it ignored the row' }],
      retry: [],
    });
    expect(readResponse(add, answer([103]), members(), ctx, options).accepted).toEqual([0, 1]);
    for (const missing of [['999'], '102', { id: '102' }, [null]]) {
      const v = readResponse(add, answer(missing), members(), ctx, options);
      expect(v.accepted).toEqual([]);
      expect(v.rejected.map((r) => [r.index, r.unsure])).toEqual([
        [0, true],
        [1, true],
        [2, true],
      ]);
    }
  });

  it("by status with a partial refusal, as Mixpanel's plan reads a strict=1 400: the rows named are refused, the rest accepted, nothing sent again; else split as before", () => {
    const mixpanel = { accept: imported };
    const failed = (index: unknown, message: string) => ({ index, $insert_id: `id${String(index)}`, field: 'properties.time', message });
    const answer = (status: number, records: unknown[], count?: unknown) =>
      res(status, {
        code: status,
        error: 'some data points in the request failed validation',
        failed_records: records,
        num_records_imported: count,
        status: 'Bad Request',
      });
    expect(readResponse(mixpanel, answer(400, [failed(1, 'properties.time is invalid')], 2), rows(), ctx, options)).toEqual({
      accepted: [0, 2],
      rejected: [{ index: 1, reason: 'refused: properties.time is invalid' }],
      retry: [],
    });
    // Two failures of one event are one row refused, with both reasons; every row named, none taken.
    expect(readResponse(mixpanel, answer(400, [failed(0, 'a'), failed(2, 'b'), failed(0, 'c'), failed(1, 'd')], 0), rows(), ctx, options)).toEqual({
      accepted: [],
      rejected: [
        { index: 0, reason: 'refused: a; refused: c' },
        { index: 2, reason: 'refused: b' },
        { index: 1, reason: 'refused: d' },
      ],
      retry: [],
    });
    // A lone row is refused with Mixpanel's message rather than the whole answer.
    expect(readResponse(mixpanel, answer(400, [failed(0, 'bad id')], 0), rows().slice(0, 1), ctx, options)).toEqual({
      accepted: [],
      rejected: [{ index: 0, reason: 'refused: bad id' }],
      retry: [],
    });
    // Which rows were taken is not said: a count that disagrees (or is missing, or text), no row named, one out of
    // range or not a number, or another status: the batch is split as any 400 is.
    for (const [status, records, count] of [
      [400, [failed(1, 'x')], 1],
      [400, [failed(1, 'x')], 3],
      [400, [failed(1, 'x')], undefined],
      [400, [failed(1, 'x')], '2'],
      [400, [], 3],
      [400, [failed(3, 'x')], 2],
      [400, [failed('1', 'x')], 2],
      [422, [failed(1, 'x')], 2],
    ] as const) {
      const v = readResponse(mixpanel, answer(status, [...records], count), rows(), ctx, options);
      expect(v).toMatchObject({ accepted: [], rejected: [], retry: [0, 1, 2], split: true });
    }
    expect(readResponse(mixpanel, res(400, 'Bad Request'), rows(), ctx, options)).toMatchObject({ retry: [0, 1, 2], split: true });
    // Without `imported`, the rows named are enough.
    const uncounted = {
      accept: { by: 'status' as const, partial: { status: 400, refusals: { items: '/failed_records/*', index: '/index', reason: '/message' } } },
    };
    expect(readResponse(uncounted, answer(400, [failed(2, 'x')]), rows(), ctx, options).accepted).toEqual([0, 1]);
    // A 2xx whose count is every row, or that gives none, takes every row; another count (or one not a number) leaves unsaid
    // which were taken: the rows go again in halves, as perhaps applied.
    const ok = (count?: unknown) => res(200, { code: 200, num_records_imported: count, status: 'OK' });
    expect(readResponse(mixpanel, ok(3), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    expect(readResponse(mixpanel, ok(), rows(), ctx, options).accepted).toEqual([0, 1, 2]);
    for (const count of [2, 0, 4, '3', null]) {
      const v = readResponse(mixpanel, ok(count), rows(), ctx, options);
      expect(v).toMatchObject({ accepted: [], rejected: [], retry: [0, 1, 2], split: true, unsure: true });
      expect(v.reason).toMatch(/^the answer counts (\d+|no number of) rows as taken where it took 3 of 3, so which were taken is unknown: HTTP 200/);
    }
  });

  // HubSpot's rule: items by the email sent, each capturing its record's id.
  const byEmail = {
    accept: { by: 'items' as const, items: '/results', match: 'key' as const, key: '/properties/email' },
    captureRow: { destination_id: '/id' },
  };

  it('by items matched by the exact key sent: captures record ids, rejects rows without an item with the error naming them', () => {
    const rs = rows();
    const body = {
      results: [
        { id: '11', properties: { email: 'A@x.com' } },
        { id: '33', properties: { email: 'c@x.com' } },
      ],
      errors: [{ message: 'Property values were not valid', context: { ids: ['b@x.com'] } }],
    };
    const v = readResponse(byEmail, res(207, body), rs, ctx, options);
    expect(v).toEqual({ accepted: [0, 2], rejected: [{ index: 1, reason: 'Property values were not valid' }], retry: [] });
    expect(rs.map((x) => x.destination_id)).toEqual(['11', null, '33']);
  });

  it('by items: a row with a result and an error naming it is refused as unsure, its id not kept; the others are read as before', () => {
    const rs = rows();
    const body = {
      status: 'COMPLETE',
      results: [
        { id: '11', properties: { email: 'A@x.com' } },
        { id: '22', properties: { email: 'b@x.com' } },
        { id: '33', properties: { email: 'c@x.com' } },
      ],
      errors: [{ status: 'error', category: 'VALIDATION_ERROR', message: 'Property values were not valid', context: { ids: ['b@x.com'] } }],
    };
    const v = readResponse(byEmail, res(200, body), rs, ctx, options);
    expect(v).toEqual({
      accepted: [0, 2],
      rejected: [
        {
          index: 1,
          reason: 'the answer has a result for the row and an error naming it, so whether it was applied is unknown: Property values were not valid',
          unsure: true,
        },
      ],
      retry: [],
    });
    expect(rs.map((x) => x.destination_id)).toEqual(['11', null, '33']);
  });

  it('by items: a captured id holding more than letters, digits and - . _ ~ is not kept (a later `?ids=a,b` would name other records); its row is unsure', () => {
    const rs = rows();
    const inOrder: Acceptance = { by: 'items', items: '', match: 'order', success: { pointer: '/success', equals: true } };
    const body = [
      { id: '001A000001', success: true },
      { id: '001B000002,001C000003', success: true },
      { id: '001D-0_4.~', success: true },
    ];
    const v = readResponse({ accept: inOrder, captureRow: { destination_id: '/id' } }, res(200, body), rs, ctx, options);
    expect(v.accepted).toEqual([0, 2]);
    expect(v.rejected).toEqual([{ index: 1, reason: expect.stringContaining('the id "001B000002,001C000003", which is not an id'), unsure: true }]);
    expect(rs.map((x) => x.destination_id)).toEqual(['001A000001', null, '001D-0_4.~']);
  });

  it('absent done: a row no result carries is done, unless an error names it (a lookup refused for another reason)', () => {
    const body = {
      results: [{ id: '11', properties: { email: 'A@x.com' } }],
      errors: [{ message: 'Rate limited for this object', context: { ids: ['b@x.com'] } }],
    };
    const v = readResponse(
      { accept: { by: 'items', items: '/results', match: 'key', key: '/properties/email', absent: 'done' }, captureRow: { destination_id: '/id' } },
      res(207, body),
      rows(),
      ctx,
      options,
    );
    expect(v).toEqual({ accepted: [0], rejected: [{ index: 1, reason: 'Rate limited for this object' }], retry: [], done: [2] });
  });

  it('absent done with absentError: an error that says the row is not found settles it; another naming a row refuses it', () => {
    const body = {
      results: [{ id: '11', properties: { email: 'A@x.com' } }],
      errors: [
        { category: 'OBJECT_NOT_FOUND', message: 'Could not get some objects', context: { ids: ['b@x.com'] } },
        { category: 'RATE_LIMITS', message: 'Rate limited for this object', context: { ids: ['c@x.com'] } },
      ],
    };
    const accept = {
      by: 'items' as const,
      items: '/results',
      match: 'key' as const,
      key: '/properties/email',
      keyCase: 'insensitive' as const,
      absent: 'done' as const,
      absentError: { pointer: '/category', equals: 'OBJECT_NOT_FOUND' },
    };
    const of = (...keys: string[]) => keys.map((key) => ({ key, destination_id: null as string | null }));
    const v = readResponse({ accept, captureRow: { destination_id: '/id' } }, res(207, body), of('a@x.com', 'b@x.com', 'c@x.com'), ctx, options);
    expect(v).toEqual({ accepted: [0], rejected: [{ index: 2, reason: 'Rate limited for this object' }], retry: [], done: [1] });
  });

  it("absent done only where the answer accounts for all it holds: no error naming no row, no result that is no row's", () => {
    const lookup = { by: 'items' as const, items: '/results', match: 'key' as const, key: '/properties/email', absent: 'done' as const };
    const notFound = { ...lookup, absentError: { pointer: '/category', equals: 'OBJECT_NOT_FOUND' } };
    const of = (...keys: string[]) => keys.map((key) => ({ key, destination_id: null as string | null }));
    const read = (accept: typeof lookup | typeof notFound, body: unknown, keys: string[]) =>
      readResponse({ accept, captureRow: { destination_id: '/id' } }, res(207, body), of(...keys), ctx, options);
    // An error that names no row (a rate limit) may be why both results are missing.
    const limited = { results: [], errors: [{ category: 'RATE_LIMITS', message: 'Rate limited', context: {} }] };
    for (const accept of [lookup, notFound]) {
      const v = read(accept, limited, ['a@x.com', 'b@x.com']);
      expect(v.done).toBeUndefined();
      expect(v.rejected.map((r) => [r.index, r.unsure])).toEqual([
        [0, true],
        [1, true],
      ]);
    }
    // A result under a key no row has (the destination trimmed "a@x.com "): the missing row may be it.
    const trimmed = read(lookup, { results: [{ id: '901', properties: { email: 'a@x.com' } }] }, ['a@x.com ', 'b@x.com']);
    expect(trimmed.done).toBeUndefined();
    expect(trimmed.rejected.map((r) => r.index)).toEqual([0, 1]);
    // Everything accounted for: the row no result carries is done.
    expect(read(lookup, { results: [{ id: '902', properties: { email: 'b@x.com' } }] }, ['a@x.com', 'b@x.com'])).toMatchObject({ accepted: [1], done: [0] });
  });

  it('absent with absentKeepsId: a row not found goes on with the id its write recorded; complete: a page of a longer answer settles none', () => {
    const notFound = {
      by: 'items' as const,
      items: '/results',
      match: 'key' as const,
      key: '/properties/email',
      absent: 'done' as const,
      absentError: { pointer: '/category', equals: 'OBJECT_NOT_FOUND' },
      absentKeepsId: true as const,
    };
    const rows = [
      { key: 'a@x.com', destination_id: '901' as string | null },
      { key: 'b@x.com', destination_id: null as string | null },
    ];
    const body = { results: [], errors: [{ category: 'OBJECT_NOT_FOUND', message: 'Could not get some objects', context: { ids: ['a@x.com', 'b@x.com'] } }] };
    const v = readResponse({ accept: notFound, captureRow: { destination_id: '/id' } }, res(207, body), rows, ctx, options);
    expect(v).toEqual({ accepted: [0], rejected: [], retry: [], done: [1] });
    expect(rows[0]?.destination_id).toBe('901');
    // Salesforce: a query answer that is one page of several says nothing of the rows it does not hold.
    const soql = { by: 'items' as const, items: '/records', match: 'key' as const, key: '/Email', absent: 'done' as const, complete: '/done' };
    const of = (...keys: string[]) => keys.map((key) => ({ key, destination_id: null as string | null }));
    const page = { totalSize: 3, done: false, nextRecordsUrl: '/services/data/v60.0/query/01g-2000', records: [{ Id: '003A', Email: 'a@x.com' }] };
    const paged = readResponse({ accept: soql, captureRow: { destination_id: '/Id' } }, res(200, page), of('a@x.com', 'c@x.com'), ctx, options);
    expect(paged.done).toBeUndefined();
    expect(paged.accepted).toEqual([0]);
    const whole = readResponse(
      { accept: soql, captureRow: { destination_id: '/Id' } },
      res(200, { ...page, done: true }),
      of('a@x.com', 'c@x.com'),
      ctx,
      options,
    );
    expect(whole).toMatchObject({ accepted: [0], done: [1] });
  });

  it('never takes a result that differs from the key sent, or that another row could own', () => {
    const accept = { by: 'items' as const, items: '/results', match: 'key' as const, key: '/properties/ref' };
    const of = (...keys: string[]) => keys.map((key) => ({ key, destination_id: null as string | null }));
    // acme-1 refused, ACME-1 accepted: acme-1 is not ACME-1.
    const refusedAndAccepted = of('acme-1', 'ACME-1');
    const v = readResponse(
      { accept, captureRow: { destination_id: '/id' } },
      res(207, { results: [{ id: '7', properties: { ref: 'ACME-1' } }], errors: [{ message: 'invalid' }] }),
      refusedAndAccepted,
      ctx,
      options,
    );
    expect(v.accepted).toEqual([1]);
    expect(v.rejected).toEqual([
      {
        index: 0,
        reason:
          'the response has no result for the key "acme-1" (one for "ACME-1", which differs in case: results are matched by the exact key sent) (HTTP 207)',
        unsure: true,
      },
    ]);
    expect(refusedAndAccepted.map((r) => r.destination_id)).toEqual([null, '7']);
    // Where the destination ignores case, two rows that differ only in case cannot be told apart.
    const both = readResponse(
      { accept: { ...accept, keyCase: 'insensitive' } },
      res(200, { results: [{ id: '7', properties: { ref: 'acme-1' } }] }),
      of('acme-1', 'ACME-1', 'B'),
      ctx,
      options,
    );
    expect(both.accepted).toEqual([]);
    expect(both.rejected.map((r) => r.reason)).toEqual([
      'another row of the request has the key "acme-1" (ignoring case, as the destination does), so neither result can be told apart (HTTP 200)',
      'another row of the request has the key "ACME-1" (ignoring case, as the destination does), so neither result can be told apart (HTTP 200)',
      'the response has no result for the key "B" (HTTP 200)',
    ]);
    // ... and where it does, a key echoed in another case is the row's own.
    expect(
      readResponse(
        { accept: { ...accept, keyCase: 'insensitive' } },
        res(200, { results: [{ id: '7', properties: { ref: 'a@x.com' } }] }),
        of('A@x.com'),
        ctx,
        options,
      ).accepted,
    ).toEqual([0]);
    // Two results for one key: neither is taken.
    const twice = readResponse({ accept }, res(200, { results: [{ properties: { ref: 'k' } }, { properties: { ref: 'k' } }] }), of('k'), ctx, options);
    expect(twice.rejected[0]?.reason).toBe('the response has 2 results for the key "k" (HTTP 200)');
  });

  it('by items in order, with a per-item success test; a response with another count matches no row', () => {
    const inOrder = { accept: { by: 'items' as const, items: '', match: 'order' as const, success: { pointer: '/success', equals: true } } };
    const v = readResponse(inOrder, res(200, [{ success: true }, { success: false, errors: ['DUPLICATE'] }]), rows().slice(0, 2), ctx, options);
    expect(v.accepted).toEqual([0]);
    expect(v.rejected.map((x) => x.index)).toEqual([1]);
    const short = readResponse(inOrder, res(200, [{ success: true }, { success: true }]), rows(), ctx, options);
    expect(short.accepted).toEqual([]);
    expect(short.rejected[2]?.reason).toBe(
      'the response has 2 results for the 3 rows of the request, so its results cannot be matched to rows by position (HTTP 200)',
    );
  });

  it('by items: a failed item whose every code says it is so already is accepted, or sent on to find what is there; others are refused', () => {
    const failed = (...codes: string[]) => ({ success: false, errors: codes.map((statusCode) => ({ statusCode, message: statusCode.toLowerCase() })) });
    const answer = res(200, [failed('ENTITY_IS_DELETED'), failed('ENTITY_IS_DELETED', 'INSUFFICIENT_ACCESS'), { success: false, errors: [] }]);
    const already = { code: '/errors/*/statusCode', codes: ['ENTITY_IS_DELETED'] };
    const accept = { by: 'items' as const, items: '', match: 'order' as const, success: { pointer: '/success', equals: true } };
    const gone = readResponse({ accept: { ...accept, already } }, answer, rows(), ctx, options);
    expect(gone.accepted).toEqual([0]);
    expect(gone.rejected.map((x) => x.index)).toEqual([1, 2]);
    expect(gone.fallback).toBeUndefined();
    // With `find`, such a row is neither accepted nor refused here: it goes on, its reason kept for a refusal there.
    const find = { for: 'batch' as const, request: { method: 'GET' as const, url: 'https://x', headers: {} }, accept: { by: 'status' as const } };
    const there = readResponse({ accept: { ...accept, already: { ...already, find } } }, answer, rows(), ctx, options);
    expect(there.accepted).toEqual([]);
    expect(there.fallback).toEqual([
      {
        index: 0,
        reason:
          'refused: {"success":false,"errors":[{"statusCode":"ENTITY_IS_DELETED","message":"entity_is_deleted"}]}; it is there already, and looking it up failed',
      },
    ]);
  });

  it('by items matched by destination id: the record id an earlier request captured, not the key sent', () => {
    const accept = { by: 'items' as const, items: '/records', match: 'key' as const, key: '/ContactId', rowKey: 'destination_id' as const };
    const batch = [
      { key: 'a@x.com', destination_id: '003A' },
      { key: 'b@x.com', destination_id: '003B' },
    ];
    const v = readResponse({ accept, captureRow: { destination_id: '/Id' } }, res(200, { records: [{ Id: '00vB', ContactId: '003B' }] }), batch, ctx, options);
    expect(v.accepted).toEqual([1]);
    expect(batch.map((r) => r.destination_id)).toEqual(['003A', '00vB']);
    // No error names it: whether the destination applied it is not said.
    expect(v.rejected).toEqual([{ index: 0, reason: 'the response has no result for the key "003A" (HTTP 200)', unsure: true }]);
  });

  it('a whole-request 400, 413 or 422 on several rows asks for halves; alone, the row is rejected; 401 rejects all at once', () => {
    expect(readResponse({ accept: { by: 'status' } }, res(400, { error: 'bad' }), rows(), ctx, options)).toMatchObject({ split: true, retry: [0, 1, 2] });
    expect(readResponse({ accept: { by: 'status' } }, res(422, 'no'), rows().slice(0, 1), ctx, options)).toEqual({
      accepted: [],
      rejected: [{ index: 0, reason: 'HTTP 422: no' }],
      retry: [],
    });
    expect(readResponse({ accept: { by: 'status' } }, res(413, ''), rows().slice(0, 1), ctx, options).rejected[0]?.reason).toBe('too large to send: HTTP 413');
    expect(readResponse({ accept: { by: 'status' } }, res(401, 'who?'), rows(), ctx, options)).toMatchObject({
      rejected: [{ index: 0 }, { index: 1 }, { index: 2 }],
    });
  });

  it('reads JSON Pointers with escapes', () => {
    const doc = { 'a/b': { '~c': [10, 20] } };
    expect(pointerGet(doc, '/a~1b/~0c/1')).toBe(20);
    expect(pointerGet(doc, '/a~1b/~0c/01')).toBeUndefined();
    expect(pointerGet(doc, '')).toBe(doc);
    expect(() => pointerGet(doc, 'a')).toThrow();
  });
});

describe('guards', () => {
  const summary = { model_rows: 100, added: 5, changed: 10, removed: 6, unchanged: 84 };
  it('count and percent bounds, and the empty model', () => {
    expect(guardViolation({ kind: 'guard', description: '', allowEmpty: false, maxDeletes: { value: 6, percent: false } }, summary)).toBeUndefined();
    expect(guardViolation({ kind: 'guard', description: '', allowEmpty: false, maxDeletes: { value: 5, percent: false } }, summary)).toBe(
      "6 deletes exceed the guard's limit of 5",
    );
    // 6 of the 100 rows synced before (6 removed + 10 changed + 84 unchanged).
    expect(guardViolation({ kind: 'guard', description: '', allowEmpty: false, maxDeletes: { value: 5, percent: true } }, summary)).toBe(
      "6 deletes are 6.0% of the 100 records synced, above the guard's 5%",
    );
    // The snapshot's size where the summary has it: its rows of the unknown hash are added, yet synced.
    const percent = { kind: 'guard', description: '', allowEmpty: false, maxDeletes: { value: 10, percent: true } } as const;
    expect(guardViolation(percent, { model_rows: 980, added: 980, removed: 20, synced: 1000 })).toBeUndefined();
    expect(guardViolation(percent, { model_rows: 980, added: 980, removed: 120, synced: 1100 })).toBe(
      "120 deletes are 10.9% of the 1100 records synced, above the guard's 10%",
    );
    expect(guardViolation({ kind: 'guard', description: '', allowEmpty: false }, { ...summary, model_rows: 0 })).toContain('the model has no rows');
    expect(guardViolation({ kind: 'guard', description: '', allowEmpty: true }, { ...summary, model_rows: 0 })).toBeUndefined();
  });
});

describe('step conditions', () => {
  const send = {
    kind: 'send',
    operation: 'replace_members',
    description: '',
    changes: ['added', 'changed', 'unchanged'],
    batch: { size: 10 },
    ordered: true,
    requests: [],
    retry: {},
  } as unknown as SendStep;
  const summary = { model_rows: 100, null_keys: 0, duplicate_keys: 0, added: 0, changed: 0, removed: 0, unchanged: 100 };
  it('`when: changed` holds only with an added, changed or removed row; a step without `when` always runs', () => {
    const replace: SendStep = { ...send, when: 'changed' };
    expect(conditionHolds(replace, summary)).toBe(false);
    expect(conditionHolds(replace, { ...summary, added: 1 })).toBe(true);
    expect(conditionHolds(replace, { ...summary, changed: 1 })).toBe(true);
    expect(conditionHolds(replace, { ...summary, removed: 1, unchanged: 99 })).toBe(true);
    expect(conditionHolds(send, summary)).toBe(true);
    expect(conditionHolds({ kind: 'accept', description: '', changes: ['removed'], when: 'all_accepted' }, summary)).toBe(true);
    // Without a readable summary the step runs: never skipped on a guess.
    expect(conditionHolds(replace, undefined)).toBe(true);
    expect(conditionHolds(replace, { ...summary, added: Number.NaN })).toBe(true);
  });

  it('`when: emptied` holds only when every row was removed; an accept `unless: emptied` is skipped then, and on a summary it cannot read', () => {
    const remove: SendStep = { ...send, operation: 'remove_members', changes: ['removed'], when: 'emptied' };
    const accept: AcceptStep = { kind: 'accept', description: '', changes: ['removed'], when: 'all_accepted', unless: 'emptied' };
    const emptied = { ...summary, model_rows: 0, unchanged: 0, removed: 100 };
    expect(conditionHolds(remove, emptied)).toBe(true);
    expect(conditionHolds(accept, emptied)).toBe(false);
    for (const rows of [summary, { ...emptied, removed: 0 }, { ...emptied, added: 1 }, { ...emptied, changed: 1 }, { ...emptied, unchanged: 1 }]) {
      expect(conditionHolds(remove, rows)).toBe(false);
      expect(conditionHolds(accept, rows)).toBe(true);
    }
    // Not judged on a guess: the deleting step runs, and the accept, which would record removals no request made, does not.
    for (const rows of [undefined, { ...summary, unchanged: Number.NaN, removed: 1 }]) {
      expect(conditionHolds(remove, rows)).toBe(true);
      expect(conditionHolds(accept, rows)).toBe(false);
    }
  });
});

describe('sinks and queries', () => {
  it('splits a batch of records into requests within a byte limit, in order (Kinesis: 5 MiB per PutRecords)', () => {
    const sizes = [3, 4, 2, 5, 1];
    expect(byBytes(sizes, (n) => n, 7)).toEqual([[3, 4], [2, 5], [1]]);
    // A record larger than the limit goes alone (the step refused it before, as too large a message).
    expect(byBytes([9, 1], (n) => n, 7)).toEqual([[9], [1]]);
    expect(byBytes(sizes, (n) => n, undefined)).toEqual([sizes]);
    expect(byBytes([], (n: number) => n, 7)).toEqual([]);
  });

  it('writes CSV by RFC 4180 and keeps names inside the sink folder', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', null, 3, { j: 1 }, 'two\nlines'])).toBe('a,"b,c","say ""hi""",,3,"{""j"":1}","two\nlines"\r\n');
    expect(sinkPath('/sink', 's3', 'bucket', 'abs/key.csv')).toBe('/sink/s3/bucket/abs/key.csv');
    // S3 keeps /abs/key.csv and abs//key.csv apart from abs/key.csv; a folder cannot.
    expect(() => sinkPath('/sink', 's3', 'bucket', '/abs/key.csv')).toThrow(/holds an empty, \. or \.\. step/);
    expect(() => sinkPath('/sink', 's3', 'bucket', 'abs//key.csv')).toThrow(/holds an empty, \. or \.\. step/);
    expect(() => sinkPath('/sink', 's3', '..', '..', 'etc', 'passwd')).toThrow(/holds an empty, \. or \.\. step/);
  });

  it("narrows read.sql to a step's change kinds with the plan's queries", () => {
    const queries = changeQueries('postgres', ['added', 'changed']);
    const query = asSubquery('-- read\nSELECT 1 AS seq ORDER BY seq;\n');
    expect(fillSlots(queries.rows, { query })).toBe(
      `SELECT * FROM (\n-- read\nSELECT 1 AS seq ORDER BY seq\n) AS "read" WHERE "read"."change" IN ('added', 'changed') ORDER BY "read"."seq"`,
    );
    expect(fillSlots(queries.count, { query })).toBe(
      `SELECT CAST(COUNT(*) AS BIGINT) AS "n" FROM (\n-- read\nSELECT 1 AS seq ORDER BY seq\n) AS "read" WHERE "read"."change" IN ('added', 'changed')`,
    );
    // Slots are filled once: a value holding `{{...}}` stays as it is.
    expect(fillSlots('a {{x}} {{y}}', { x: '{{y}}' })).toBe('a {{y}} {{y}}');
  });
});

describe('summary', () => {
  it('counts retries in words', () => {
    const step = (retries: number) => ({ ...stepReport('send', 'post', 'send', 10), accepted: 10, requests: retries + 1, retries });
    const report = (retries: number): PlanReport => ({
      sync: 's',
      plan: 's/plan.json',
      destination: { name: 'd', type: 'webhook' },
      mode: 'record insert',
      dryRun: false,
      status: 'ok',
      steps: [step(retries)],
      operations: {},
      committed: 10,
      rejected: [],
      rejectedTotal: 0,
      startedAt: '2026-01-01T00:00:00.000Z',
      ms: 0,
    });
    expect(planSummary(report(4))).toContain('post: 10/10 accepted, 5 requests, 4 retries (0 ms)');
    expect(planSummary(report(1))).toContain('post: 10/10 accepted, 2 requests, 1 retry (0 ms)');
  });
});

describe('call locks', () => {
  it("wait as long as the holder's calls may take, a server's Retry-After included", () => {
    // 5 tries of 30 s; backoffs 1, 2, 4, 8 s, or up to 120 s each where the server says so.
    expect(callBudgetMs({ ...standardRetry, retryAfter: false }, 30_000, 120_000)).toBe(150_000 + 15_000);
    expect(callBudgetMs(standardRetry, 30_000, 120_000)).toBe(150_000 + 4 * 120_000);
  });
});

describe('progress', () => {
  it('draws a bar in place on a terminal, at most ten times a second', () => {
    const out: string[] = [];
    let t = 0;
    const p = terminalProgress(
      (s) => out.push(s),
      () => t,
    );
    p.start('upsert', 200);
    t = 50;
    p.advance(50);
    t = 500;
    p.advance(50);
    p.finish('upsert: 100 accepted');
    expect(out).toEqual([
      '\r\x1b[2K  upsert [------------------------]   0% 0/200',
      '\r\x1b[2K  upsert [############------------]  50% 100/200',
      '\r\x1b[2K  upsert: 100 accepted\n',
    ]);
  });

  it('writes a plain line every few seconds otherwise', () => {
    const out: string[] = [];
    let t = 0;
    const p = lineProgress(
      (s) => out.push(s),
      () => t,
      5000,
    );
    p.start('post', 10);
    p.advance(3);
    t = 6000;
    p.advance(3);
    p.finish('post: 6 accepted');
    expect(out).toEqual(['  post: 6/10 rows\n', '  post: 6 accepted\n']);
  });
});
