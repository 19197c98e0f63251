/**
 * Meta custom audience users as documented: POST /{version}/{audience_id}/users adds,
 * DELETE removes, POST /{audience_id}/usersreplace replaces the whole list through a session
 * (session_id, batch_seq from 1, last_batch_flag; the list changes when the last batch has
 * arrived, and nothing changes if the session never completes). The body (JSON or form) holds
 * `payload: {schema, data}` with at most 10,000 rows; the token comes as access_token or a
 * Bearer header. Invalid rows (not a SHA-256 hex digest for a *_SHA256 key, or refused by the
 * test) are counted in num_invalid_entries and listed in invalid_entry_samples. Audiences are
 * found with GET /{ad_account}/customaudiences?filtering=[{field: name, operator: EQUAL,
 * value}] and created with POST /{ad_account}/customaudiences.
 */
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

export interface MetaOptions {
  token?: string;
  reject?: (row: string) => string | undefined;
}

interface Session {
  session_id: string | number;
  batch_seq: number;
  last_batch_flag: boolean;
  estimated_num_total?: number;
}

interface ReplaceInProgress {
  members: Set<string>;
  seen: Set<number>;
  lastSeq?: number;
}

export const metaMaxBatch = 10_000;

export class FakeMeta extends FakeService {
  protected override readonly contract = 'facebook_ads';
  /** audience id -> members, each the JSON of its data row (one hash per key). */
  readonly audiences = new Map<string, Set<string>>();
  readonly replacing = new Map<string, ReplaceInProgress>();
  /** Custom audiences by id: their account, name and creation time (unix seconds). */
  readonly created = new Map<string, { account: string; name: string; time_created: number }>();
  private nextId = 23850000000000;
  private clock = 1_735_689_600;

  /** A custom audience made outside the syncs (in Ads Manager); its id. */
  addAudience(account: string, name: string): string {
    const id = String(this.nextId++);
    this.created.set(id, { account, name, time_created: this.clock++ });
    return id;
  }

  constructor(readonly options: MetaOptions = {}) {
    super();
  }

  /** Members of an audience; single-key rows as their hash. */
  members(audienceId: string): string[] {
    return [...(this.audiences.get(audienceId) ?? [])].map(memberKey).sort();
  }

  protected handle(req: Recorded): Reply {
    const m = /^(?:\/v\d+\.\d+)?\/([^/]+)\/(users|usersreplace)$/.exec(req.path);
    const body = (req.body ?? {}) as { payload?: unknown; session?: unknown; access_token?: string };
    const token = req.query.get('access_token') ?? body.access_token ?? bearer(req);
    if (this.options.token && token !== this.options.token) {
      return graphError(400, 190, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException');
    }
    const accounts = /^(?:\/v\d+\.\d+)?\/(act_\d+)\/customaudiences$/.exec(req.path);
    if (accounts) return this.customAudiences(accounts[1] as string, req);
    if (!m) return graphError(400, 100, `Unsupported request - method type: ${req.method.toLowerCase()}`);
    const audienceId = m[1] as string;
    const edge = m[2] as string;
    const add = req.method === 'POST';
    if (!add && !(edge === 'users' && req.method === 'DELETE')) return graphError(400, 100, 'Unsupported request');
    const payload = body.payload as { schema?: unknown; data?: unknown } | undefined;
    if (!payload || !Array.isArray(payload.data)) return graphError(400, 100, '(#100) The parameter payload is required');
    const schema = Array.isArray(payload.schema) ? (payload.schema as string[]) : typeof payload.schema === 'string' ? [payload.schema] : [];
    if (!schema.length) return graphError(400, 100, '(#100) Missing schema');
    if (payload.data.length > metaMaxBatch) return graphError(400, 100, `(#100) Too many users: at most ${metaMaxBatch} per request`);
    const rows = payload.data.map((r) => (Array.isArray(r) ? r.map(String) : [String(r)]));
    const invalid: Record<string, string> = {};
    const valid: string[] = [];
    for (const row of rows) {
      const why = this.invalid(schema, row);
      if (why) invalid[row.join(',')] = why;
      else valid.push(JSON.stringify(row));
    }
    const session = body.session as Session | undefined;
    if (edge === 'usersreplace') {
      if (!session || session.session_id === undefined || !(session.batch_seq >= 1)) return graphError(400, 100, '(#100) session is required for usersreplace');
      this.replace(audienceId, session, valid);
    } else {
      const set = this.audience(audienceId);
      for (const v of valid) {
        if (add) set.add(v);
        else set.delete(v);
      }
    }
    return {
      status: 200,
      body: {
        audience_id: audienceId,
        session_id: session?.session_id ?? String(Math.floor(Math.random() * 1e15)),
        num_received: rows.length,
        num_invalid_entries: Object.keys(invalid).length,
        invalid_entry_samples: invalid,
      },
    };
  }

  /** The id of the audience with this name, if one was created. */
  idOf(name: string): string | undefined {
    return [...this.created].find(([, a]) => a.name === name)?.[0];
  }

  private customAudiences(account: string, req: Recorded): Reply {
    if (req.method === 'POST') {
      const name = (req.body as { name?: string } | undefined)?.name;
      if (!name) return graphError(400, 100, '(#100) The parameter name is required');
      return { status: 200, body: { id: this.addAudience(account, name) } };
    }
    const filters = JSON.parse(req.query.get('filtering') ?? '[]') as { field: string; operator: string; value: string }[];
    const fields = (req.query.get('fields') ?? 'id').split(',');
    // In no documented order: here the newest first, so a client that needs the oldest must sort them.
    const data = [...this.created]
      .filter(([, a]) => a.account === account && filters.every((f) => f.field !== 'name' || f.operator !== 'EQUAL' || a.name === f.value))
      .reverse()
      .map(([id, a]) => Object.fromEntries(Object.entries({ id, ...a }).filter(([k]) => fields.includes(k))));
    return { status: 200, body: { data } };
  }

  private audience(id: string): Set<string> {
    let s = this.audiences.get(id);
    if (!s) this.audiences.set(id, (s = new Set()));
    return s;
  }

  private invalid(schema: string[], row: string[]): string | undefined {
    if (row.length !== schema.length) return `expected ${schema.length} values, got ${row.length}`;
    for (const [i, key] of schema.entries()) {
      if (key.endsWith('_SHA256') && !/^[0-9a-f]{64}$/.test(row[i] as string)) return `${key} is not a SHA-256 hex digest`;
    }
    return this.options.reject?.(row.join(','));
  }

  private replace(audienceId: string, session: Session, valid: string[]): void {
    const key = `${audienceId}/${session.session_id}`;
    let r = this.replacing.get(key);
    if (!r) this.replacing.set(key, (r = { members: new Set(), seen: new Set() }));
    for (const v of valid) r.members.add(v);
    r.seen.add(session.batch_seq);
    if (session.last_batch_flag) r.lastSeq = session.batch_seq;
    const complete = r.lastSeq !== undefined && Array.from({ length: r.lastSeq }, (_, i) => i + 1).every((s) => r.seen.has(s));
    if (complete) {
      this.audiences.set(audienceId, r.members);
      this.replacing.delete(key);
    }
  }
}

function memberKey(json: string): string {
  const row = JSON.parse(json) as string[];
  return row.length === 1 ? (row[0] as string) : row.join(',');
}

function graphError(status: number, code: number, message: string, type = 'OAuthException'): Reply {
  return { status, body: { error: { message, type, code, fbtrace_id: 'AbCdEf123' } } };
}

export async function startMeta(options?: MetaOptions): Promise<FakeMeta> {
  return new FakeMeta(options).start();
}
