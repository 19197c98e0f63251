/**
 * Reads a response by the plan's acceptance rule (`Acceptance` in src/plan/api-steps.ts):
 * which rows of the request the destination took, which it refused and why, and the values
 * to capture per row (the record id a later delete needs).
 */
import type { Acceptance, SendRequest } from '../../plan/api-steps.js';
import type { HttpResponse } from './http.js';
import type { Verdict } from './deliver.js';
import { pointerGet } from '../json-pointer.js';
import { asText, render, type Json, type RenderContext, type RenderOptions } from '../template.js';

/** What the executor knows of a row while sending it. */
export interface RowState {
  key: string | null;
  destination_id: string | null;
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function snippet(res: HttpResponse): string {
  const text = res.body.trim().replace(/\s+/g, ' ');
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function succeeded(doc: unknown, success: { pointer: string; equals: unknown } | undefined, ctx: RenderContext, options: RenderOptions): boolean {
  if (!success) return true;
  const want = render(success.equals as Json, ctx, options);
  return JSON.stringify(pointerGet(doc, success.pointer) ?? null) === JSON.stringify(want);
}

/** For a row the response has no item for: an entry of the body's error list that names its key, if any. */
function errorFor(doc: unknown, key: string | null): string | undefined {
  const errors = pointerGet(doc, '/errors');
  if (!Array.isArray(errors) || key === null) return undefined;
  const hit = errors.find((e) => JSON.stringify(e).toLowerCase().includes(key.toLowerCase()));
  if (hit === undefined) return undefined;
  const message = pointerGet(hit, '/message');
  return typeof message === 'string' ? message : JSON.stringify(hit).slice(0, 300);
}

/**
 * Statuses that are not retried: 413 is too large, and 400 or 422 on several rows may be one
 * bad row spoiling a request the API takes atomically; both are split until the row stands
 * alone. Any other refusal rejects every row of the request.
 */
const splittable = new Set([400, 413, 422]);

export function readResponse(
  request: Pick<SendRequest, 'accept' | 'captureRow'>,
  res: HttpResponse,
  rows: readonly RowState[],
  ctx: RenderContext,
  options: RenderOptions,
): Verdict {
  const all = range(rows.length);
  if (res.status < 200 || res.status >= 300) {
    if (rows.length > 1 && splittable.has(res.status)) return { accepted: [], rejected: [], retry: all, split: true, reason: snippet(res) };
    const reason = res.status === 413 ? `too large to send: ${snippet(res)}` : snippet(res);
    return { accepted: [], rejected: all.map((index) => ({ index, reason })), retry: [] };
  }
  const doc = parse(res.body);
  const accept: Acceptance = request.accept;
  if (accept.by === 'status') {
    if (succeeded(doc, accept.success, ctx, options)) return { accepted: all, rejected: [], retry: [] };
    return { accepted: [], rejected: all.map((index) => ({ index, reason: snippet(res) })), retry: [] };
  }
  const items = pointerGet(doc, accept.items);
  if (!Array.isArray(items)) {
    return { accepted: [], rejected: all.map((index) => ({ index, reason: `no list of results at ${accept.items || 'the body'}: ${snippet(res)}` })), retry: [] };
  }
  const itemFor = matcher(accept, items);
  const verdict: Verdict = { accepted: [], rejected: [], retry: [] };
  rows.forEach((row, index) => {
    const item = itemFor(row, index);
    if (item === undefined) {
      verdict.rejected.push({ index, reason: errorFor(doc, row.key) ?? `the response has no result for this row (HTTP ${res.status})` });
      return;
    }
    if (!succeeded(item, accept.success, ctx, options)) {
      verdict.rejected.push({ index, reason: `refused: ${JSON.stringify(item).slice(0, 300)}` });
      return;
    }
    const id = request.captureRow ? pointerGet(item, request.captureRow.destination_id) : undefined;
    if (id !== undefined && id !== null) row.destination_id = asText(id as Json);
    verdict.accepted.push(index);
  });
  return verdict;
}

function matcher(accept: Extract<Acceptance, { by: 'items' }>, items: unknown[]): (row: RowState, index: number) => unknown {
  if (accept.match === 'order') return (_row, index) => items[index];
  const keyPointer = accept.key ?? '';
  const byKey = new Map<string, unknown>();
  for (const item of items) {
    const k = pointerGet(item, keyPointer);
    if (k !== undefined && k !== null) byKey.set(asText(k as Json).toLowerCase(), item);
  }
  return (row) => (row.key === null ? undefined : byKey.get(row.key.toLowerCase()));
}
