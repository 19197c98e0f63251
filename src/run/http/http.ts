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

export async function sendOnce(request: HttpRequest, timeoutMs: number): Promise<HttpOutcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Never followed: fetch would repeat a POST as a GET without its body, to wherever the server says.
    const res = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal, redirect: 'manual' });
    // The deadline covers the body too: a server that stalls mid-body is a timeout.
    const body = await res.text();
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
