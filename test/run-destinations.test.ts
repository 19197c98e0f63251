// Meta custom audiences, Slack and webhooks end to end: compiled plans run by the executor
// against local fakes of their documented APIs, on the embedded database.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startMeta, type FakeMeta } from './servers/meta.js';
import { startSlack, type FakeSlack } from './servers/slack.js';
import { startWebhook, type FakeWebhook } from './servers/webhook.js';
import { compileFixture, compileText, runSync, sql } from './servers/run-harness.js';
import { scratchPglite, type ScratchDb } from './servers/scratch-db.js';

const build = await compileFixture('test/fixtures/run/project');
const env = { META_TOKEN: 'meta-token', SLACK_TOKEN: 'xoxb-test', HOOK_SECRET: 'hook-secret' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let db: ScratchDb;
let meta: FakeMeta;
let slack: FakeSlack;
let hook: FakeWebhook;
let billing: FakeWebhook;

const run = (sync: string) =>
  runSync(db, build, sync, { env, endpoints: { ads: meta.api.url, chat: slack.api.url, hook: hook.api.url, billing: billing.api.url } });

beforeAll(async () => {
  db = scratchPglite();
  await changePeople(
    `CREATE SCHEMA crm;
     CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
     INSERT INTO crm.people SELECT g, ' User' || g || '@Example.com ', NULL, CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END, g FROM generate_series(1, 60) g;
     CREATE TABLE crm.signups (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
     INSERT INTO crm.signups VALUES (1, 'ada@example.com', 'pro'), (2, 'bob@example.com', 'free'), (3, 'cy@example.com', 'pro');
     -- The club of 'a mirror whose audience becomes empty': a table of its own, emptied there without touching the people the other tests sync.
     CREATE TABLE crm.club (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
     INSERT INTO crm.club SELECT g, 'Member' || g || '@Example.com', CASE WHEN g > 20 THEN 'free' ELSE 'pro' END FROM generate_series(1, 30) g`,
  );
  [meta, slack, hook, billing] = await Promise.all([
    startMeta({ token: env.META_TOKEN }),
    startSlack({ token: env.SLACK_TOKEN, channels: ['#signups'] }),
    startWebhook({ secret: env.HOOK_SECRET }),
    startWebhook(),
  ]);
});
afterAll(async () => {
  await Promise.all([meta.api.close(), slack.api.close(), hook.api.close(), billing.api.close()]);
  await db.drop();
});

/** Meta's rule: trimmed and lower-cased, then SHA-256. */
const member = (id: number) => sha256(`user${id}@example.com`);

/**
 * crm.people as the tests last left it: its row count, and its paying members as Meta's rule
 * hashes them. Read in the session of each change the tests make to it (changePeople): only
 * this file's tests change it, and a run only reads it. A session of its own for each read cost
 * the embedded database's open again, a large part of a second.
 */
let people = { count: 0, paying: [] as string[] };
async function changePeople(script: string): Promise<void> {
  const results = await sql(db, `${script}; SELECT count(*)::int AS n FROM crm.people; SELECT id::int AS id FROM crm.people WHERE plan <> 'free' ORDER BY id`);
  people = {
    count: (results.at(-2) as { n: number }[])[0]?.n ?? 0,
    paying: (results.at(-1) as { id: number }[]).map((r) => member(r.id)).sort(),
  };
}
const peopleCount = () => people.count;
const paying = () => [...people.paying];

/** A project of one sync, a mirror of the paying people into a Meta audience of its own: its run. */
async function payingMirror(sync: string, audience: string, settings = '') {
  const build = await compileText(`
source warehouse : postgres { database "app" version 15 }
model people { from warehouse table crm.people primary key id columns { id bigint email string first_name string? plan string score int } }
audience paying { from people where plan <> 'free' }
destination ads : facebook_ads { ad_account "act_1234567890" token env("META_TOKEN") }
sync ${sync} { from paying to ads audience ${JSON.stringify(audience)} mode mirror identifier email -> email ${settings} guard deletes <= 50% }`);
  return () => runSync(db, build, sync, { env, endpoints: { ads: meta.api.url } });
}

describe('Meta custom audiences', () => {
  it('add: creates the audience, adds every member hashed; a second run makes no request at all', async () => {
    const r = await run('paying_to_meta_add');
    expect(r).toMatchObject({ status: 'ok', operations: { add_members: 40 } });
    const id = meta.idOf('Paying (add only)') as string;
    expect(meta.members(id)).toEqual(paying());
    const posts = meta.api.requests.filter((q) => q.path.endsWith('/users'));
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toMatchObject({ payload: { schema: ['EMAIL'] } });

    const before = meta.api.requests.length;
    expect((await run('paying_to_meta_add')).status).toBe('ok');
    expect(meta.api.requests.length).toBe(before);
  });

  it('add: one new member sends one request with one row; a member who leaves stays', async () => {
    await changePeople(`INSERT INTO crm.people VALUES (61, 'user61@example.com', NULL, 'pro', 61); UPDATE crm.people SET plan = 'free' WHERE id = 1`);
    const before = meta.api.requests.length;
    const r = await run('paying_to_meta_add');
    expect(r).toMatchObject({ status: 'ok', operations: { add_members: 1 } });
    const sent = meta.api.requests.slice(before).filter((q) => q.path.endsWith('/users'));
    expect(sent.map((q) => (q.body as { payload: { data: unknown[] } }).payload.data)).toEqual([[[member(61)]]]);
    expect(meta.members(meta.idOf('Paying (add only)') as string)).toContain(member(1));
  });

  it('mirror: replaces the list in a usersreplace session; leavers are gone, joiners in, after retried failures', async () => {
    const first = await run('paying_to_meta');
    expect(first.status).toBe('ok');
    const id = meta.idOf('Paying customers') as string;
    expect(meta.members(id)).toEqual(paying());

    await changePeople(`UPDATE crm.people SET plan = 'free' WHERE id IN (2, 4); UPDATE crm.people SET plan = 'pro' WHERE id = 3`);
    const faults = [fault.tooMany('1'), fault.status(503)];
    meta.api.failWhen((q) => (q.path.endsWith('/usersreplace') ? faults.shift() : undefined));
    const from = meta.api.requests.length;
    const r = await run('paying_to_meta');
    meta.api.failWhen(undefined);
    expect(r).toMatchObject({ status: 'ok', changes: { removed: 2, added: 1 } });
    // The session removed the leavers: no DELETE, and the accept step recorded them.
    expect(meta.api.requests.slice(from).filter((q) => q.method === 'DELETE')).toEqual([]);
    expect(r.steps.find((s) => s.operation === 'remove_members')).toMatchObject({
      requests: 0,
      skipped: 'the model still has rows (a replace removes those that left)',
    });
    expect(r.steps.find((s) => s.operation === 'accept')).toMatchObject({ accepted: 2 });
    expect(meta.members(id)).toEqual(paying());
    expect(meta.members(id)).not.toContain(member(2));
    const sessions = meta.api.served
      .filter((q) => q.path.endsWith('/usersreplace'))
      .map((q) => (q.body as { session: { batch_seq: number; last_batch_flag: boolean } }).session);
    expect(sessions.at(-1)).toMatchObject({ batch_seq: 1, last_batch_flag: true });
    expect(r.steps.find((s) => s.operation === 'replace_members')?.retries).toBe(2);
  });

  it('mirror: a second run on unchanged data makes no request at all; one new member replaces the whole list once', async () => {
    const id = meta.idOf('Paying customers') as string;
    const before = meta.api.requests.length;
    const same = await run('paying_to_meta');
    expect(same).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0 }, operations: { replace_members: 0, accept: 0 }, committed: 0 });
    expect(same.steps.find((s) => s.operation === 'replace_members')).toMatchObject({ rows: 0, requests: 0, skipped: 'no row was added, changed or removed' });
    expect(meta.api.requests.length).toBe(before);

    await changePeople(`UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
    const r = await run('paying_to_meta');
    const members = paying();
    expect(r).toMatchObject({
      status: 'ok',
      changes: { added: 1, changed: 0, removed: 0 },
      operations: { replace_members: members.length },
      committed: members.length,
    });
    const replaces = meta.api.requests.slice(before).filter((q) => q.path.endsWith('/usersreplace'));
    expect(replaces).toHaveLength(1);
    const body = replaces[0]?.body as { payload: { data: string[][] }; session: { batch_seq: number; last_batch_flag: boolean } };
    expect(body.session).toMatchObject({ batch_seq: 1, last_batch_flag: true });
    expect(body.payload.data.map((row) => row[0]).sort()).toEqual(members);
    expect(meta.members(id)).toEqual(members);

    const after = meta.api.requests.length;
    expect((await run('paying_to_meta')).changes).toMatchObject({ added: 0, changed: 0, removed: 0 });
    expect(meta.api.requests.length).toBe(after);
  });

  it('mirror: a replace batch refused as too large is not split (both halves ended the session, the audience left with one of them); nothing commits until a whole session lands', async () => {
    const runSmall = await payingMirror('paying_whole', 'Paying (whole)');
    // The first replace request, the whole audience in one batch, is refused as too large.
    let refused = 0;
    meta.api.failWhen((q) => {
      if (!q.path.endsWith('/usersreplace') || refused++ > 0) return undefined;
      return fault.status(413, { error: { message: 'Request Entity Too Large', code: 1 } });
    });
    const from = meta.api.requests.length;
    const r = await runSmall();
    meta.api.failWhen(undefined);
    expect(r.status).toBe('rejected');
    expect(r.rejected.every((x) => x.reason.includes('not sent in parts'))).toBe(true);
    expect(r.rejected).toHaveLength(paying().length);
    expect(meta.api.requests.slice(from).filter((q) => q.path.endsWith('/usersreplace'))).toHaveLength(1);
    // Nothing was committed: the next run replaces the whole audience in one session.
    const again = await runSmall();
    expect(again).toMatchObject({ status: 'ok', changes: { added: paying().length } });
    expect(meta.members(meta.idOf('Paying (whole)') as string)).toEqual(paying());
  });

  it('mirror in several batches: a session left incomplete commits none of its rows, so the next run replaces again', async () => {
    const runSmall = await payingMirror('paying_in_batches', 'Paying (batches of 20)', 'batch 20');
    const replaces = (from: number) => meta.api.requests.slice(from).filter((q) => q.path.endsWith('/usersreplace'));

    let from = meta.api.requests.length;
    expect(await runSmall()).toMatchObject({ status: 'ok' });
    const id = meta.idOf('Paying (batches of 20)') as string;
    expect(meta.members(id)).toEqual(paying());
    expect(replaces(from).length).toBeGreaterThan(1);

    // One member joins; Meta refuses every batch but the one that carries them, so the session never completes.
    await changePeople(`UPDATE crm.people SET plan = 'pro' WHERE id = 9`);
    const joiner = member(9);
    meta.api.failWhen((q) =>
      q.path.endsWith('/usersreplace') && !q.raw.includes(joiner) ? fault.status(403, { error: { message: 'refused', code: 200 } }) : undefined,
    );
    from = meta.api.requests.length;
    const failed = await runSmall();
    meta.api.failWhen(undefined);
    expect(failed).toMatchObject({ status: 'rejected', changes: { added: 1 }, committed: 0 });
    expect(replaces(from).some((q) => q.raw.includes(joiner) && !q.fault)).toBe(true);
    expect(meta.members(id)).not.toContain(joiner);

    // The joiner is still a change, so the whole list is sent again, and this time it lands.
    const again = await runSmall();
    expect(again).toMatchObject({ status: 'ok', changes: { added: 1, removed: 0 } });
    expect(meta.members(id)).toEqual(paying());
    expect(meta.members(id)).toContain(joiner);

    from = meta.api.requests.length;
    expect((await runSmall()).status).toBe('ok');
    expect(meta.api.requests.length).toBe(from);
  });

  it('several audiences of the name (made in Ads Manager): the oldest by its creation time is used, and the report says so', async () => {
    // The edge answers in no documented order (the fake: newest first), so the run orders the matches itself.
    const oldest = meta.addAudience('act_1234567890', 'Paying (twice)');
    const newer = meta.addAudience('act_1234567890', 'Paying (twice)');
    const r = await (await payingMirror('paying_twice', 'Paying (twice)'))();
    expect(r.status).toBe('ok');
    expect(meta.members(oldest)).toEqual(paying());
    expect(meta.members(newer)).toEqual([]);
    expect(r.warnings).toEqual([expect.stringContaining(`find_audience (look up the custom audience "Paying (twice)"`)]);
    expect(r.warnings?.[0]).toContain(`found 2; this run used the first in the plan's order (list_id ${oldest})`);
  });

  it('a lookup answered 200 with a body that is not JSON fails the run; no audience is made beside the one there', async () => {
    const there = meta.addAudience('act_1234567890', 'Paying (unread)');
    const runUnread = await payingMirror('paying_unread', 'Paying (unread)');
    meta.api.failWhen((q) => (q.method === 'GET' && q.path.endsWith('/customaudiences') ? fault.status(200, '<html>maintenance</html>') : undefined));
    const from = meta.api.requests.length;
    try {
      const r = await runUnread();
      expect(r.status).toBe('failed');
      expect(r.error).toBe('find_audience failed: the answer is not JSON, so what it found is unknown: HTTP 200: <html>maintenance</html>');
      expect(meta.api.requests.slice(from).map((q) => q.method)).toEqual(['GET']);
    } finally {
      meta.api.failWhen(undefined);
    }
    expect(await runUnread()).toMatchObject({ status: 'ok' });
    expect(meta.idOf('Paying (unread)')).toBe(there);
    expect(meta.members(there)).toEqual(paying());
  });
});

describe('Meta custom audiences, entries a 200 counts invalid', () => {
  it('the rows it names by their hash are refused and not committed; a count beyond those named refuses the batch; each is sent again', async () => {
    const build = await compileText(`
source warehouse : postgres { database "app" version 15 }
model people { from warehouse table crm.people primary key id columns { id bigint email string plan string } }
audience paying { from people where plan <> 'free' }
destination ads : facebook_ads { ad_account "act_1234567890" token env("META_TOKEN") }
sync paying_checked { from paying to ads audience "Paying (checked)" mode add identifier email -> email }`);
    const runAdd = () => runSync(db, build, 'paying_checked', { env, endpoints: { ads: meta.api.url } });
    const snapshot = async () => ((await sql(db, 'SELECT count(*)::int AS n FROM syncwright.paying_checked_snapshot'))[0] as { n: number }[])[0]?.n;
    const all = paying();
    const bad = all[0] as string;

    meta.options.reject = (row) => (row.includes(bad) ? 'not a match key Meta takes' : undefined);
    const first = await runAdd();
    meta.options.reject = undefined;
    expect(first).toMatchObject({ status: 'rejected', changes: { added: all.length }, committed: all.length - 1 });
    expect(first.rejected).toEqual([{ key: bad, change: 'added', operation: 'add_members', fate: 'rejected', reason: 'refused: not a match key Meta takes' }]);
    const id = meta.idOf('Paying (checked)') as string;
    expect(meta.members(id)).toEqual(all.filter((m) => m !== bad));
    expect(await snapshot()).toBe(all.length - 1);

    // Meta counts an invalid entry but names none: which was not taken is unknown, so the batch is refused whole.
    meta.api.failWhen((q) =>
      q.path.endsWith('/users') ? fault.status(200, { audience_id: id, num_received: 1, num_invalid_entries: 1, invalid_entry_samples: {} }) : undefined,
    );
    const unnamed = await runAdd();
    meta.api.failWhen(undefined);
    expect(unnamed).toMatchObject({ status: 'rejected', changes: { added: 1 }, committed: 0 });
    expect(unnamed.rejected).toEqual([
      {
        key: bad,
        change: 'added',
        operation: 'add_members',
        fate: 'rejected',
        reason: expect.stringContaining('counts 1 invalid entry and names none of them'),
      },
    ]);

    expect(await runAdd()).toMatchObject({ status: 'ok', changes: { added: 1 }, committed: 1 });
    expect(meta.members(id)).toEqual(all);
    expect(await snapshot()).toBe(all.length);
  });
});

describe('Meta custom audiences, a mirror whose audience becomes empty', () => {
  // A table of its own, emptied here without touching the people the other tests sync.
  const clubMember = (id: number) => sha256(`member${id}@example.com`);
  const project = `
source warehouse : postgres { database "app" version 15 }
model club { from warehouse table crm.club primary key id columns { id bigint email string plan string } }
audience club_paying { from club where plan <> 'free' }
destination ads : facebook_ads { ad_account "act_1234567890" token env("META_TOKEN") }
sync club_to_meta { from club_paying to ads audience "Club" mode mirror identifier email -> email }
sync club_to_meta_emptied { from club_paying to ads audience "Club (emptied)" mode mirror identifier email -> email guard allow empty }`;
  let clubBuild: string;
  const runClub = (sync: string) => runSync(db, clubBuild, sync, { env, endpoints: { ads: meta.api.url } });
  const snapshot = async (sync: string) => ((await sql(db, `SELECT count(*)::int AS n FROM syncwright.${sync}_snapshot`))[0] as { n: number }[])[0]?.n;
  const members = (name: string) => meta.members(meta.idOf(name) as string);
  const sent = (from: number) => meta.api.requests.slice(from).filter((q) => /\/users(replace)?$/.test(q.path));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  beforeAll(async () => {
    // crm.club: made with the file's other tables (its 30 members, the first 20 paying).
    clubBuild = await compileText(project);
  });

  it('without `guard allow empty` the guard trips: nothing is sent, the audience and the snapshot keep every member', async () => {
    const paying = range(1, 20).map(clubMember).sort();
    expect(await runClub('club_to_meta')).toMatchObject({ status: 'ok', changes: { added: 20 }, committed: 20 });
    expect(await runClub('club_to_meta_emptied')).toMatchObject({ status: 'ok', changes: { added: 20 }, committed: 20 });
    expect(members('Club')).toEqual(paying);
    expect(members('Club (emptied)')).toEqual(paying);

    await sql(db, `UPDATE crm.club SET plan = 'free'`);
    const before = meta.api.requests.length;
    const r = await runClub('club_to_meta');
    expect(r).toMatchObject({ status: 'guarded', committed: 0, error: expect.stringContaining('the model has no rows') });
    expect(meta.api.requests.length).toBe(before);
    expect(members('Club')).toEqual(paying);
    expect(await snapshot('club_to_meta')).toBe(20);
  });

  it('with `guard allow empty`, a removal Meta refuses commits nothing: the audience and the snapshot keep every member', async () => {
    meta.api.failWhen((q) =>
      q.method === 'DELETE' && q.path.endsWith('/users')
        ? fault.status(400, { error: { message: '(#2650) Failed to update the custom audience', code: 2650 } })
        : undefined,
    );
    const from = meta.api.requests.length;
    const r = await runClub('club_to_meta_emptied');
    meta.api.failWhen(undefined);
    expect(r).toMatchObject({ status: 'rejected', changes: { added: 0, changed: 0, unchanged: 0, removed: 20 }, committed: 0 });
    expect(r.rejected).toHaveLength(20);
    // Refused whole, the batch is split until each row stands alone: every request a DELETE of the users edge, none taken.
    expect(new Set(sent(from).map((q) => `${q.method} ${q.path.split('/').at(-1)} ${q.fault ? 'refused' : 'served'}`))).toEqual(
      new Set(['DELETE users refused']),
    );
    expect(members('Club (emptied)')).toEqual(range(1, 20).map(clubMember).sort());
    expect(await snapshot('club_to_meta_emptied')).toBe(20);
  });

  it('with `guard allow empty`, the members who left are deleted from the audience; an entry Meta counts invalid stays, in the audience and in the snapshot', async () => {
    const kept = clubMember(7);
    meta.options.reject = (row) => (row === kept ? 'not a match key Meta takes' : undefined);
    const from = meta.api.requests.length;
    const r = await runClub('club_to_meta_emptied');
    meta.options.reject = undefined;
    expect(r).toMatchObject({ status: 'rejected', changes: { removed: 20 }, operations: { remove_members: 19 }, committed: 19 });
    expect(r.rejected).toEqual([
      { key: kept, change: 'removed', operation: 'remove_members', fate: 'rejected', reason: 'refused: not a match key Meta takes' },
    ]);
    // One DELETE of the users edge with the removed rows' hashed identifiers; no replace session.
    const deletes = sent(from);
    expect(deletes.map((q) => q.method)).toEqual(['DELETE']);
    const body = deletes[0]?.body as { payload: { schema: string[]; is_raw: boolean; data: string[][] } };
    expect(body.payload).toMatchObject({ schema: ['EMAIL'], is_raw: true });
    expect(body.payload.data.map((row) => row[0]).sort()).toEqual(range(1, 20).map(clubMember).sort());
    expect(members('Club (emptied)')).toEqual([kept]);
    expect(await snapshot('club_to_meta_emptied')).toBe(1);
    // No replace ran, so the accept step, which would record every removal, did not.
    expect(r.steps.find((s) => s.operation === 'replace_members')).toMatchObject({ rows: 0, requests: 0 });
    expect(r.steps.find((s) => s.operation === 'accept')).toMatchObject({ accepted: 0, skipped: expect.stringContaining('every row was removed') });
  });

  it('the next run deletes the member left; then an empty, unchanged audience makes no request; members who return are added by a replace', async () => {
    let from = meta.api.requests.length;
    const r = await runClub('club_to_meta_emptied');
    expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, unchanged: 0, removed: 1 }, operations: { remove_members: 1 }, committed: 1 });
    expect(sent(from).map((q) => [q.method, (q.body as { payload: { data: string[][] } }).payload.data])).toEqual([['DELETE', [[clubMember(7)]]]]);
    expect(members('Club (emptied)')).toEqual([]);
    expect(await snapshot('club_to_meta_emptied')).toBe(0);

    from = meta.api.requests.length;
    expect(await runClub('club_to_meta_emptied')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 }, committed: 0 });
    expect(meta.api.requests.length).toBe(from);

    await sql(db, `UPDATE crm.club SET plan = 'pro' WHERE id IN (3, 4)`);
    from = meta.api.requests.length;
    expect(await runClub('club_to_meta_emptied')).toMatchObject({ status: 'ok', changes: { added: 2, removed: 0 }, committed: 2 });
    expect(sent(from).map((q) => q.path.split('/').at(-1))).toEqual(['usersreplace']);
    expect(members('Club (emptied)')).toEqual([3, 4].map(clubMember).sort());
  });
});

describe('Slack chat.postMessage', () => {
  it('posts one message per new row from the template, paced at about one a second', async () => {
    const started = performance.now();
    const r = await run('signups_to_slack');
    expect(r).toMatchObject({ status: 'ok', operations: { post_message: 3 } });
    expect(slack.messages.map((m) => [m.channel, m.text])).toEqual([
      ['#signups', 'New pro signup: ada@example.com'],
      ['#signups', 'New free signup: bob@example.com'],
      ['#signups', 'New pro signup: cy@example.com'],
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    const before = slack.api.requests.length;
    await run('signups_to_slack');
    expect(slack.api.requests.length).toBe(before);
  });

  it("an ok:false answer rejects the row with Slack's error; it is posted on the next run; 429 waits Retry-After", async () => {
    slack.options.reject = (m) => (m.text.includes('dee@') ? 'invalid_blocks' : undefined);
    await sql(db, `INSERT INTO crm.signups VALUES (4, 'dee@example.com', 'pro'), (5, 'eve@example.com', 'pro')`);
    slack.api.failNext(fault.tooMany('1', { ok: false, error: 'ratelimited' }));
    const r = await run('signups_to_slack');
    expect(r.status).toBe('rejected');
    expect(r.rejected).toEqual([{ key: '4', change: 'added', operation: 'post_message', fate: 'rejected', reason: expect.stringContaining('invalid_blocks') }]);
    expect(slack.messages.at(-1)?.text).toBe('New pro signup: eve@example.com');

    slack.options.reject = undefined;
    const again = await run('signups_to_slack');
    expect(again).toMatchObject({ status: 'ok', operations: { post_message: 1 } });
    expect(slack.messages.at(-1)?.text).toBe('New pro signup: dee@example.com');
  });

  it('an internal_error or fatal_error answer, after which Slack says the message may have been posted, is read as unsure: not taken, and posted again next run', async () => {
    slack.options.failAfterPosting = (m) => (m.text.includes('fay@') ? 'internal_error' : m.text.includes('gus@') ? 'fatal_error' : undefined);
    await sql(db, `INSERT INTO crm.signups VALUES (6, 'fay@example.com', 'pro'), (7, 'gus@example.com', 'free')`);
    const r = await run('signups_to_slack');
    expect(r.status).toBe('rejected');
    expect(r.rejected.map((x) => [x.key, x.reason])).toEqual([
      [
        '6',
        'the destination says some of the request may have been done, so whether it took the rows is unknown: HTTP 200: {"ok":false,"error":"internal_error"}',
      ],
      [
        '7',
        'the destination says some of the request may have been done, so whether it took the rows is unknown: HTTP 200: {"ok":false,"error":"fatal_error"}',
      ],
    ]);
    slack.options.failAfterPosting = undefined;
    const before = slack.messages.length;
    expect(await run('signups_to_slack')).toMatchObject({ status: 'ok', operations: { post_message: 2 } });
    expect(slack.messages.slice(before).map((m) => m.text)).toEqual(['New pro signup: fay@example.com', 'New free signup: gus@example.com']);
  });
});

describe('webhook', () => {
  it('posts each new row, signed, with its Idempotency-Key; a second run sends nothing; a new row sends one', async () => {
    const n = peopleCount();
    const r = await run('people_to_hook');
    expect(r).toMatchObject({ status: 'ok', operations: { post: n } });
    expect(hook.deliveries).toHaveLength(n);
    expect(hook.deliveries.every((d) => d.path === '/v1/people' && d.key?.length === 64)).toBe(true);
    expect(hook.deliveries.find((d) => (d.body as { key: string }).key === '7')?.body).toEqual({
      sync: 'people_to_hook',
      key: '7',
      record: { id: '7', email: ' User7@Example.com ', plan: 'pro' },
    });
    const before = hook.api.requests.length;
    await run('people_to_hook');
    expect(hook.api.requests.length).toBe(before);
    await changePeople(`INSERT INTO crm.people VALUES (62, 'user62@example.com', NULL, 'pro', 62)`);
    expect(hook.deliveries).toHaveLength(n);
    expect((await run('people_to_hook')).operations).toEqual({ post: 1 });
    expect(hook.api.requests.length).toBe(before + 1);
  });

  it('a refused row (422) is reported and sent again next run; 500s and a reset connection are retried', async () => {
    hook.options.reject = (body) => ((body as { key: string }).key === '63' ? 'email domain not allowed' : undefined);
    await changePeople(`INSERT INTO crm.people VALUES (63, 'user63@example.com', NULL, 'pro', 63), (64, 'user64@example.com', NULL, 'pro', 64)`);
    hook.api.failNext(fault.status(500), fault.reset());
    const r = await run('people_to_hook');
    expect(r.status).toBe('rejected');
    expect(r.rejected).toEqual([{ key: '63', change: 'added', operation: 'post', fate: 'rejected', reason: expect.stringContaining('422') }]);
    expect(r.rejected[0]?.reason).toContain('email domain not allowed');
    hook.options.reject = undefined;
    expect((await run('people_to_hook')).operations).toEqual({ post: 1 });
    expect(hook.deliveries.filter((d) => (d.body as { key: string }).key === '63')).toHaveLength(1);
  });

  it("a url from env() with a query: the sync's path joins the url's path, before the query (appended as text, it was inside the query)", async () => {
    const relay = await startWebhook();
    try {
      const project = await compileText(`
source warehouse : postgres { database "app" version 15 }
model people { from warehouse table crm.people primary key id columns { id bigint email string first_name string? plan string score int } }
destination relay : webhook { url env("RELAY_URL") batch true }
sync people_to_relay { from people to relay path "/orders?v=2" mode insert identifier id map { email -> email } }`);
      const r = await runSync(db, project, 'people_to_relay', { env: { RELAY_URL: `${relay.api.url}/in?token=abc` } });
      expect(r.rejected).toEqual([]);
      expect(r.status).toBe('ok');
      expect(relay.api.requests.length).toBeGreaterThan(0);
      expect(relay.api.requests.map((q) => [q.path, q.query.getAll('token'), q.query.getAll('v')])).toEqual(
        relay.api.requests.map(() => ['/in/orders', ['abc'], ['2']]),
      );
      expect(relay.deliveries.flatMap((d) => d.body as unknown[])).toHaveLength(peopleCount());
    } finally {
      await relay.api.close();
    }
  });

  it('batching: one PUT per 50 rows; a batch refused whole is split until the bad row stands alone', async () => {
    billing.options.reject = (body) =>
      Array.isArray(body) && body.some((x) => (x as { key: string }).key === '17') ? 'row 17: quantity must be positive' : undefined;
    const n = peopleCount();
    const r = await run('people_to_billing');
    expect(r.status).toBe('rejected');
    expect(r.operations).toEqual({ post: n - 1 });
    expect(r.rejected).toEqual([{ key: '17', change: 'added', operation: 'post', fate: 'rejected', reason: expect.stringContaining('row 17') }]);
    expect(billing.api.requests.every((q) => q.method === 'PUT' && q.path === '/v2/usage')).toBe(true);
    expect(billing.deliveries.flatMap((d) => d.body as unknown[])).toHaveLength(n - 1);
  });

  it('batching: a batch answered 207 Multi-Status for a row that always fails is split until that row stands alone: the others are committed, it is not, and the next run sends it alone', async () => {
    const keyOf = (row: unknown) => (row as { key: string }).key;
    const multi = await startWebhook({ refuseRow: (row) => (keyOf(row) === '17' ? 'row 17: quantity must be positive' : undefined) });
    try {
      const project = await compileText(`
source warehouse : postgres { database "app" version 15 }
model people { from warehouse table crm.people primary key id columns { id bigint email string first_name string? plan string score int } }
destination multi : webhook { url "https://hooks.example.com" batch true }
sync people_to_multi { from people to multi path "/usage" mode insert identifier id map { email -> email } }`);
      const runMulti = () => runSync(db, project, 'people_to_multi', { endpoints: { multi: multi.api.url } });
      const n = peopleCount();
      const r = await runMulti();
      expect(r.status).toBe('rejected');
      expect(r.operations).toEqual({ post: n - 1 });
      expect(r.rejected).toEqual([{ key: '17', change: 'added', operation: 'post', fate: 'rejected', reason: expect.stringContaining('HTTP 207') }]);
      // The rows the 207s carried out were sent again in the halves: at least once, every one but 17.
      const delivered = new Set(multi.deliveries.flatMap((d) => (d.body as unknown[]).map(keyOf)));
      expect(delivered.size).toBe(n - 1);
      expect(delivered.has('17')).toBe(false);
      const before = multi.api.requests.length;
      expect((await runMulti()).rejected.map((x) => x.key)).toEqual(['17']);
      expect(multi.api.requests.slice(before).map((q) => (q.body as unknown[]).map(keyOf))).toEqual([['17']]);
    } finally {
      await multi.api.close();
    }
  });
});
