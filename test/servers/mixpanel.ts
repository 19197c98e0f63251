/**
 * Mixpanel ingestion as documented (mixpanel/ingestion.openapi.json, import-events,
 * user-profile-limits):
 * - POST /import: HTTP Basic with the project's API secret as user name and an empty password,
 *   or with a service account (username:secret) whose project is named by `project_id` in the
 *   query; a JSON array of at most 2,000 events (10 MB); each event has an `event` name and
 *   `properties` with `time` (milliseconds or seconds since the epoch), `distinct_id` and
 *   `$insert_id` (at most 36 characters of letters, digits and `-`). An event whose
 *   `$insert_id`, `distinct_id`, `event` and `time` were imported before is a duplicate and is
 *   stored once. The answer is `{ code: 200, num_records_imported, status: "OK" }`, a 401 for
 *   credentials it does not know, or a 400 naming the `failed_records` (by index), none of the
 *   request's events then imported.
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

export class FakeMixpanel extends FakeService {
  protected override readonly contract = 'mixpanel';
  readonly events: MixpanelEvent[] = [];
  /** distinct_id -> the profile's properties. */
  readonly profiles = new Map<string, Record<string, unknown>>();
  /** The /engage updates received, in order (each `$set`, by distinct_id). */
  readonly updates: { distinctId: string; set: Record<string, unknown> }[] = [];
  private readonly seen = new Set<string>();

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
    const failed = events.flatMap((e: unknown, index) => {
      const { event, properties: p } = (e ?? {}) as Partial<MixpanelEvent>;
      const why =
        typeof event !== 'string' || event === ''
          ? "'event' must be a non-empty string"
          : typeof p?.time !== 'number'
            ? "'properties.time' must be a number"
            : typeof p.distinct_id !== 'string'
              ? "'properties.distinct_id' must be a string"
              : typeof p.$insert_id !== 'string' || !/^[A-Za-z0-9-]{1,36}$/.test(p.$insert_id)
                ? "'properties.$insert_id' must be 1 to 36 letters, digits or -"
                : undefined;
      return why ? [{ index, $insert_id: p?.$insert_id, field: 'properties', message: why }] : [];
    });
    if (failed.length) return { status: 400, body: { code: 400, failed_records: failed, num_records_imported: 0, status: 'Bad Request' } };
    for (const e of events as MixpanelEvent[]) {
      const key = JSON.stringify([e.event, e.properties.distinct_id, e.properties.time, e.properties.$insert_id]);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.events.push(e);
    }
    return { status: 200, body: { code: 200, num_records_imported: events.length, status: 'OK' } };
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
