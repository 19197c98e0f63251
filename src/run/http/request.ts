/** A plan's request description rendered into the bytes sent: URL (with an endpoint override), query, headers, body, signature. */
import { createHmac } from 'node:crypto';
import type { HttpRequest as PlanRequest, Template } from '../../contract/api-steps.js';
import { snippetLength, type HttpRequest } from './http.js';
import { stringifyJson } from '../exact-json.js';
import { clip, envNames, isCredentialHeader } from '../output/redact.js';
import { asText, render, TemplateError, type Json, type RenderContext, type RenderOptions } from '../template.js';

/**
 * Sends a URL to another base (`--endpoint crm=http://127.0.0.1:8080`): the override's
 * origin and path prefix, then the plan URL's path and query.
 */
export function overrideBase(url: string, base: string | undefined): string {
  if (base === undefined) return url;
  const u = new URL(url);
  const b = new URL(base);
  const prefix = b.pathname.replace(/\/+$/, '');
  return `${b.origin}${prefix}${u.pathname}${u.search}`;
}

function formBody(body: Json): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new TemplateError('a form body must be an object');
  const form = new URLSearchParams();
  // Nested values go as JSON, the way Graph API form parameters take them.
  for (const [k, v] of Object.entries(body)) if (v !== null) form.append(k, asText(v));
  return form.toString();
}

/**
 * The signature header's value (Stripe's scheme): `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`. A receiver recomputes it over the timestamp and the raw body it received, and
 * refuses a timestamp older than its tolerance (docs/run.md shows how).
 */
export function signatureValue(key: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', key).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** A path step of a value, `.` or `..`. */
const dotSegment = /(^|\/)\.{1,2}(\/|$)/;

/**
 * Whether a value an answer gave stays where a URL's path puts it: RFC 3986's segment
 * characters (§3.3), and `/` where `slashes` (Google Ads' job names have them), nothing else; no
 * `.` or `..` step. Not `%` (a server may decode `%2F` or `%2e`), `?`, `#` or `\`, and no white
 * space, which the URL parser drops (`.\t.` is `..`).
 */
export function staysInPath(text: string, slashes: boolean): boolean {
  return (slashes ? /^[A-Za-z0-9._~!$&'()*+,;=:@/-]+$/ : /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/).test(text) && !dotSegment.test(text);
}

/** What `staysInPath` refuses, for the messages that quote such a value. */
export const outsidePath = (slashes: boolean): string =>
  `empty, a . or .. step, or holding ${slashes ? '' : '/, '}?, #, %, \\, white space or another character a path segment may not`;

/**
 * A URL built with variables a call captured (`{"$concat": [..., {"$ref": "vars.X"}, ...]}`) is
 * sent only as the answers meant it. One that starts the URL (Salesforce's `instance_url`, from
 * its sign-in's answer) is an origin and nothing more: a path, query or fragment would take the
 * plan's path for its own (`https://host/x?` sent every record to /x); and https, the bearer token
 * travelling in clear otherwise, unless `--endpoint` puts another origin in its place. One inside
 * the path (a list's id, a job's name) stays in its place: `L1/../L2` took profiles off list L2.
 */
function checkAnswered(url: PlanRequest['url'], ctx: RenderContext, options: RenderOptions, base: string | undefined): void {
  const parts = typeof url === 'object' && url !== null && '$concat' in url && Array.isArray(url.$concat) ? url.$concat : [];
  for (const [at, part] of parts.entries()) {
    const ref = typeof part === 'object' && part !== null && '$ref' in part ? part.$ref : undefined;
    if (typeof ref !== 'string' || !ref.startsWith('vars.')) continue;
    const text = asText(render(part as Template, ctx, options));
    const u = at === 0 && URL.canParse(text) ? new URL(text) : undefined;
    const sound =
      at === 0
        ? u !== undefined &&
          (u.protocol === 'https:' || (base !== undefined && u.protocol === 'http:')) &&
          !u.username &&
          !u.password &&
          u.pathname === '/' &&
          !/[?#\s]/.test(text)
        : staysInPath(text, true);
    if (!sound)
      throw new TemplateError(
        `the ${ref.slice('vars.'.length)} ${clip(JSON.stringify(text), snippetLength)} an answer gave ${at === 0 ? 'is not an https origin (nothing after the host)' : `would leave its place in the path (${outsidePath(true)})`}, so no request is sent to it`,
      );
  }
}

/** The request as sent; `nowMs` is when (it is signed with that time). */
export function buildRequest(spec: PlanRequest, ctx: RenderContext, options: RenderOptions, base?: string, nowMs: number = Date.now()): HttpRequest {
  // The headers first: a token they carry is a secret before any message quotes the URL, should an answer have put it there too.
  const headers: Record<string, string> = {};
  for (const [name, t] of Object.entries(spec.headers)) {
    const v = render(t, ctx, options);
    if (v === null) continue;
    headers[name] = asText(v);
    // A Basic credential or a token captured at sign-in is no environment variable's value.
    if (isCredentialHeader(name) || envNames(t).size > 0) options.secret?.(headers[name] as string);
  }
  const rendered = asText(render(spec.url, ctx, options));
  let url: URL;
  try {
    url = new URL(overrideBase(rendered, base));
  } catch {
    throw new TemplateError(`not a URL: ${rendered}`);
  }
  for (const [name, t] of Object.entries(spec.query ?? {})) {
    const v = render(t, ctx, options);
    if (v !== null) url.searchParams.append(name, asText(v));
  }
  checkAnswered(spec.url, ctx, options, base);
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
  let body: string | undefined;
  if (spec.body) {
    const value = render(spec.body.template, ctx, options);
    if (spec.body.encoding === 'form') {
      body = formBody(value);
      if (!has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else {
      body = stringifyJson(value);
      if (!has('content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  if (spec.signature) {
    const key = asText(render(spec.signature.key, ctx, options));
    headers[spec.signature.header] = signatureValue(key, body ?? '', Math.floor(nowMs / 1000));
  }
  return { method: spec.method, url: url.toString(), headers, ...(body === undefined ? {} : { body }) };
}
