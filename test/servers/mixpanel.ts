/**
 * Mixpanel ingestion as documented (mixpanel/ingestion.openapi.json, import-events,
 * user-profile-limits):
 * - POST /import: HTTP Basic with the project's API secret as user name and an empty password,
 *   or with a service account (username:secret) whose project is named by `project_id` in the
 *   query; a JSON array of at most 2,000 events (10 MB); each event has an `event` name and
 *   `properties` with `time` (milliseconds or seconds since the epoch), `distinct_id` and
 *   `$insert_id` (at most 36 characters of letters, digits and `-`). An event whose
 *   `$insert_id`, `distinct_id`, `event` and `time` were imported before is a duplicate and is
 *   stored once. The answer is `{ code: 200, num_records_imported, status: "OK" }`, or a 401 for
 *   credentials it does not know. With `strict=1`, events that fail validation (the contract's
 *   rules for an event, and the values refused as `distinct_id` or `$insert_id`) get a 400 whose
 *   `failed_records` name each by its `index` (with its `$insert_id`, `field` and `message`),
 *   the others imported as above and counted in `num_records_imported` ("If some events pass
 *   validation and others fail, Mixpanel will ingest the events that pass validation").
 *   Without it the documentation says nothing of invalid events: a request with one is
 *   refused whole, none of its events imported.
 * - POST /engage ($set): no Authorization header; each update carries the project's `$token`,
 *   a `$distinct_id` and a `$set` object, at most 2,000 updates and 1 MB per update. A profile
 *   is created when new and its properties overwritten. Unless `ip=0`, Mixpanel geolocates the
 *   request's IP address and sets the profile's location from it ("Defaults to 1 which would use
 *   the IP address of the request to update profile geolocation"): here every caller is at
 *   `callerLocation`, the place of the server a sync runs on. The answer is, with `verbose=1`,
 *   `{ status: 1, error: null }`, or `{ status: 0, error }` and none of the updates applied;
 *   without it `1` or `0`.
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';
import { refusedIds } from '../contracts/vendors/mixpanel.js';

export interface MixpanelEvent {
  event: string;
  properties: Record<string, unknown> & { time: number; distinct_id: string; $insert_id: string };
}

/** The credentials the project knows; each kind left out is refused. */
export interface MixpanelProject {
  /** The project's API secret (Basic `secret:`), for /import. */
  apiSecret?: string;
  /** A service account of the project (Basic `username:secret`, with `project_id`), for /import. */
  serviceAccount?: { username: string; secret: string; projectId: string };
  /** The project token, which each /engage update carries as `$token`. */
  token?: string;
}

/** Where the IP address of every request is geolocated (a data centre): what /engage sets on a profile unless ip=0. */
export const callerLocation = { $city: 'Ashburn', $region: 'Virginia', $country_code: 'US', $timezone: 'America/New_York' };

/** "limit each individual update in the request to a maximum of 1 MB" (user-profile-limits). */
const maxUpdateBytes = 1024 * 1024;

/** A problem the contract finds in one event of an /import request: its index, where in the event, what. */
const eventProblem = /^mixpanel\.import: body\/(\d+)((?:\/[^:]*)?): (.*)$/;

/** Why Mixpanel's validation refuses an event, if it does. */
function invalidEvent(e: unknown): { field: string; message: string } | undefined {
  const { event, properties: p } = (e ?? {}) as Partial<MixpanelEvent>;
  if (typeof event !== 'string' || event === '') return { field: 'event', message: 'event is invalid: must be a non-empty string' };
  if (typeof p?.time !== 'number') return { field: 'properties.time', message: 'properties.time is invalid: must be a number' };
  if (typeof p.distinct_id !== 'string') return { field: 'properties.distinct_id', message: 'properties.distinct_id is invalid: must be a string' };
  if (refusedIds.includes(p.distinct_id))
    return { field: 'properties.distinct_id', message: `properties.distinct_id is invalid: ${JSON.stringify(p.distinct_id)} is not allowed` };
  if (typeof p.$insert_id !== 'string' || !/^[A-Za-z0-9-]{1,36}$/.test(p.$insert_id) || refusedIds.includes(p.$insert_id))
    return { field: 'properties.$insert_id', message: 'properties.$insert_id is invalid: must be 1 to 36 letters, digits or -, and not a refused value' };
  return undefined;
}

export class FakeMixpanel extends FakeService {
  protected override readonly contract = 'mixpanel';
  readonly events: MixpanelEvent[] = [];
  /** distinct_id -> the profile's properties. */
  readonly profiles = new Map<string, Record<string, unknown>>();
  /** The /engage updates received, in order (each `$set`, by distinct_id). */
  readonly updates: { distinctId: string; set: Record<string, unknown> }[] = [];
  private readonly seen = new Set<string>();
  /**
   * A test setting: a 400 lists at most this many `failed_records` (the first), as if the list
   * were cut short; `num_records_imported` still counts every event that passed.
   */
  listFailed: number | undefined;
  /**
   * A test setting: the next import answered 200 stores all but its last this many events and
   * counts only those in `num_records_imported`, as a server dropping events without naming them.
   */
  dropFromNext: number | undefined;

  constructor(readonly project: MixpanelProject) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.method === 'POST' && req.path === '/import') return this.import(req);
    if (req.method === 'POST' && req.path === '/engage') return this.engage(req);
    return { status: 404, body: { code: 404, error: `no route ${req.method} ${req.path}`, status: 'error' } };
  }

  /** The project secret (`secret:`) or a service account (`username:secret` with its project_id). */
  private authenticated(req: Recorded): boolean {
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const { apiSecret, serviceAccount: sa } = this.project;
    const auth = req.headers.authorization;
    if (apiSecret !== undefined && auth === basic(apiSecret, '')) return true;
    return sa !== undefined && auth === basic(sa.username, sa.secret) && req.query.get('project_id') === sa.projectId;
  }

  private import(req: Recorded): Reply {
    if (!this.authenticated(req)) return { status: 401, body: { code: 401, error: 'Invalid credentials', status: 'error' } };
    const events = req.body;
    if (!Array.isArray(events) || events.length === 0 || events.length > 2000)
      return { status: 400, body: { code: 400, error: 'expected an array of 1 to 2000 events', status: 'Bad Request' } };
    // The contract's problems with single events (passed on only with strict=1), and the fake's own checks.
    const problems = new Map<number, { field: string; message: string }>();
    for (const problem of req.itemProblems ?? []) {
      const [, index, path = '', message = ''] = eventProblem.exec(problem) ?? [];
      const field = path.slice(1).replaceAll('/', '.') || 'the event';
      if (index !== undefined && !problems.has(Number(index))) problems.set(Number(index), { field, message: `${field} is invalid: ${message}` });
    }
    const failed = events.flatMap((e: unknown, index) => {
      const why = invalidEvent(e) ?? problems.get(index);
      const insertId = (e as Partial<MixpanelEvent> | null)?.properties?.$insert_id;
      return why ? [{ index, $insert_id: insertId, ...why }] : [];
    });
    const failedBody = (imported: number) => ({
      code: 400,
      error: 'some data points in the request failed validation',
      failed_records: this.listFailed === undefined ? failed : failed.slice(0, this.listFailed),
      num_records_imported: imported,
      status: 'Bad Request',
    });
    if (failed.length && req.query.get('strict') !== '1') return { status: 400, body: failedBody(0) };
    const refused = new Set(failed.map((f) => f.index));
    const dropped = failed.length === 0 ? (this.dropFromNext ?? 0) : 0;
    if (dropped > 0) this.dropFromNext = undefined;
    for (const [index, e] of (events as MixpanelEvent[]).entries()) {
      if (refused.has(index) || index >= events.length - dropped) continue;
      const key = JSON.stringify([e.event, e.properties.distinct_id, e.properties.time, e.properties.$insert_id]);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.events.push(e);
    }
    const imported = events.length - refused.size;
    if (failed.length) return { status: 400, body: failedBody(imported) };
    return { status: 200, body: { code: 200, num_records_imported: imported - dropped, status: 'OK' } };
  }

  /** Problems with single events are Mixpanel's validation to answer, with strict=1; any other refuses the request. */
  protected override answersItself(problem: string, req: Recorded): boolean {
    return req.query.get('strict') === '1' && eventProblem.test(problem);
  }

  private engage(req: Recorded): Reply {
    const verbose = req.query.get('verbose') === '1';
    const answer = (error: string | null): Reply =>
      verbose ? { status: 200, body: { status: error ? 0 : 1, error } } : { status: 200, body: error ? '0' : '1' };
    const updates = req.body;
    if (!Array.isArray(updates) || updates.length === 0 || updates.length > 2000) return answer('expected an array of 1 to 2000 profile updates');
    for (const [i, u] of (updates as Record<string, unknown>[]).entries()) {
      if (this.project.token === undefined || u?.$token !== this.project.token) return answer(`update ${i}: $token is not this project's token`);
      if (typeof u.$distinct_id !== 'string' || u.$distinct_id === '') return answer(`update ${i}: $distinct_id must be a non-empty string`);
      if (typeof u.$set !== 'object' || u.$set === null || Array.isArray(u.$set)) return answer(`update ${i}: $set must be an object`);
      if (Buffer.byteLength(JSON.stringify(u)) > maxUpdateBytes) return answer(`update ${i} is larger than 1 MB`);
    }
    const geolocated = req.query.get('ip') === '0' ? {} : callerLocation;
    for (const u of updates as { $distinct_id: string; $set: Record<string, unknown> }[]) {
      this.updates.push({ distinctId: u.$distinct_id, set: u.$set });
      this.profiles.set(u.$distinct_id, { ...this.profiles.get(u.$distinct_id), ...geolocated, ...u.$set });
    }
    return answer(null);
  }
}

export async function startMixpanel(project: MixpanelProject): Promise<FakeMixpanel> {
  return new FakeMixpanel(project).start();
}
