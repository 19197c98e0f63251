/**
 * Mixpanel POST /import as documented: HTTP Basic with the project's API secret as user name
 * and an empty password; a JSON array of at most 2,000 events (10 MB); each event has an
 * `event` name and `properties` with `time` (milliseconds or seconds since the epoch),
 * `distinct_id` and `$insert_id` (at most 36 characters of letters, digits and `-`). An event
 * whose `$insert_id`, `distinct_id`, `event` and `time` were imported before is a duplicate
 * and is stored once. The answer is `{ code: 200, num_records_imported, status: "OK" }`, or a
 * 400 naming the `failed_records` (by index), none of the request's events then imported.
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface MixpanelEvent {
  event: string;
  properties: Record<string, unknown> & { time: number; distinct_id: string; $insert_id: string };
}

export class FakeMixpanel extends FakeService {
  protected override readonly contract = 'mixpanel';
  readonly events: MixpanelEvent[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly apiSecret: string) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.headers.authorization !== `Basic ${Buffer.from(`${this.apiSecret}:`).toString('base64')}`) {
      return { status: 401, body: { code: 401, error: 'Invalid credentials', status: 'error' } };
    }
    if (req.method !== 'POST' || req.path !== '/import')
      return { status: 404, body: { code: 404, error: `no route ${req.method} ${req.path}`, status: 'error' } };
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
}

export async function startMixpanel(apiSecret: string): Promise<FakeMixpanel> {
  return new FakeMixpanel(apiSecret).start();
}
