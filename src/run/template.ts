/**
 * Renders the plan's request templates (see `Template` in src/plan/api-steps.ts): plain JSON
 * is copied, and an object whose only key is a directive name is evaluated against the render
 * context (other `$` keys, like Mixpanel's `$set`, are plain keys).
 */
import Handlebars from 'handlebars';
import { messageHelpers } from '../handlebars.js';
import type { SendStep, Template } from '../contract/api-steps.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What `$ref` paths start from. */
export interface RenderContext {
  row?: Record<string, unknown>;
  vars: Record<string, unknown>;
  run: Record<string, unknown>;
  batch?: Record<string, unknown>;
  /** The batch's rows, for `$each`. */
  rows?: readonly Record<string, unknown>[];
}

export interface RenderOptions {
  /** An environment variable's value; throws when unset (or shows a placeholder in a dry run). */
  env(name: string): string;
  /** The plan's message template, compiled; absent when the plan has none. */
  message?: (columns: unknown) => string;
  /** Told each rendered credential (a header that carries one), so that no output shows it. */
  secret?: (value: string) => void;
}

export class TemplateError extends Error {}

const directives = new Set([
  '$literal',
  '$ref',
  '$env',
  '$concat',
  '$merge',
  '$each',
  '$json',
  '$base64',
  '$message',
  '$join',
  '$slice',
  '$switch',
  '$compact',
  '$quote',
]);

/** The environment lookup of a real run: an unset variable stops the step. */
export function envFrom(vars: NodeJS.ProcessEnv): RenderOptions['env'] {
  return (name) => {
    const v = vars[name];
    if (v === undefined) throw new TemplateError(`environment variable ${name} is not set`);
    return v;
  };
}

/** The lookup of a dry run: secrets are never shown, and need not be set. */
export const envPlaceholder: RenderOptions['env'] = (name) => `<env ${name}>`;

let messages: typeof Handlebars | undefined;

/** Slack's text formatting: `&`, `<` and `>` are control characters, written as entities in data. */
export function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const escapes: Record<NonNullable<SendStep['escapeMessageValues']>, (text: string) => string> = { slack: slackEscape };

/**
 * Compiles the plan's `message` Handlebars template. Values are inserted as they are (no HTML
 * escaping), or escaped for the destination's text format (`escapeMessageValues`); the
 * template's own text is never escaped. `{{json column}}` inserts a column's value as JSON (a
 * string quoted and escaped, a number, true/false, null), which a JSON message is written with.
 */
export function compileMessage(source: string, escape?: SendStep['escapeMessageValues']): (columns: unknown) => string {
  if (!messages) {
    messages = Handlebars.create();
    messages.registerHelper(messageHelpers);
  }
  const t = messages.compile(source, { noEscape: true });
  const escapeText = escape === undefined ? undefined : escapes[escape];
  if (!escapeText) return (columns) => t(columns ?? {});
  // Every string of the row, however deep (`{{address.city}}`, a list's items).
  const escaped = (v: unknown): unknown => {
    if (typeof v === 'string') return escapeText(v);
    if (Array.isArray(v)) return v.map(escaped);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escaped(x)]));
    return v;
  };
  return (columns) => t(escaped(columns) ?? {});
}

const isObject = (v: Json): v is { [key: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v);
const withoutNulls = (v: Json): Json => (isObject(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v);

function lookup(ctx: RenderContext, path: Json): Json {
  const segments = Array.isArray(path) ? path.map(String) : String(path).split('.');
  let cur: unknown = ctx;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return null;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur === undefined ? null : (cur as Json);
}

/** A rendered value as text, the way `$concat` and `$join` put it into a string. */
export function asText(v: Json): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function args(value: Json, directive: string, count: number): Json[] {
  if (!Array.isArray(value) || value.length !== count) throw new TemplateError(`${directive} takes an array of ${count}`);
  return value;
}

export function render(t: Template, ctx: RenderContext, options: RenderOptions): Json {
  if (t === null || typeof t !== 'object') return t;
  if (Array.isArray(t)) return t.map((x) => render(x, ctx, options));
  const keys = Object.keys(t);
  const only = keys.length === 1 ? (keys[0] as string) : undefined;
  if (only === undefined || !directives.has(only)) {
    return Object.fromEntries(keys.map((k) => [k, render(t[k] as Template, ctx, options)]));
  }
  const arg = t[only] as Template;
  const r = (x: Template) => render(x, ctx, options);
  switch (only) {
    case '$literal':
      return arg as Json;
    case '$ref':
      return lookup(ctx, arg as Json);
    case '$env':
      return options.env(String(arg));
    case '$concat':
      return (arg as Template[]).map((p) => asText(r(p))).join('');
    case '$merge': {
      const out: Record<string, Json> = {};
      for (const part of arg as Template[]) {
        const v = r(part);
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v)) throw new TemplateError('$merge takes objects');
        Object.assign(out, v);
      }
      return out;
    }
    case '$each':
      return (ctx.rows ?? []).map((row) => render(arg, { ...ctx, row }, options));
    case '$json':
      return JSON.stringify(r(arg));
    case '$base64':
      return Buffer.from(asText(r(arg)), 'utf8').toString('base64');
    case '$message': {
      if (!options.message) throw new TemplateError('the step has no message template');
      const text = options.message(ctx.row?.columns);
      if (arg !== 'json') return text;
      try {
        return JSON.parse(text) as Json;
      } catch (e) {
        throw new TemplateError(`the message does not render to JSON: ${(e as Error).message}`);
      }
    }
    case '$compact': {
      // An object without its null members; an array without its nulls and the objects left empty.
      const v = r(arg);
      if (!Array.isArray(v)) return withoutNulls(v);
      return v.map(withoutNulls).filter((x) => x !== null && !(isObject(x) && Object.keys(x).length === 0));
    }
    case '$quote': {
      // A string literal of a query language: quote, and escape placed before each quote and escape character.
      const [value, quote, escape] = args(arg as Json, '$quote', 3).map((x, i) => (i === 0 ? x : String(x)));
      const text = asText(r(value as Template));
      const q = quote as string;
      const e = escape as string;
      return `${q}${Array.from(text, (c) => (c === q || c === e ? `${e}${c}` : c)).join('')}${q}`;
    }
    case '$join': {
      const [items, separator] = args(arg as Json, '$join', 2);
      const list = r(items as Template);
      if (!Array.isArray(list)) throw new TemplateError('$join takes an array');
      return list.map(asText).join(String(separator));
    }
    case '$slice': {
      const [value, start, end] = args(arg as Json, '$slice', 3);
      return Array.from(asText(r(value as Template)))
        .slice(Number(start), Number(end))
        .join('');
    }
    case '$switch': {
      const [value, cases] = args(arg as Json, '$switch', 2);
      const name = asText(r(value as Template));
      const table = cases as Record<string, Template>;
      return Object.hasOwn(table, name) ? r(table[name] as Template) : null;
    }
  }
  throw new TemplateError(`unknown template directive ${only}`);
}
