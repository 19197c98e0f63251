/** Building blocks of API descriptions: template directives, retry policies, request shapes. */
import type { Acceptance, CallStep, HttpRequest, RateLimit, RetryPolicy, SendRequest, SendStep, Template } from '../../contract/api-steps.js';
import type { ResolvedValue } from '../../contract/plan.js';
import type { ApiContext } from './types.js';
import { resolveField } from '../fields.js';
import { urlWithPath } from '../../contract/url.js';

export const ref = (path: string | string[]): Template => ({ $ref: path });
export const env = (name: string): Template => ({ $env: name });
export const join = (items: Template, separator: string): Template => ({ $join: [items, separator] });
export const slice = (t: Template, start: number, end: number): Template => ({ $slice: [t, start, end] });
export const replace = (t: Template, text: string, replacement: string): Template => ({ $replace: [t, text, replacement] });
export const choose = (value: Template, cases: Record<string, Template>): Template => ({ $switch: [value, cases] });
export const concat = (...parts: Template[]): Template => ({ $concat: parts });

/**
 * A path appended to a url setting's path, with one `/` between, before its query
 * (`urlWithPath`): a literal url is joined here; a url from the environment at run time
 * (`$url`), since it may hold a query or end in `/`.
 */
export function withPath(url: Template, path: string): Template {
  if (typeof url !== 'string') return { $url: [url, path] };
  const joined = urlWithPath(url, path);
  // Where that is the two texts one after the other, the plan keeps them as two parts, as plans always had them.
  return joined === `${url}${path}` ? concat(url, path) : joined;
}

/** A checked setting's value as a template: a variable's name as `$env`, a path as its dotted text. */
export function settingTemplate(v: ResolvedValue | unknown): Template | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && 'env' in v) return { $env: (v as { env: string }).env };
  if (typeof v === 'object' && 'path' in v) return (v as { path: string[] }).path.join('.');
  return v as Template;
}

/** The file format a sync writes: its `format`, else JSON lines. */
export const storageFormat = (format: string | undefined): 'csv' | 'parquet' | 'jsonl' => (format === 'csv' || format === 'parquet' ? format : 'jsonl');
export const merge = (...parts: Template[]): Template => ({ $merge: parts });
export const each = (template: Template): Template => ({ $each: template });
export const asJson = (template: Template): Template => ({ $json: template });
export const base64 = (template: Template): Template => ({ $base64: template });
export const message: Template = { $message: null };
/** The message's output as the JSON value it is (a webhook body). */
export const jsonMessage: Template = { $message: 'json' };
export const compact = (template: Template): Template => ({ $compact: template });
/** A string literal of SOQL or GAQL: single quotes, backslash escapes. */
export const quoted = (template: Template): Template => ({ $quote: [template, "'", '\\'] });

export const row = {
  key: ref('row.key'),
  payload: ref('row.payload'),
  idempotencyKey: ref('row.idempotency_key'),
  destinationId: ref('row.destination_id'),
};

/** The payload with the identifier under its destination field, for destinations that take whole records. */
export function record(ctx: ApiContext): Template {
  return ctx.identifierField ? merge({ [ctx.identifierField]: row.key }, row.payload) : row.payload;
}

/** The given settings that are set, by name (connection blocks of non-HTTP transports). */
export function settingsOf(ctx: ApiContext, names: string[]): Record<string, Template> {
  return Object.fromEntries(
    names.flatMap((n) => {
      const v = ctx.setting(n);
      return v === undefined ? [] : [[n, v]];
    }),
  );
}

/** A setting the description cannot do without; the checker's schema guarantees required ones. */
export function required(ctx: ApiContext, name: string): Template {
  const v = ctx.setting(name);
  if (v === undefined) throw new Error(`setting ${name} is required by the API description`);
  return v;
}

// Statuses every HTTP API here documents as transient: throttling and server-side failures.
const transient = [408, 429, 500, 502, 503, 504];

/** Five attempts, 1 s doubling to 60 s, honouring Retry-After: what the vendors here recommend for 429/5xx. */
export const standardRetry: RetryPolicy = {
  statuses: transient,
  networkErrors: true,
  maxAttempts: 5,
  backoff: { initialSeconds: 1, multiplier: 2, maxSeconds: 60 },
  retryAfter: true,
};

export function retryWith(overrides: Partial<RetryPolicy>): RetryPolicy {
  return { ...standardRetry, ...overrides };
}

/** The destination's documented rate limit for a step's requests; the planner gives it to every call and send step that sets none. */
export function rateLimitOf(ctx: ApiContext, scope: RateLimit['scope'] = 'destination'): RateLimit | undefined {
  const limit = ctx.rateLimit;
  if (!limit) return undefined;
  return { requests: limit.requests, perSeconds: limit.perSeconds, scope, ...(limit.also?.length ? { also: limit.also.map((w) => ({ ...w })) } : {}) };
}

export const jsonHeaders = (auth: Record<string, Template>): Record<string, Template> => ({
  'Content-Type': 'application/json',
  Accept: 'application/json',
  ...auth,
});

export const bearer = (token: Template): Record<string, Template> => ({ Authorization: concat('Bearer ', token) });

export function jsonRequest(
  method: HttpRequest['method'],
  url: Template,
  headers: Record<string, Template>,
  body?: Template,
  query?: Record<string, Template>,
): HttpRequest {
  return { method, url, ...(query ? { query } : {}), headers, ...(body === undefined ? {} : { body: { encoding: 'json', template: body } }) };
}

export const byStatus: Acceptance = { by: 'status' };

/**
 * A lookup made only for the leaving rows that have no id in the snapshot (their write was sent
 * but never answered), so that the delete by id that follows can name them; a row the lookup
 * does not find was never made, and is removed already.
 */
export function idsOfLeaving(lookup: SendRequest): SendRequest {
  const accept = lookup.accept.by === 'items' ? { ...lookup.accept, absent: 'done' as const } : lookup.accept;
  return { ...lookup, accept, only: 'without_destination_id' };
}

export function perBatch(request: HttpRequest, accept: Acceptance = byStatus, captureRow?: SendRequest['captureRow']): SendRequest {
  return { for: 'batch', request, accept, ...(captureRow ? { captureRow } : {}) };
}

/** A setting whose value picks one of several hosts; an env() setting picks at run time. */
export function bySetting(ctx: ApiContext, name: string, cases: Record<string, Template>): Template {
  const v = ctx.setting(name);
  if (typeof v === 'string') {
    const hit = cases[v];
    if (hit === undefined) throw new Error(`setting ${name}: no case for ${v}`);
    return hit;
  }
  return choose(v ?? null, cases);
}

/** A payload field, by exact segments (field names may hold dots). */
export const payloadField = (field: string): Template => ref(['row', 'payload', field]);

/** The payload fields named, as an object of templates. */
export const fieldsOf = (fields: string[]): Record<string, Template> => Object.fromEntries(fields.map((f) => [f, payloadField(f)]));

/**
 * The sync's mapped fields split by where the destination places them: the ones its rules give
 * a fixed place (`top`: Amplitude's top-level event keys, Klaviyo's standard attributes), and
 * the rest (event properties, custom properties).
 */
export function placedFields(ctx: ApiContext): { top: string[]; rest: string[] } {
  return { top: ctx.fields.filter((f) => onTop(ctx, f)), rest: ctx.fields.filter((f) => !onTop(ctx, f)) };
}

export const onTop = (ctx: ApiContext, field: string): boolean => resolveField(ctx.fieldRules, field).spec?.top === true;

/** Rows of a step, as the plan's JSON needs them. */
export function send(
  fields: Omit<SendStep, 'kind' | 'retry' | 'ordered' | 'rateLimit'> & Partial<Pick<SendStep, 'retry' | 'ordered'>> & { rateLimit?: RateLimit | undefined },
): SendStep {
  const { rateLimit, ...rest } = fields;
  return { kind: 'send', ...rest, ordered: fields.ordered ?? false, retry: fields.retry ?? standardRetry, ...(rateLimit ? { rateLimit } : {}) };
}

export function call(fields: Omit<CallStep, 'kind' | 'retry' | 'capture' | 'requires'> & Partial<Pick<CallStep, 'retry' | 'capture' | 'requires'>>): CallStep {
  return { kind: 'call', ...fields, capture: fields.capture ?? {}, requires: fields.requires ?? [], retry: fields.retry ?? standardRetry };
}

/** An OAuth 2.0 refresh-token grant; the access token lands in `vars.access_token`. */
export function oauthRefresh(ctx: ApiContext, tokenUrl: Template, extraCapture: Record<string, string> = {}): CallStep {
  return call({
    name: 'sign_in',
    description: 'exchange the refresh token for an access token',
    request: {
      method: 'POST',
      url: tokenUrl,
      headers: { Accept: 'application/json' },
      body: {
        encoding: 'form',
        template: {
          grant_type: 'refresh_token',
          client_id: required(ctx, 'client_id'),
          client_secret: required(ctx, 'client_secret'),
          refresh_token: required(ctx, 'refresh_token'),
        },
      },
    },
    capture: { access_token: '/access_token', ...extraCapture },
    requires: ['access_token', ...Object.keys(extraCapture)],
  });
}

/**
 * The named list a membership sync writes (a list, an audience, a campaign): looked up by name,
 * created only when the lookup set nothing; either way `vars.<into>` holds its id afterwards.
 * Both calls run under a lock on the destination's object of that name, so that syncs into one
 * name that first run at the same time do not each create it. Where names need not be unique,
 * `find.matches` says where the lookup's matches are, so the oldest is taken and several are a
 * warning (the lookup's request sorts them, or `matches.order` does).
 */
export function findOrCreate(
  ctx: ApiContext,
  o: {
    /** The calls are find_<call> and create_<call>. */
    call: string;
    /** The variable the id lands in. */
    into: string;
    /** The list's name. */
    name: string;
    find: { noun: string; request: HttpRequest; pointer: string; absentOn?: number[]; matches?: CallStep['matches'] };
    create: { noun: string; request: HttpRequest; pointer: string };
  },
): CallStep[] {
  const { find, create, into, name } = o;
  const createCall = `create_${o.call}`;
  return [
    call({
      name: `find_${o.call}`,
      description: `look up the ${find.noun} "${name}"${find.matches ? ' (the oldest, where several have the name)' : ''}`,
      request: find.request,
      capture: { [into]: find.pointer },
      ...(find.absentOn ? { absentOn: find.absentOn } : {}),
      lock: { key: ctx.lockKey(`${o.call}:${name}`), through: createCall },
      ...(find.matches ? { matches: find.matches } : {}),
    }),
    call({
      name: createCall,
      description: `create the ${create.noun} "${name}" when it does not exist`,
      unlessSet: into,
      request: create.request,
      capture: { [into]: create.pointer },
      requires: [into],
    }),
  ];
}

export const accessToken = ref('vars.access_token');

export function perRow(request: HttpRequest, accept: Acceptance = byStatus): SendRequest {
  return { for: 'row', request, accept };
}
