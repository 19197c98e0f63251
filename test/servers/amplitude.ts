/**
 * Amplitude HTTP V2 as documented: POST /2/httpapi with {api_key, events, options}. Each event
 * needs event_type and a user_id (at least 5 characters, or options.min_id_length) or a
 * device_id. A request with an invalid event is refused whole with a 400 naming the indices
 * (events_with_invalid_fields / events_with_missing_fields) and nothing is ingested; 2,000
 * events or more ("fewer than 2000 events per request") or 1 MB is a 413. Events with an
 * insert_id seen before are deduplicated.
 *
 * And the Identify API (identify.md): POST /identify with a form body (x-www-form-urlencoded) of `api_key` and `identification`, one JSON identification or an array
 * of them, each with a user_id (at least 5 characters) or a device_id and `user_properties`:
 * plain properties, or only operations ($set, $setOnce, $add, $unset here), never both. HTTP V2's
 * limits and status guidance apply. The answer is 200 `success`; a 400 `missing_event` when the
 * identification is missing or malformed, `invalid_api_key` for a key it does not know, and
 * nothing of the request applied.
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface AmplitudeEvent {
  event_type?: string;
  user_id?: string;
  device_id?: string;
  insert_id?: string;
  time?: number;
  event_properties?: Record<string, unknown>;
  user_properties?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface AmplitudeOptions {
  apiKey?: string;
  /** A reason to refuse an event, reported as an invalid field of it. */
  reject?: (event: AmplitudeEvent) => { field: string; reason: string } | undefined;
}

export const amplitudeMaxEvents = 1_999;
const maxBytes = 1_000_000;

export class FakeAmplitude extends FakeService {
  protected override readonly contract = 'amplitude';
  readonly events: AmplitudeEvent[] = [];
  /** user_id (or device_id) -> user properties, as identifications set them. */
  readonly users = new Map<string, Record<string, unknown>>();
  /** The identifications received, in order. */
  readonly identifications: Identification[] = [];
  private readonly insertIds = new Set<string>();
  duplicatesDropped = 0;

  constructor(readonly options: AmplitudeOptions = {}) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.path === '/identify' && req.method === 'POST') return this.identify(req);
    if (req.path !== '/2/httpapi' || req.method !== 'POST') return { status: 404, body: { code: 404, error: 'Not found' } };
    if (Buffer.byteLength(req.raw) > maxBytes) return { status: 413, body: { code: 413, error: 'Payload too large' } };
    const body = req.body as { api_key?: string; events?: AmplitudeEvent[]; options?: { min_id_length?: number } } | undefined;
    if (!body || typeof body !== 'object') return { status: 400, body: { code: 400, error: 'Invalid JSON request body' } };
    if (!body.api_key) return { status: 400, body: { code: 400, error: 'Request missing required field', missing_field: 'api_key' } };
    if (this.options.apiKey && body.api_key !== this.options.apiKey) return { status: 400, body: { code: 400, error: 'Invalid API key' } };
    const events = body.events;
    if (!Array.isArray(events) || !events.length) return { status: 400, body: { code: 400, error: 'Request missing required field', missing_field: 'events' } };
    if (events.length > amplitudeMaxEvents) return { status: 413, body: { code: 413, error: 'Payload too large' } };
    const minId = body.options?.min_id_length ?? 5;
    const invalid: Record<string, number[]> = {};
    const missing: Record<string, number[]> = {};
    events.forEach((e, i) => {
      const add = (m: Record<string, number[]>, f: string): void => void (m[f] ??= []).push(i);
      if (!e.event_type) add(missing, 'event_type');
      if (!e.user_id && !e.device_id) add(missing, 'user_id');
      else if (e.user_id !== undefined && String(e.user_id).length < minId) add(invalid, 'user_id');
      const r = this.options.reject?.(e);
      if (r) add(invalid, r.field);
    });
    if (Object.keys(invalid).length || Object.keys(missing).length) {
      return {
        status: 400,
        body: {
          code: 400,
          error: Object.keys(missing).length ? 'Request missing required field' : 'Invalid field values on some events',
          events_with_invalid_fields: invalid,
          events_with_missing_fields: missing,
        },
      };
    }
    for (const e of events) {
      if (e.insert_id !== undefined) {
        if (this.insertIds.has(e.insert_id)) {
          this.duplicatesDropped++;
          continue;
        }
        this.insertIds.add(e.insert_id);
      }
      this.events.push(e);
    }
    return { status: 200, body: { code: 200, events_ingested: events.length, payload_size_bytes: Buffer.byteLength(req.raw), server_upload_time: Date.now() } };
  }

  private identify(req: Recorded): Reply {
    if (Buffer.byteLength(req.raw) > maxBytes) return { status: 413, body: 'Payload too large' };
    // The plans send x-www-form-urlencoded; a body in another form has no identification this server reads.
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return { status: 400, body: 'missing_event' };
    // The form read as sent (the contract's parse reads JSON-looking values as JSON, a key included).
    const form = new URLSearchParams(req.raw);
    const key = form.get('api_key');
    if (!key || (this.options.apiKey && key !== this.options.apiKey)) return { status: 400, body: 'invalid_api_key' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(form.get('identification') ?? '');
    } catch {
      return { status: 400, body: 'missing_event' };
    }
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as Identification[];
    if (!list.length || list.length > amplitudeMaxEvents) return { status: list.length ? 413 : 400, body: list.length ? 'Payload too large' : 'missing_event' };
    const ok = list.every((x) => {
      if (typeof x !== 'object' || x === null) return false;
      const id = x.user_id ?? x.device_id;
      if (typeof id !== 'string' || id.length < 5) return false;
      const props = x.user_properties ?? {};
      const ops = Object.keys(props).filter((k) => k.startsWith('$'));
      // "You can't mix user property operations with actual top-level user properties."
      if (ops.length && ops.length !== Object.keys(props).length) return false;
      return ops.every((op) => userOps.has(op) && typeof props[op] === 'object' && props[op] !== null);
    });
    if (!ok) return { status: 400, body: 'missing_event' };
    for (const x of list) {
      this.identifications.push(x);
      const id = (x.user_id ?? x.device_id) as string;
      const props = x.user_properties ?? {};
      const user = { ...this.users.get(id) };
      const ops = Object.keys(props).some((k) => k.startsWith('$')) ? props : { $set: props };
      for (const [op, values] of Object.entries(ops as Record<string, Record<string, unknown>>))
        for (const [k, v] of Object.entries(values)) {
          if (op === '$set' || (op === '$setOnce' && !(k in user))) user[k] = v;
          else if (op === '$unset') delete user[k];
          else if (op === '$add') user[k] = Number(user[k] ?? 0) + Number(v);
        }
      this.users.set(id, user);
    }
    return { status: 200, body: 'success' };
  }
}

export interface Identification {
  user_id?: string;
  device_id?: string;
  user_properties?: Record<string, unknown>;
  [k: string]: unknown;
}

/** The user property operations this server carries out (identify.md documents more). */
const userOps = new Set(['$set', '$setOnce', '$add', '$unset']);

export async function startAmplitude(options?: AmplitudeOptions): Promise<FakeAmplitude> {
  return new FakeAmplitude(options).start();
}
