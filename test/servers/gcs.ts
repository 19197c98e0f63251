/**
 * Google Cloud Storage's JSON API, the part an upload uses, on 127.0.0.1: resumable uploads
 * (https://cloud.google.com/storage/docs/performing-resumable-uploads) and objects.get. It
 * holds each request to the documented contract and refuses what breaks it with a 400:
 * initiation by POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable&name=... answered
 * with the session URI in Location; chunks by PUT to the session with
 * `Content-Range: bytes first-last/total|*`, starting where the service's persisted offset is,
 * every chunk but the last a multiple of 256 KiB; `bytes * /total|*` asks the status (308 with
 * `Range: bytes=0-last` while incomplete, the object once finalised). The final chunk's
 * X-Goog-Hash crc32c must match the bytes received; the object's metadata carries the CRC32C
 * and MD5 the service computed, and the custom metadata (`metadata`) the initiation gave it. An object becomes visible only when its upload is finalised.
 * Given the tokens it accepts, it holds requests to OAuth 2.0 as well
 * (https://cloud.google.com/storage/docs/authentication): a request without a bearer token is
 * an anonymous caller's, refused with a 401, and so is one whose token is not valid. The
 * requests to a session URI are the exception: the session URI is the upload's credential
 * (https://cloud.google.com/storage/docs/resumable-uploads#session-uris), so they need no
 * token, and the server only refuses one that is not valid.
 */
import { createHash } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { bearer, FakeService, type Recorded, type Reply } from './fake-api.js';

const chunkUnit = 256 * 1024;

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  custom?: Record<string, string>;
  received: Buffer[];
  bytes: number;
  done?: GcsObject;
}

export interface GcsObject {
  bucket: string;
  name: string;
  contentType: string;
  /** The object's custom metadata (the resource's `metadata`). */
  custom?: Record<string, string>;
  data: Buffer;
  generation: number;
}

const bad = (message: string): Reply => ({ status: 400, body: { error: { code: 400, message, errors: [{ reason: 'invalid', message }] } } });

const unauthenticated = (message: string, reason: string): Reply => ({
  status: 401,
  headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  body: { error: { code: 401, message, errors: [{ message, domain: 'global', reason, locationType: 'header', location: 'Authorization' }] } },
});

export class FakeGcs extends FakeService {
  readonly objects = new Map<string, GcsObject>();
  readonly sessions = new Map<string, Session>();
  /** Requests refused for breaking the contract, with why. */
  readonly refused: string[] = [];
  private generation = 1;
  /** Where the session URIs the service answers point: itself, or what a hostile server names. */
  sessionBase?: string;

  /** `tokens`: the OAuth access tokens valid now (those a fake token endpoint issued); absent, no request needs one. */
  constructor(
    readonly buckets: string[],
    private readonly tokens?: () => readonly string[],
  ) {
    super();
  }

  /** The object's text, or undefined when there is none. */
  text(bucket: string, name: string): string | undefined {
    return this.objects.get(`${bucket}/${name}`)?.data.toString('utf8');
  }

  protected handle(req: Recorded): Reply {
    const reply = this.authorize(req) ?? this.route(req);
    if (reply.status === 400 || reply.status === 401) this.refused.push(`${req.method} ${req.path}: ${JSON.stringify(reply.body)}`);
    return reply;
  }

  /** A 401 for a request without a valid token, where one is required. */
  private authorize(req: Recorded): Reply | undefined {
    if (!this.tokens) return undefined;
    const token = bearer(req);
    if (token === undefined) {
      if (req.path.startsWith('/upload/sessions/')) return undefined;
      return unauthenticated(
        "Anonymous caller does not have storage.objects.create access to the Google Cloud Storage object. Permission 'storage.objects.create' denied on resource (or it may not exist).",
        'required',
      );
    }
    return this.tokens().includes(token) ? undefined : unauthenticated('Invalid Credentials', 'authError');
  }

  private route(req: Recorded): Reply {
    const initiate = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(req.path);
    if (initiate && req.method === 'POST') return this.initiate(decodeURIComponent(initiate[1] as string), req);
    const chunk = /^\/upload\/sessions\/([0-9a-f]+)$/.exec(req.path);
    if (chunk && req.method === 'PUT') return this.chunk(chunk[1] as string, req);
    const get = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(req.path);
    if (get && req.method === 'GET') {
      const o = this.objects.get(`${decodeURIComponent(get[1] as string)}/${decodeURIComponent(get[2] as string)}`);
      if (!o) return { status: 404, body: { error: { code: 404, message: 'No such object' } } };
      return req.query.get('alt') === 'media'
        ? { status: 200, headers: { 'content-type': o.contentType }, body: o.data.toString('utf8') }
        : { status: 200, body: this.metadata(o) };
    }
    return { status: 404, body: { error: { code: 404, message: `not part of this server: ${req.method} ${req.path}` } } };
  }

  private initiate(bucket: string, req: Recorded): Reply {
    if (req.query.get('uploadType') !== 'resumable') return bad(`uploadType must be resumable here, not ${req.query.get('uploadType')}`);
    if (!this.buckets.includes(bucket)) return { status: 404, body: { error: { code: 404, message: 'The specified bucket does not exist.' } } };
    const meta = (req.body && typeof req.body === 'object' ? req.body : {}) as { name?: string; metadata?: Record<string, string> };
    const name = req.query.get('name') ?? meta.name;
    if (!name) return bad('an object name is required (name=)');
    const contentType = String(req.headers['x-upload-content-type'] ?? 'application/octet-stream');
    const id = createHash('sha256').update(`${bucket}/${name}/${this.sessions.size}/${Math.random()}`).digest('hex').slice(0, 32);
    this.sessions.set(id, { bucket, name, contentType, ...(meta.metadata ? { custom: meta.metadata } : {}), received: [], bytes: 0 });
    return { status: 200, headers: { location: `${this.sessionBase ?? this.api.url}/upload/sessions/${id}` } };
  }

  private chunk(id: string, req: Recorded): Reply {
    const s = this.sessions.get(id);
    if (!s) return { status: 404, body: { error: { code: 404, message: 'No such upload session' } } };
    const range = String(req.headers['content-range'] ?? '');
    const status = /^bytes \*\/(\d+|\*)$/.exec(range);
    if (status) {
      if (req.bytes.length) return bad('a status query has no body');
      return s.done ? { status: 200, body: this.metadata(s.done) } : this.incomplete(s);
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    if (!m) return bad(`Content-Range must be "bytes first-last/total" or "bytes */total", not ${JSON.stringify(range)}`);
    if (s.done) return { status: 200, body: this.metadata(s.done) };
    const [first, last] = [Number(m[1]), Number(m[2])];
    const total = m[3] === '*' ? undefined : Number(m[3]);
    if (first !== s.bytes) return bad(`the chunk starts at ${first}, but ${s.bytes} bytes are persisted: resume from the offset the status query reports`);
    if (last - first + 1 !== req.bytes.length) return bad(`Content-Range says ${last - first + 1} bytes, the body has ${req.bytes.length}`);
    const final = total !== undefined && last + 1 === total;
    if (!final && req.bytes.length % chunkUnit !== 0) return bad(`a chunk other than the last must be a multiple of 256 KiB, not ${req.bytes.length} bytes`);
    s.received.push(req.bytes);
    s.bytes += req.bytes.length;
    if (!final) return this.incomplete(s);
    const data = Buffer.concat(s.received);
    const crc = new CRC32C();
    crc.update(data);
    const claimed = /crc32c=([^,]+)/.exec(String(req.headers['x-goog-hash'] ?? ''))?.[1];
    if (claimed !== undefined && claimed !== crc.toString()) return bad(`X-Goog-Hash crc32c ${claimed} does not match the object's ${crc.toString()}`);
    s.done = { bucket: s.bucket, name: s.name, contentType: s.contentType, ...(s.custom ? { custom: s.custom } : {}), data, generation: this.generation++ };
    this.objects.set(`${s.bucket}/${s.name}`, s.done);
    return { status: 200, body: this.metadata(s.done) };
  }

  private incomplete(s: Session): Reply {
    return { status: 308, headers: s.bytes ? { range: `bytes=0-${s.bytes - 1}` } : {} };
  }

  private metadata(o: GcsObject): Record<string, unknown> {
    const crc = new CRC32C();
    crc.update(o.data);
    return {
      kind: 'storage#object',
      bucket: o.bucket,
      name: o.name,
      contentType: o.contentType,
      size: String(o.data.length),
      generation: String(o.generation),
      crc32c: crc.toString(),
      md5Hash: createHash('md5').update(o.data).digest('base64'),
      ...(o.custom ? { metadata: o.custom } : {}),
    };
  }
}
