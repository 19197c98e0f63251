/**
 * Renders the plan's request templates (see `Template` in src/plan/api-steps.ts): plain JSON
 * is copied, and an object whose only key is a directive name is evaluated against the render
 * context (other `$` keys, like Mixpanel's `$set`, are plain keys).
 */
import { handlebars, messageHelpers } from '../handlebars.js';
import type { SendStep, Template } from '../contract/api-steps.js';
import { underPrefix } from '../contract/object-path.js';
import { urlWithPath } from '../contract/url.js';
import { ExactNumber, parseJson, stringifyJson } from './exact-json.js';

/** A value of the warehouse's JSON: a number a double would change is an ExactNumber (src/run/exact-json.ts). */
export type Json = null | boolean | number | ExactNumber | string | Json[] | { [key: string]: Json };

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
  '$replace',
  '$switch',
  '$compact',
  '$quote',
  '$url',
  '$under',
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

let messages: ReturnType<typeof handlebars> | undefined;

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
    // Loaded here, on a plan's first message: a run of plans without one never loads Handlebars.
    messages = handlebars().create();
    // `json` writes an ExactNumber as its digits; the checker's helper never meets one.
    messages.registerHelper({ ...messageHelpers, json: (value: unknown) => stringifyJson(value ?? null) });
  }
  const t = messages.compile(source, { noEscape: true });
  const escapeText = escape === undefined ? undefined : escapes[escape];
  if (!escapeText) return (columns) => t(columns ?? {});
  // Every string of the row, however deep (`{{address.city}}`, a list's items).
  const escaped = (v: unknown): unknown => {
    if (typeof v === 'string') return escapeText(v);
    if (v instanceof ExactNumber) return v;
    if (Array.isArray(v)) return v.map(escaped);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escaped(x)]));
    return v;
  };
  return (columns) => t(escaped(columns) ?? {});
}

const isObject = (v: Json): v is { [key: string]: Json } => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof ExactNumber);
const withoutNulls = (v: Json): Json => (isObject(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) : v);

/** A `$ref` path's segments: an array of exact segments, or a dotted path. */
const segmentsOf = (path: Json): string[] => (Array.isArray(path) ? path.map(String) : String(path).split('.'));

function lookup(ctx: RenderContext, segments: readonly string[]): Json {
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
  if (typeof v === 'number' || typeof v === 'boolean' || v instanceof ExactNumber) return String(v);
  return stringifyJson(v);
}

function args(value: Json, directive: string, count: number): Json[] {
  if (!Array.isArray(value) || value.length !== count) throw new TemplateError(`${directive} takes an array of ${count}`);
  return value;
}

/** A template made into a function of the render context: the tree is read once, not for every row. */
type Compiled = (ctx: RenderContext, options: RenderOptions) => Json;

/** Compiled templates, by the plan's template object (a plan's templates are never changed). */
const compiledTemplates = new WeakMap<object, Compiled>();

/**
 * Renders a template against the context: compiled on first use (kept for the template object),
 * then run. The same value and the same errors, in the same order, as reading the tree for
 * each render: a template that cannot be compiled (a directive's arguments of the wrong shape)
 * throws when and where its rendering would have.
 */
export function render(t: Template, ctx: RenderContext, options: RenderOptions): Json {
  if (t === null || typeof t !== 'object') return t;
  let f = compiledTemplates.get(t);
  if (!f) {
    f = compile(t);
    compiledTemplates.set(t, f);
  }
  return f(ctx, options);
}

/** `build`, its error (if any) deferred to the render, so that what renders before it still does. */
function compile(t: Template): Compiled {
  try {
    return build(t);
  } catch (e) {
    return () => {
      throw e;
    };
  }
}

function build(t: Template): Compiled {
  if (t === null || typeof t !== 'object') return () => t;
  if (Array.isArray(t)) {
    const items = t.map(compile);
    return (ctx, options) => items.map((f) => f(ctx, options));
  }
  const keys = Object.keys(t);
  const only = keys.length === 1 ? (keys[0] as string) : undefined;
  if (only === undefined || !directives.has(only)) {
    const members = keys.map((k) => [k, compile(t[k] as Template)] as const);
    // A `__proto__` key is a member like any other (as Object.fromEntries makes it), not the prototype.
    if (keys.includes('__proto__')) return (ctx, options) => Object.fromEntries(members.map(([k, f]) => [k, f(ctx, options)]));
    return (ctx, options) => {
      const out: Record<string, Json> = {};
      for (const [k, f] of members) out[k] = f(ctx, options);
      return out;
    };
  }
  const arg = t[only] as Template;
  switch (only) {
    case '$literal':
      return () => arg as Json;
    case '$ref': {
      const segments = segmentsOf(arg as Json);
      return (ctx) => lookup(ctx, segments);
    }
    case '$env': {
      const name = String(arg);
      return (_, options) => options.env(name);
    }
    case '$concat': {
      const parts = (arg as Template[]).map(compile);
      return (ctx, options) => parts.map((f) => asText(f(ctx, options))).join('');
    }
    case '$merge': {
      // Spread as `for ... of` read the parts: any iterable, in order.
      const parts = [...(arg as Template[])].map(compile);
      return (ctx, options) => {
        const out: Record<string, Json> = {};
        for (const f of parts) {
          const v = f(ctx, options);
          if (v === null) continue;
          if (!isObject(v)) throw new TemplateError('$merge takes objects');
          Object.assign(out, v);
        }
        return out;
      };
    }
    case '$each': {
      const f = compile(arg);
      return (ctx, options) => {
        // One context for the rows, its `row` set for each: a render keeps no context, and a copy per row cost a large batch dearly.
        const each: RenderContext = { ...ctx };
        return (ctx.rows ?? []).map((row) => {
          each.row = row;
          return f(each, options);
        });
      };
    }
    case '$json': {
      const f = compile(arg);
      return (ctx, options) => stringifyJson(f(ctx, options));
    }
    case '$base64': {
      const f = compile(arg);
      return (ctx, options) => Buffer.from(asText(f(ctx, options)), 'utf8').toString('base64');
    }
    case '$message':
      return (ctx, options) => {
        if (!options.message) throw new TemplateError('the step has no message template');
        const text = options.message(ctx.row?.columns);
        if (arg !== 'json') return text;
        try {
          return parseJson(text) as Json;
        } catch (e) {
          throw new TemplateError(`the message does not render to JSON: ${(e as Error).message}`);
        }
      };
    case '$compact': {
      // An object without its null members; an array without its nulls and the objects left empty.
      const f = compile(arg);
      return (ctx, options) => {
        const v = f(ctx, options);
        if (!Array.isArray(v)) return withoutNulls(v);
        return v.map(withoutNulls).filter((x) => x !== null && !(isObject(x) && Object.keys(x).length === 0));
      };
    }
    case '$quote': {
      // A string literal of a query language: quote, and escape placed before each quote and escape character.
      const [value, quote, escape] = args(arg as Json, '$quote', 3).map((x, i) => (i === 0 ? x : String(x)));
      const f = compile(value as Template);
      const q = quote as string;
      const e = escape as string;
      return (ctx, options) => {
        const text = asText(f(ctx, options));
        return `${q}${Array.from(text, (c) => (c === q || c === e ? `${e}${c}` : c)).join('')}${q}`;
      };
    }
    case '$url': {
      // A path appended to a url known at run time, before the url's query (a webhook url from env()).
      const [url, path] = args(arg as Json, '$url', 2).map((x) => compile(x as Template));
      return (ctx, options) => urlWithPath(asText(url!(ctx, options)), asText(path!(ctx, options)));
    }
    case '$under': {
      // An object's name under a prefix known at run time (a variable's value, which may end in `/`).
      const [prefix, path] = args(arg as Json, '$under', 2).map((x) => compile(x as Template));
      return (ctx, options) => underPrefix(asText(prefix!(ctx, options)), asText(path!(ctx, options)));
    }
    case '$join': {
      const [items, separator] = args(arg as Json, '$join', 2);
      const f = compile(items as Template);
      return (ctx, options) => {
        const list = f(ctx, options);
        if (!Array.isArray(list)) throw new TemplateError('$join takes an array');
        return list.map(asText).join(String(separator));
      };
    }
    case '$slice': {
      const [value, start, end] = args(arg as Json, '$slice', 3);
      const f = compile(value as Template);
      return (ctx, options) =>
        Array.from(asText(f(ctx, options)))
          .slice(Number(start), Number(end))
          .join('');
    }
    case '$replace': {
      // Every occurrence of a text taken out or replaced (the dashes of a customer id from env(), as its UI shows it).
      const [value, from, to] = args(arg as Json, '$replace', 3);
      const f = compile(value as Template);
      return (ctx, options) => asText(f(ctx, options)).replaceAll(String(from), String(to));
    }
    case '$switch': {
      const [value, cases] = args(arg as Json, '$switch', 2);
      const f = compile(value as Template);
      const table = cases as Record<string, Template>;
      // Only the chosen case is rendered (compiled on first use, like any template).
      return (ctx, options) => {
        const name = asText(f(ctx, options));
        return Object.hasOwn(table, name) ? render(table[name] as Template, ctx, options) : null;
      };
    }
  }
  throw new TemplateError(`unknown template directive ${only}`);
}
