/**
 * Holds a request to the vendor's contract: finds the operation its method and URL name, then
 * checks query, headers and body against that operation's schemas (ajv) or proto rule table,
 * its cross-part rules, and the vendor's documented limits (items, bytes and identifiers per
 * request). Used by the contract test on every rendered request of every plan, and by the
 * local test servers on every request they receive.
 */
import { compileSchema, type ErrorObject } from '../../src/schema/compile.js';
import { pointerGet } from '../../src/run/json-pointer.js';
import { checkProto } from './proto.js';
import type { Operation, ParsedRequest, VendorContract } from './types.js';
import { amplitude } from './vendors/amplitude.js';
import { braze } from './vendors/braze.js';
import { googleAds, googleAdsV24 } from './vendors/google-ads.js';
import { hubspot } from './vendors/hubspot.js';
import { klaviyo } from './vendors/klaviyo.js';
import { meta } from './vendors/meta.js';
import { mixpanel } from './vendors/mixpanel.js';
import { salesforce } from './vendors/salesforce.js';
import { slack } from './vendors/slack.js';
import { webhook } from './vendors/webhook.js';

/** The contract of each HTTP destination type. */
export const contracts: Readonly<Record<string, VendorContract>> = {
  amplitude,
  braze,
  facebook_ads: meta,
  google_ads: googleAds,
  hubspot,
  klaviyo,
  mixpanel,
  salesforce,
  slack,
  webhook,
};

export interface RequestLike {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: string | undefined;
}

export interface Verdict {
  /** The operation the request was held to, when one matched. */
  operation?: Operation;
  problems: string[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A URL pattern as regular expressions over its origin and its path: `{x}` one segment, `{x**}` one or more. */
function patternOf(url: string): { origin: RegExp; path: RegExp; names: string[] } {
  const names: string[] = [];
  const regex = (text: string) =>
    text
      .split(/(\{[A-Za-z_]+\*{0,2}\})/)
      .map((part) => {
        const m = /^\{([A-Za-z_]+)(\*\*)?\}$/.exec(part);
        if (!m) return escape(part);
        names.push(m[1]!);
        return m[2] ? '(.+?)' : '([^/]+)';
      })
      .join('');
  const cut = url.indexOf('/', url.indexOf('//') + 2);
  const origin = regex(cut < 0 ? url : url.slice(0, cut));
  const path = regex(cut < 0 ? '/' : url.slice(cut));
  return { origin: new RegExp(`^${origin}$`), path: new RegExp(`^${path}$`), names };
}

const patterns = new Map<string, ReturnType<typeof patternOf>>();
const compiled = (url: string) => {
  let p = patterns.get(url);
  if (!p) patterns.set(url, (p = patternOf(url)));
  return p;
};

function match(op: Operation, method: string, url: URL, ignoreOrigin: boolean): Record<string, string> | undefined {
  if (op.method !== method) return undefined;
  for (const pattern of op.url) {
    const { origin, path, names } = compiled(pattern);
    const o = ignoreOrigin ? [] : origin.exec(url.origin);
    if (!o) continue;
    // Segments are matched encoded (a list name may hold an encoded slash), then decoded.
    const p = path.exec(url.pathname);
    if (!p) continue;
    const values = [...(ignoreOrigin ? [] : o.slice(1)), ...p.slice(1)];
    const originNames = ignoreOrigin ? names.length - (p.length - 1) : 0;
    return Object.fromEntries(names.slice(originNames).map((n, i) => [n, decodeURIComponent(values[i] ?? '')]));
  }
  return undefined;
}

/** A body as its content type says: a form (values that are JSON read as JSON), else JSON; throws on bad JSON. */
export function parseBody(raw: string | undefined, contentType: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    // Form values that are JSON (Amplitude's identification) are read as JSON.
    const form: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      try {
        form[k] = JSON.parse(v);
      } catch {
        form[k] = v;
      }
    }
    return form;
  }
  return JSON.parse(raw);
}

export function parseRequest(req: RequestLike): ParsedRequest | string {
  const headers = Object.fromEntries(
    Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]])),
  );
  const url = new URL(req.url);
  let body: unknown;
  try {
    body = parseBody(req.body, headers['content-type']);
  } catch (e) {
    return `the body is not valid JSON: ${(e as Error).message}`;
  }
  return {
    method: req.method,
    url,
    headers,
    query: Object.fromEntries(url.searchParams),
    raw: req.body,
    bytes: req.body === undefined ? 0 : Buffer.byteLength(req.body),
    body,
    params: {},
  };
}

const errorText = (where: string) => (e: ErrorObject) =>
  `${where}${e.instancePath || ''}: ${e.message ?? e.keyword}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`;

function validate(schema: object, value: unknown, where: string): string[] {
  const v = compileSchema(schema);
  return v(value) ? [] : (v.errors ?? []).map(errorText(where));
}

/** The problems of one request of a destination type; `ignoreOrigin` when it reached a local server. */
export function checkRequest(type: string, req: RequestLike, options: { ignoreOrigin?: boolean; context?: unknown } = {}): Verdict {
  const contract = contracts[type];
  if (!contract) return { problems: [`no contract for destination type ${type}`] };
  const parsed = parseRequest(req);
  if (typeof parsed === 'string') return { problems: [parsed] };
  const ops = contract.operations.flatMap((op) => {
    const params = match(op, parsed.method, parsed.url, options.ignoreOrigin ?? false);
    return params ? [{ op, params }] : [];
  });
  const found = ops[0];
  if (!found) return { problems: [`${parsed.method} ${parsed.url.origin}${parsed.url.pathname} is no operation of the ${contract.vendor} contract`] };
  const { op } = found;
  const r: ParsedRequest = { ...parsed, params: found.params, ...(options.context === undefined ? {} : { context: options.context }) };
  const problems: string[] = [];
  if (op.query) problems.push(...validate(op.query, r.query, 'query'));
  else if (Object.keys(r.query).length > 0) problems.push(`query parameters ${Object.keys(r.query).join(', ')}: the operation takes none`);
  if (op.headers) problems.push(...validate(op.headers, r.headers, 'headers'));
  if (op.body.encoding === 'none') {
    if (r.raw) problems.push('the operation takes no body');
  } else if (r.body === undefined) problems.push('the body is missing');
  else if ('proto' in op.body) {
    // Path bindings (customer_id, resource_name) set those fields of the request message.
    problems.push(...checkProto(googleAdsV24, op.body.proto, r.body, '', Object.keys(r.params)));
  } else problems.push(...validate(op.body.schema, r.body, 'body'));
  const { items, bytes, identifiers } = op.limits ?? {};
  if (items) {
    const count = items.pointer.startsWith('?')
      ? (r.query[items.pointer.slice(1)] ?? '').split(',').filter(Boolean).length
      : arrayLength(pointerGet(r.body, items.pointer));
    if (count > items.max) problems.push(`${count} items at ${items.pointer || 'the body'}; at most ${items.max} per request`);
  }
  if (bytes && r.bytes > bytes.max) problems.push(`a body of ${r.bytes} bytes; at most ${bytes.max}`);
  if (identifiers) {
    const n = identifiers.count(r.body);
    if (n > identifiers.max) problems.push(`${n} identifiers in one request; at most ${identifiers.max}`);
  }
  for (const rule of op.rules ?? []) problems.push(...rule(r));
  return { operation: op, problems: problems.map((p) => `${op.id}: ${p}`) };
}

const arrayLength = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
