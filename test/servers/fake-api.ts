/**
 * The common part of the local fake APIs: an HTTP server on 127.0.0.1 that records every
 * request and can be told to misbehave (429 with Retry-After, 5xx, a hung request, a reset
 * connection) before the API's own handler sees a request.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { checkRequest, parseBody } from '../contracts/contract.js';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** JSON or form body parsed; the raw text when it is neither. */
  body: unknown;
  raw: string;
  /** The body's bytes as received (uploads). */
  bytes: Buffer;
  /** The fault injected instead of the handler's reply, if any. */
  fault?: Fault;
  /**
   * The contract's problems with items of the request that the service answers itself, as the
   * vendor documents (`FakeService.answersItself`: Mixpanel's strict validation of each event).
   */
  itemProblems?: string[];
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string. */
  body?: unknown;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown }
  /** Read the request and never answer (until the server closes): the client's deadline must fire. */
  | { kind: 'hang' }
  /** Drop the connection without a response: a network error for the client. */
  | { kind: 'reset' }
  /** Answer normally, but only after `ms`. */
  | { kind: 'slow'; ms: number }
  /** Carry out the request, then drop the connection: the answer is lost, the effect is not. */
  | { kind: 'lost' }
  /** Answer normally once `until` resolves: the test decides when the client gets its answer. */
  | { kind: 'held'; until: Promise<unknown> };

export const fault = {
  tooMany: (retryAfter = '1', body?: unknown): Fault => ({ kind: 'status', status: 429, retryAfter, body }),
  status: (status: number, body?: unknown): Fault => ({ kind: 'status', status, body }),
  hang: (): Fault => ({ kind: 'hang' }),
  reset: (): Fault => ({ kind: 'reset' }),
  slow: (ms: number): Fault => ({ kind: 'slow', ms }),
  lost: (): Fault => ({ kind: 'lost' }),
  held: (until: Promise<unknown>): Fault => ({ kind: 'held', until }),
};

/**
 * A rule (`FakeApi.failWhen`) that refuses with `refusal` (a 429) any request that would make
 * more than `requests` arrive within `ms` of each other, for each window, as an API enforcing
 * rolling windows does: the requests let through count, the refused do not. `through` is what
 * the ones let through get (a slow answer keeps several in flight); their arrival times are kept.
 */
export function rollingWindows(
  windows: readonly { requests: number; ms: number }[],
  refusal: Fault,
  through?: Fault,
): { rule: (req: Recorded, n: number) => Fault | undefined; arrivals: number[] } {
  const arrivals: number[] = [];
  const rule = (): Fault | undefined => {
    const now = performance.now();
    if (windows.some((w) => arrivals.filter((t) => t > now - w.ms).length >= w.requests)) return refusal;
    arrivals.push(now);
    return through;
  };
  return { rule, arrivals };
}

export type Handler = (req: Recorded) => Reply;

/** The body parsed as the request's content type says (as the contracts read it); the raw text when it is not JSON. */
function parseBodyOrRaw(raw: string, contentType: string | undefined): unknown {
  try {
    return parseBody(raw, contentType);
  } catch {
    return raw;
  }
}

export class FakeApi {
  readonly requests: Recorded[] = [];
  /**
   * Requests that broke the vendor contract (test/contracts): what was wrong. Each is refused
   * with a 400, by this server or, for problems with single items the service answers itself
   * (`answersItself`), by the service as the vendor does.
   */
  readonly violations: { method: string; path: string; problems: string[] }[] = [];
  private readonly queued: Fault[] = [];
  private rule: ((req: Recorded, n: number) => Fault | undefined) | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer();
  /** Requests being answered now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  url = '';

  /**
   * `contract`: the destination type whose vendor contract every request is held to;
   * `answersItself`: the problems the handler is given to answer as the vendor does, when a
   * request has no other.
   */
  constructor(
    private readonly handle: Handler,
    private readonly contract?: string,
    private readonly answersItself?: (problem: string, req: Recorded) => boolean,
  ) {
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const bytes = Buffer.concat(chunks);
        const raw = bytes.toString('utf8');
        const u = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rec: Recorded = {
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          body: parseBodyOrRaw(raw, req.headers['content-type']),
          raw,
          bytes,
        };
        this.requests.push(rec);
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        res.on('close', () => this.inFlight--);
        // A request the vendor's published spec refuses is refused here too, before anything else.
        const problems = this.contract
          ? checkRequest(
              this.contract,
              { method: rec.method, url: `http://127.0.0.1${req.url ?? '/'}`, headers: req.headers, body: raw || undefined },
              { ignoreOrigin: true },
            ).problems
          : [];
        if (problems.length) {
          this.violations.push({ method: rec.method, path: rec.path, problems });
          if (!problems.every((p) => this.answersItself?.(p, rec))) {
            send(res, { status: 400, body: { error: 'the request breaks the vendor contract', contract_violation: problems } });
            return;
          }
          rec.itemProblems = problems;
        }
        const f = this.queued.shift() ?? this.rule?.(rec, this.requests.length);
        if (f?.kind === 'slow') {
          setTimeout(() => this.answer(rec, res), f.ms);
          return;
        }
        if (f?.kind === 'held') {
          void f.until.then(() => this.answer(rec, res));
          return;
        }
        if (f?.kind === 'lost') {
          rec.fault = f;
          this.handle(rec);
          res.socket?.destroy();
          return;
        }
        if (f) {
          rec.fault = f;
          this.inject(f, res);
          return;
        }
        this.answer(rec, res);
      });
    });
  }

  private answer(rec: Recorded, res: ServerResponse): void {
    let reply: Reply;
    try {
      reply = this.handle(rec);
    } catch (e) {
      reply = { status: 500, body: { error: `fake server bug: ${(e as Error).message}` } };
    }
    send(res, reply);
  }

  /** The next requests get these faults, in order, whatever they are. */
  failNext(...faults: Fault[]): this {
    this.queued.push(...faults);
    return this;
  }

  /** A fault for any request the rule picks (n counts requests from 1). */
  failWhen(rule: ((req: Recorded, n: number) => Fault | undefined) | undefined): this {
    this.rule = rule;
    return this;
  }

  /** Requests the handler answered (not faulted). */
  get served(): Recorded[] {
    return this.requests.filter((r) => !r.fault);
  }

  reset(): void {
    this.requests.length = 0;
    this.queued.length = 0;
    this.rule = undefined;
    this.maxInFlight = 0;
  }

  private inject(f: Exclude<Fault, { kind: 'slow' | 'lost' | 'held' }>, res: ServerResponse): void {
    if (f.kind === 'hang') return;
    if (f.kind === 'reset') {
      res.socket?.destroy();
      return;
    }
    const headers: Record<string, string> = f.retryAfter === undefined ? {} : { 'retry-after': f.retryAfter };
    send(res, { status: f.status, headers, body: f.body ?? { error: `injected ${f.status}` } });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('fake API has no port');
    this.url = `http://127.0.0.1:${addr.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const headers = { ...reply.headers };
  let body = '';
  if (reply.body !== undefined) {
    body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    headers['content-type'] ??= typeof reply.body === 'string' ? 'text/plain' : 'application/json';
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** The bearer token of a request, from the Authorization header. */
export function bearer(req: Recorded): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

export async function startFakeApi(handle: Handler, contract?: string, answersItself?: (problem: string, req: Recorded) => boolean): Promise<FakeApi> {
  return new FakeApi(handle, contract, answersItself).listen();
}

/**
 * A simulated service: `handle` answers its requests, served on 127.0.0.1 once it is started;
 * with a `contract` (a destination type), every request is first held to that vendor's contract.
 */
export abstract class FakeService {
  api!: FakeApi;
  protected readonly contract: string | undefined = undefined;

  protected abstract handle(req: Recorded): Reply;

  /**
   * A problem of the contract this service answers itself, as the vendor documents, instead of
   * the server refusing the request (`Recorded.itemProblems`): none unless a service says so.
   */
  protected answersItself(_problem: string, _req: Recorded): boolean {
    return false;
  }

  async start(): Promise<this> {
    this.api = await startFakeApi(
      (req) => this.handle(req),
      this.contract,
      (problem, req) => this.answersItself(problem, req),
    );
    return this;
  }
}
