/** One HTTP exchange with a deadline, its outcome as data: a response, a timeout or a network error. */
import { clip } from '../output/redact.js';

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body as text; JSON readers parse it themselves, since error bodies are often not JSON. */
  body: string;
}

export type HttpOutcome = { kind: 'response'; response: HttpResponse } | { kind: 'timeout'; reason: string } | { kind: 'network'; reason: string };

/**
 * The most of an answer that is read: far above any vendor's batch results, while a server that
 * answers without end (or with gigabytes) no longer holds the run's memory until the deadline.
 */
export const maxAnswerBytes = 32 * 1024 * 1024;

/** The body's bytes as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function readBody(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) {
      await res.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  // As Response.text() decodes: UTF-8, a leading byte order mark dropped.
  return new TextDecoder().decode(Buffer.concat(chunks, size));
}

export async function sendOnce(request: HttpRequest, timeoutMs: number, limit = maxAnswerBytes): Promise<HttpOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Never followed: fetch would repeat a POST as a GET without its body, to wherever the server says.
    const res = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal, redirect: 'manual' });
    // The deadline covers the body too: a server that stalls mid-body is a timeout.
    const body = await readBody(res, limit);
    // Not read whole: like an answer lost, what the request did is unknown, and its rows are not counted delivered.
    if (body === undefined) return { kind: 'network', reason: `${request.method} ${request.url}: the answer is larger than ${limit} bytes; not read` };
    return { kind: 'response', response: { status: res.status, headers: res.headers, body } };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || signal.aborted) return { kind: 'timeout', reason: `no response within ${timeoutMs} ms` };
    const cause = err.cause?.code ?? err.cause?.message ?? err.message;
    return { kind: 'network', reason: `${request.method} ${request.url}: ${cause}` };
  }
}

/** Server text kept in messages and reports: this much of a body, whitespace collapsed. */
export const snippetLength = 300;

/** A response as a message: its status and the start of its body. */
export function snippet(res: Pick<HttpResponse, 'status' | 'body'>): string {
  const text = res.body.trim().replace(/\s+/g, ' ');
  return `HTTP ${res.status}${text ? `: ${clip(text, snippetLength)}` : ''}`;
}
