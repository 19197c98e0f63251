/**
 * Reads a response by the plan's acceptance rule (`Acceptance` in src/plan/api-steps.ts):
 * which rows of the request the destination took, which it refused and why, and the values
 * to capture per row (the record id a later delete needs).
 */
import type { Acceptance, Codes, InvalidEntries, PartialRefusal, Refusals, SendRequest, Template } from '../../contract/api-steps.js';
import { snippet, snippetLength, type HttpResponse } from './http.js';
import { clip } from '../output/redact.js';
import { range, type Verdict } from './deliver.js';
import { ExactNumber, parseAnswer, stringifyJson, tooDeep, tooDeepSaid } from '../exact-json.js';
import { pointerAll, pointerGet } from '../json-pointer.js';
import { asText, render, type Json, type RenderContext, type RenderOptions } from '../template.js';
import { outsidePath, staysInPath } from './request.js';

/** What the executor knows of a row while sending it. */
export interface RowState {
  key: string | null;
  destination_id: string | null;
}

function succeeded(doc: unknown, success: { pointer: string; equals: unknown } | undefined, ctx: RenderContext, options: RenderOptions): boolean {
  if (!success) return true;
  const want = render(success.equals as Template, ctx, options);
  return stringifyJson(pointerGet(doc, success.pointer) ?? null) === stringifyJson(want);
}

/** A row's refusal, after any the answer already gave it. */
function refuse(refused: Map<number, string>, index: number, reason: string): void {
  refused.set(index, refused.has(index) ? `${refused.get(index)}; ${reason}` : reason);
}

/**
 * The rows a response refuses, by position, with the reason of each; undefined when a
 * refusal names no row of the request (`Refusals`).
 */
function refusedRows(doc: unknown, refusals: Refusals, count: number): Map<number, string> | undefined {
  const refused = new Map<number, string>();
  for (const refusal of pointerAll(doc, refusals.items)) {
    const index = pointerGet(refusal, refusals.index);
    const named = refusals.where === undefined || pointerGet(refusal, refusals.where.pointer) === refusals.where.equals;
    if (!named || typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) return undefined;
    const message = pointerGet(refusal, refusals.reason);
    const reason = clip(`refused: ${typeof message === 'string' ? message : stringifyJson(refusal)}`, snippetLength);
    refuse(refused, index, reason);
  }
  // Something was refused, in a shape not read: which rows, unknown.
  const flagged = refusals.flag === undefined ? undefined : pointerGet(doc, refusals.flag);
  const empty =
    flagged === undefined || flagged === null || (typeof flagged === 'object' && !(flagged instanceof ExactNumber) && Object.keys(flagged).length === 0);
  if (refused.size === 0 && !empty) return undefined;
  return refused;
}

/** The positions of the request's rows by the key each was sent with. */
function rowsByKey(rows: readonly RowState[]): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  rows.forEach((row, index) => {
    if (row.key === null) return;
    const same = byKey.get(row.key);
    if (same) same.push(index);
    else byKey.set(row.key, [index]);
  });
  return byKey;
}

/**
 * The rows a 2xx response counts as invalid (`InvalidEntries`), found by the key each named
 * entry begins with; `unknown` says why the others cannot count as taken either: the response
 * counts more invalid entries than it names, or names one that is no row of the request or
 * could be either of two.
 */
function invalidRows(doc: unknown, invalid: InvalidEntries, rows: readonly RowState[]): { refused: Map<number, string>; unknown?: string } {
  const refused = new Map<number, string>();
  const counted = pointerGet(doc, invalid.count);
  const count = counted === undefined || counted === null ? 0 : Number(String(counted));
  const samples = pointerGet(doc, invalid.samples);
  const entries =
    samples !== null && typeof samples === 'object' && !Array.isArray(samples) && !(samples instanceof ExactNumber) ? Object.entries(samples) : [];
  if (!Number.isInteger(count) || count < 0)
    return { refused, unknown: `the response's count of invalid entries (${stringifyJson(counted)}) is not a number of rows` };
  if (count === 0 && entries.length === 0) return { refused };
  const byKey = rowsByKey(rows);
  let unnamed = 0;
  for (const [entry, why] of entries) {
    // The key is all but the entry's other values; where their count is not known, the entry or its start before a separator (a key may hold the separator itself), so an entry that could be two rows' names neither.
    const parts = entry.split(invalid.separator);
    const counted = invalid.values === undefined ? '' : parts.slice(0, parts.length - (invalid.values - 1)).join(invalid.separator);
    // Where the entry does not have the values counted (blank ones left out, say), its start before a separator, as without a count.
    const keys = byKey.has(counted) ? [counted] : parts.map((_, i) => parts.slice(0, i + 1).join(invalid.separator)).filter((k) => byKey.has(k));
    const indices = keys.length === 1 ? byKey.get(keys[0] as string) : undefined;
    if (indices === undefined) unnamed++;
    const reason = clip(`refused: ${typeof why === 'string' ? why : stringifyJson(why)}`, snippetLength);
    for (const index of indices ?? []) refused.set(index, reason);
  }
  if (unnamed === 0 && refused.size >= count) return { refused };
  const named = refused.size === 0 ? 'names none of them' : `names ${refused.size} of them`;
  return {
    refused,
    unknown: `the response counts ${count} invalid ${count === 1 ? 'entry' : 'entries'} and ${named}${unnamed ? ` (${unnamed} not a row of the request)` : ''}, so which rows were taken is unknown; all are sent again`,
  };
}

/**
 * The rows whose destination id a 2xx answer lists as having no record (`missing`: HubSpot's
 * `recordIdsMissing`), which it ignored; undefined when the value there is no list of ids, or
 * names an id that is no row's.
 */
function missingRows(doc: unknown, pointer: string, rows: readonly RowState[]): Map<number, string> | undefined {
  const refused = new Map<number, string>();
  const listed = pointerGet(doc, pointer);
  if (listed === undefined || listed === null) return refused;
  if (!Array.isArray(listed)) return undefined;
  for (const id of listed) {
    if (typeof id !== 'string' && typeof id !== 'number' && !(id instanceof ExactNumber)) return undefined;
    const text = String(id);
    const indices = rows.flatMap((row, index) => (row.destination_id === text ? [index] : []));
    if (indices.length === 0) return undefined;
    for (const index of indices)
      refused.set(index, `refused: the destination has no record ${clip(JSON.stringify(text), snippetLength)}, so it ignored the row`);
  }
  return refused;
}

/** Every row of the request accepted but those refused, each with its reason. */
function allBut(refused: ReadonlyMap<number, string>, count: number): Verdict {
  return { accepted: range(count).filter((i) => !refused.has(i)), rejected: [...refused].map(([index, reason]) => ({ index, reason })), retry: [] };
}

/**
 * A non-2xx answer read by the plan's `PartialRefusal`: the rows it names refused, the others
 * accepted. Undefined, for the answer to be read as any other of its status, when it names no
 * row, names one that is no row of the request, or counts as taken other than the rows it does
 * not name: then which rows were taken is not said.
 */
function partlyRefused(doc: unknown, partial: PartialRefusal, count: number): Verdict | undefined {
  const refused = refusedRows(doc, partial.refusals, count);
  if (refused === undefined || refused.size === 0) return undefined;
  if (partial.imported !== undefined && countAt(doc, partial.imported) !== count - refused.size) return undefined;
  return allBut(refused, count);
}

/** The number at `pointer` in an answer; NaN when it holds anything else, undefined when nothing. */
function countAt(doc: unknown, pointer: string): number | undefined {
  const value = pointerGet(doc, pointer);
  if (value === undefined) return undefined;
  return typeof value === 'number' || value instanceof ExactNumber ? Number(String(value)) : Number.NaN;
}

/** Whether an error's JSON names a key: it holds the key as a JSON string, quotes included ("1" must not be found inside "10"). */
const namesKey = (errorJson: string, key: string): boolean => errorJson.includes(JSON.stringify(key));

/** The entries of the body's error list, each with its JSON, made once an answer (every row is looked for in them). */
function errorEntries(doc: unknown): [unknown, string][] {
  const errors = pointerGet(doc, '/errors');
  return Array.isArray(errors) ? errors.map((e) => [e, stringifyJson(e)]) : [];
}

/** The entry of the body's error list (`errorEntries`) that names a row's key, if any. */
function errorFor(errors: readonly [unknown, string][], key: string | null): unknown {
  return key === null ? undefined : errors.find(([, json]) => namesKey(json, key))?.[0];
}

/** An error's message, or the error itself, clipped. */
function errorText(error: unknown): string {
  const message = pointerGet(error, '/message');
  return clip(typeof message === 'string' ? message : stringifyJson(error as Json), snippetLength);
}

/** Whether a body or an item holds the plan's codes (`Codes`): it has codes, each of them one of the plan's. */
function holdsCodes(value: unknown, codes: Codes): boolean {
  const held = pointerAll(value, codes.code);
  return held.length > 0 && held.every((c) => typeof c === 'string' && codes.codes.includes(c));
}

/**
 * Statuses that are not retried: 413 is too large, and 400 or 422 on several rows may be one
 * bad row spoiling a request the API takes atomically; both are split until the row stands
 * alone (unless the plan's `partial` reads the answer as naming the rows refused, the others
 * taken). Any other refusal rejects every row of the request.
 */
const splittable = new Set([400, 413, 422]);

/**
 * The request's rows sent again in two halves (`Verdict.split`); `unsure`: the answer may have
 * applied some of them (a 207), so the halves go as perhaps applied, and a row alone is refused so.
 */
function inHalves(count: number, reason: string, unsure = false): Verdict {
  return { accepted: [], rejected: [], retry: range(count), split: true, reason, ...(unsure ? { unsure } : {}) };
}

/**
 * A 2xx answer listing the rows refused by the key each was sent with (`by: 'errors'`): those
 * refused, the others taken; with a URL at `next`, that page is read too (`Verdict.next`).
 */
function listedErrors(
  accept: Extract<Acceptance, { by: 'errors' }>,
  doc: unknown,
  res: HttpResponse,
  rows: readonly RowState[],
  rejectAll: (reason: string, unsure?: boolean) => Verdict,
): Verdict {
  const items = pointerGet(doc, accept.items);
  const unknown = (why: string): Verdict => rejectAll(`${why}: ${snippet(res)}`, true);
  if (!Array.isArray(items)) return unknown(`no list of errors at ${accept.items || 'the body'}, so which rows were refused is unknown`);
  const byKey = rowsByKey(rows);
  const refused = new Map<number, string>();
  for (const item of items) {
    // The key as sent, at the first of the pointers that holds a string.
    const key = accept.key.map((pointer) => pointerGet(item, pointer)).find((v): v is string => typeof v === 'string');
    const indices = key === undefined ? undefined : byKey.get(key);
    if (indices === undefined)
      return unknown(`an error names no row of the request (${clip(stringifyJson(item as Json), snippetLength)}), so which were refused is unknown`);
    const why = pointerGet(item, accept.reason);
    const reason = clip(`refused: ${typeof why === 'string' ? why : stringifyJson(item as Json)}`, snippetLength);
    for (const index of indices) refused.set(index, reason);
  }
  const next = pointerGet(doc, accept.next);
  if (next === undefined || next === null) return allBut(refused, rows.length);
  // Only its query is taken (send-step.ts): the next page is asked for where this one was.
  if (typeof next !== 'string' || !URL.canParse(next))
    return unknown(`the next page of errors is no URL (${clip(stringifyJson(next as Json), snippetLength)})`);
  return { ...allBut(refused, rows.length), next };
}

/**
 * The batch's values a 2xx answer gives (`captureBatch`), or the pointer of the first it lacks,
 * or the first that is not one path segment (`staysInPath`): a later request puts it into its
 * path (Klaviyo's job id), where `..`, `/`, `?` or `#` would ask about another job, and take its answer for this one's.
 */
function capturedOf(
  capture: Record<string, string>,
  doc: unknown,
): { captured: Record<string, string> } | { missing: string } | { notSegment: string; value: string } {
  const captured: Record<string, string> = {};
  for (const [name, pointer] of Object.entries(capture)) {
    const v = pointerGet(doc, pointer);
    if (v === undefined || v === null || typeof v === 'object') return { missing: pointer };
    const text = asText(v as Json);
    if (!staysInPath(text, false)) return { notSegment: name, value: text };
    captured[name] = text;
  }
  return { captured };
}

export function readResponse(
  request: Pick<SendRequest, 'accept' | 'captureRow' | 'captureBatch' | 'poll'>,
  res: HttpResponse,
  rows: readonly RowState[],
  ctx: RenderContext,
  options: RenderOptions,
): Verdict {
  const all = range(rows.length);
  // `unsure`: the answer does not say whether the destination applied the rows.
  const rejectAll = (reason: string, unsure = false): Verdict => ({
    accepted: [],
    rejected: all.map((index) => ({ index, reason, ...(unsure ? { unsure } : {}) })),
    retry: [],
  });
  if (res.status < 200 || res.status >= 300) {
    const partial = request.accept.by === 'status' ? request.accept.partial : undefined;
    // An answer too deep to read (`tooDeep`) names no row: the status decides, as for any answer not read.
    const partly = partial !== undefined && res.status === partial.status ? partlyRefused(parseAnswer(res.body), partial, rows.length) : undefined;
    if (partly !== undefined) return partly;
    // A question about a job, or its list of errors, is the same whatever rows it is asked for: in halves it would only be asked again and again.
    if (request.poll !== undefined || request.accept.by === 'errors')
      return rejectAll(`the question about the job that took them was refused, so whether it took them is unknown: ${snippet(res)}`, true);
    if (rows.length > 1 && splittable.has(res.status)) return inHalves(rows.length, snippet(res));
    // A server error may come after the rows were applied; a refusal in 4xx means they were not.
    return rejectAll(res.status === 413 ? `too large to send: ${snippet(res)}` : snippet(res), res.status >= 500);
  }
  const doc = parseAnswer(res.body);
  // Read as no answer, a rule by status would take every row, those it refuses too.
  if (doc === tooDeep) return rejectAll(`${tooDeepSaid}, so whether it took the rows is unknown: ${snippet(res)}`, true);
  const accept: Acceptance = request.accept;
  if (request.poll) {
    const status = pointerGet(doc, request.poll.status);
    const text = typeof status === 'string' ? status : undefined;
    if (text !== undefined && request.poll.failed.includes(text)) return rejectAll(`the job ended ${text}: ${snippet(res)}`, true);
    if (text === undefined || !request.poll.done.includes(text))
      return { accepted: [], rejected: [], retry: [], pending: `the job is ${text ?? `of no status at ${request.poll.status}`}` };
  }
  const verdict = readAnswer(accept, request, doc, res, rows, ctx, options, rejectAll);
  if (!request.captureBatch || verdict.accepted.length === 0) return verdict;
  const got = capturedOf(request.captureBatch, doc);
  if ('missing' in got)
    return rejectAll(`the answer has no ${got.missing}, which the batch's next request needs, so whether it takes the rows is unknown: ${snippet(res)}`, true);
  if ('notSegment' in got)
    return rejectAll(
      `the answer gives the batch the ${got.notSegment} ${clip(JSON.stringify(got.value), snippetLength)}, which cannot be one segment of a URL's path (${outsidePath(false)}), so the batch's next request cannot ask about it and whether it takes the rows is unknown: ${snippet(res)}`,
      true,
    );
  return { ...verdict, captured: got.captured };
}

/** A 2xx answer read by the plan's acceptance rule. */
function readAnswer(
  accept: Acceptance,
  request: Pick<SendRequest, 'captureRow' | 'poll'>,
  doc: unknown,
  res: HttpResponse,
  rows: readonly RowState[],
  ctx: RenderContext,
  options: RenderOptions,
  rejectAll: (reason: string, unsure?: boolean) => Verdict,
): Verdict {
  const all = range(rows.length);
  if (accept.by === 'errors') return listedErrors(accept, doc, res, rows, rejectAll);
  if (accept.by === 'status') {
    // 207 Multi-Status (RFC 4918 §13): each part has its status in the body, which a rule by status does not read.
    if (res.status === 207) {
      const reason = `the answer gives each part a status of its own, which this plan does not read, so which rows were taken is unknown: ${snippet(res)}`;
      // In halves, as a 400 is, so that a row that always fails stands alone and the others are taken; a question about a job is the same in halves.
      return request.poll === undefined ? inHalves(rows.length, reason, true) : rejectAll(reason, true);
    }
    if (!succeeded(doc, accept.success, ctx, options))
      return accept.unsure !== undefined && holdsCodes(doc, accept.unsure)
        ? rejectAll(`the destination says some of the request may have been done, so whether it took the rows is unknown: ${snippet(res)}`, true)
        : rejectAll(snippet(res));
    const refused = accept.refusals ? refusedRows(doc, accept.refusals, rows.length) : new Map<number, string>();
    if (refused === undefined)
      return rejectAll(`the response refuses what it does not tie to a row of the request, so which were applied is unknown: ${snippet(res)}`, true);
    const invalid = accept.invalid ? invalidRows(doc, accept.invalid, rows) : undefined;
    // The rows it names keep their own reason.
    const unknown = invalid?.unknown;
    if (unknown !== undefined)
      return {
        accepted: [],
        rejected: all.map((index) => {
          const named = invalid?.refused.get(index);
          return named === undefined ? { index, reason: `${unknown}: ${snippet(res)}`, unsure: true as const } : { index, reason: named };
        }),
        retry: [],
      };
    for (const [index, reason] of invalid?.refused ?? []) refuse(refused, index, reason);
    const missing = accept.missing === undefined ? new Map<number, string>() : missingRows(doc, accept.missing, rows);
    if (missing === undefined)
      return rejectAll(
        `the answer lists at ${accept.missing} what it has no record of in a shape not read, or an id that is no row's, so which rows were taken is unknown: ${snippet(res)}`,
        true,
      );
    for (const [index, reason] of missing) refuse(refused, index, reason);
    // A count of rows taken that is not the rows left: which were taken is not said (the answer
    // contradicts itself). In halves, as a 207, within the run: resent as they were (Mixpanel's
    // $insert_id and the run's time), what was taken is kept once, and a row alone so answered is refused as unsure.
    const taken = accept.imported === undefined ? undefined : countAt(doc, accept.imported);
    if (taken !== undefined && taken !== rows.length - refused.size) {
      const reason = `the answer counts ${Number.isNaN(taken) ? 'no number of' : taken} rows as taken where it took ${rows.length - refused.size} of ${rows.length}, so which were taken is unknown: ${snippet(res)}`;
      return request.poll === undefined ? inHalves(rows.length, reason, true) : rejectAll(reason, true);
    }
    return allBut(refused, rows.length);
  }
  const items = pointerGet(doc, accept.items);
  if (!Array.isArray(items)) return rejectAll(`no list of results at ${accept.items || 'the body'}: ${snippet(res)}`, true);
  const own = ownItems(accept, items, rows);
  const settles = accept.absent === 'done' ? absentSettles(accept, doc, items, own, rows) : () => false;
  const verdict: Verdict = { accepted: [], rejected: [], retry: [] };
  // Each row's captured id, kept once the whole answer shows it is the row's alone.
  const captured = new Map<number, string>();
  const errors = errorEntries(doc);
  rows.forEach((row, index) => {
    const match = own[index] as OwnItem;
    if (!('item' in match)) {
      const error = errorFor(errors, row.key);
      // Not there, as the whole answer bears out: what the step asks of the row is so already,
      // unless it has an id its write recorded, with which it goes on (it may be there under another key).
      if (match.absent === true && settles(error)) {
        if (accept.absentKeepsId && row.destination_id !== null) verdict.accepted.push(index);
        else (verdict.done ??= []).push(index);
      }
      // An error naming the row refuses it, whatever else the answer says of it.
      else if (error !== undefined) verdict.rejected.push({ index, reason: errorText(error) });
      // A result missing without an error leaves unsaid whether it was applied.
      else verdict.rejected.push({ index, reason: `${match.missing} (HTTP ${res.status})`, unsure: true });
      return;
    }
    if (!succeeded(match.item, accept.success, ctx, options)) {
      const reason = `refused: ${clip(stringifyJson(match.item), snippetLength)}`;
      if (accept.already === undefined || !holdsCodes(match.item, accept.already)) verdict.rejected.push({ index, reason });
      // The record it needs is there already: accepted as it is, or once `find` has found it.
      else if (accept.already.find === undefined) verdict.accepted.push(index);
      else (verdict.fallback ??= []).push({ index, reason: `${reason}; it is there already, and looking it up failed` });
      return;
    }
    // A result and an error both the row's: the answer contradicts itself (HubSpot's lists each input in one or the other).
    const error = errorFor(errors, row.key);
    if (error !== undefined) {
      verdict.rejected.push({
        index,
        reason: `the answer has a result for the row and an error naming it, so whether it was applied is unknown: ${errorText(error)}`,
        unsure: true,
      });
      return;
    }
    const id = request.captureRow ? pointerGet(match.item, request.captureRow.destination_id) : undefined;
    if (id === undefined || id === null) verdict.accepted.push(index);
    else captured.set(index, asText(id as Json));
  });
  return withOwnIds(verdict, captured, rows, res);
}

/**
 * What a captured id may hold: URL unreserved characters (RFC 3986 §2.3), as every id the
 * catalog captures does (HubSpot's numbers, Salesforce's 15 or 18 letters and digits,
 * Klaviyo's ULIDs). An id is put into a later request's URL (Salesforce's `?ids=a,b`): one
 * holding a separator (`,`, `/`, `&`, ...) would name other records there.
 */
const idPattern = /^[A-Za-z0-9._~-]+$/;

/**
 * The verdict with each row's captured id kept, its row accepted; but an id not of an id's form
 * (`idPattern`), or one the answer gives to two or more rows of the request, is no row's: a
 * later delete by it would remove other records, or the record of a row still there. Those rows
 * are refused as unsure (sent again) and keep the id they had.
 */
function withOwnIds(verdict: Verdict, captured: ReadonlyMap<number, string>, rows: readonly RowState[], res: HttpResponse): Verdict {
  const count = new Map<string, number>();
  for (const id of captured.values()) count.set(id, (count.get(id) ?? 0) + 1);
  for (const [index, id] of captured) {
    const shared = count.get(id) ?? 0;
    if (!idPattern.test(id))
      verdict.rejected.push({
        index,
        reason: `the answer gives the row the id ${clip(JSON.stringify(id), snippetLength)}, which is not an id (empty, or holding more than letters, digits and - . _ ~), so it is not kept and whether the row was taken is unknown: ${snippet(res)}`,
        unsure: true,
      });
    else if (shared > 1)
      verdict.rejected.push({
        index,
        reason: `the server gives the same record (id ${clip(JSON.stringify(id), snippetLength)}) to ${shared} rows of the request (keys that reach one record, such as a merged contact's emails, or a server's mistake): deleting it for one row would delete it for the others, so no row keeps it and each is sent again; give each record one key in the model: ${snippet(res)}`,
        unsure: true,
      });
    else {
      (rows[index] as RowState).destination_id = id;
      verdict.accepted.push(index);
    }
  }
  verdict.accepted.sort((a, b) => a - b);
  verdict.rejected.sort((a, b) => a.index - b.index);
  return verdict;
}

/**
 * Whether a row no result carries, and whose naming error (if any) is `error`, is surely not at
 * the destination (`absent: 'done'`). Only when the answer accounts for all it holds: every
 * result is a row's own (a result under a key spelled otherwise than any row's, trimmed or
 * reformatted, may be the very row), the answer says it is whole where it can say otherwise
 * (`complete`: a page of a longer result), and either the error naming the row says it is not found
 * (`absentError`) or, without one, no error names it and each error names some row (one naming
 * none, a rate limit say, may be why a result is missing).
 */
function absentSettles(
  accept: Extract<Acceptance, { by: 'items' }>,
  doc: unknown,
  items: readonly unknown[],
  own: readonly OwnItem[],
  rows: readonly RowState[],
): (error: unknown) => boolean {
  const owned = new Set(own.flatMap((o) => ('item' in o ? [o.item] : [])));
  if (items.some((item) => !owned.has(item))) return () => false;
  if (accept.complete !== undefined && pointerGet(doc, accept.complete) !== true) return () => false;
  const { absentError } = accept;
  if (absentError) return (error) => error !== undefined && pointerGet(error, absentError.pointer) === absentError.equals;
  const errors = pointerGet(doc, '/errors') ?? [];
  const eachNamesARow =
    Array.isArray(errors) &&
    errors.every((e) => {
      const json = stringifyJson(e);
      return rows.some((r) => r.key !== null && namesKey(json, r.key));
    });
  return (error) => eachNamesARow && error === undefined;
}

/** A row's own response item, or why it has none (`absent`: no item carries its key). */
type OwnItem = { item: unknown } | { missing: string; absent?: true };

/**
 * Each row's own item: the item at its position, where the API answers one item per row in
 * order (and the response has exactly as many); else the one item whose key is the key the row
 * was sent with (compared case-insensitively only where the plan says the destination does).
 * A row that shares its key with another row of the request, or whose key more than one item
 * carries, has no item of its own: a result is never taken for a row it may not be about.
 */
export function ownItems(accept: Extract<Acceptance, { by: 'items' }>, items: readonly unknown[], rows: readonly RowState[]): OwnItem[] {
  if (accept.match === 'order') {
    if (items.length === rows.length) return items.map((item) => ({ item }));
    const missing = `the response has ${items.length} results for the ${rows.length} rows of the request, so its results cannot be matched to rows by position`;
    return rows.map(() => ({ missing }));
  }
  const fold = accept.keyCase === 'insensitive' ? (k: string) => k.toLowerCase() : (k: string) => k;
  const keyPointer = accept.key ?? '';
  const byKey = new Map<string, unknown[]>();
  const keysOfItems: string[] = [];
  for (const item of items) {
    const k = pointerGet(item, keyPointer);
    if (k === undefined || k === null) continue;
    const text = asText(k as Json);
    keysOfItems.push(text);
    byKey.set(fold(text), [...(byKey.get(fold(text)) ?? []), item]);
  }
  const keyOf = (row: RowState) => (accept.rowKey === 'destination_id' ? row.destination_id : row.key);
  const rowsByKey = new Map<string, number>();
  for (const row of rows) {
    const k = keyOf(row);
    if (k !== null) rowsByKey.set(fold(k), (rowsByKey.get(fold(k)) ?? 0) + 1);
  }
  return rows.map((row): OwnItem => {
    const sent = keyOf(row);
    if (sent === null) return { missing: 'the row has no key to find its result by' };
    const key = fold(sent);
    if ((rowsByKey.get(key) ?? 0) > 1)
      return {
        missing: `another row of the request has the key ${JSON.stringify(sent)}${accept.keyCase === 'insensitive' ? ' (ignoring case, as the destination does)' : ''}, so neither result can be told apart`,
      };
    const found = byKey.get(key) ?? [];
    if (found.length === 1) return { item: found[0] };
    if (found.length > 1) return { missing: `the response has ${found.length} results for the key ${JSON.stringify(sent)}` };
    const near = keysOfItems.find((k) => k.toLowerCase() === sent.toLowerCase());
    if (near === undefined) return { missing: `the response has no result for the key ${JSON.stringify(sent)}`, absent: true };
    return {
      missing: `the response has no result for the key ${JSON.stringify(sent)} (one for ${JSON.stringify(near)}, which differs in case: results are matched by the exact key sent)`,
    };
  });
}
