/**
 * The shape of the project's contract tables: per vendor operation, what a request must be
 * (method, URL, query, headers, body) and the limits the vendor documents, each citing the
 * published specification it was written from (sources.ts).
 */
import type { SourceName } from './sources.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type JsonSchema = Record<string, unknown>;

/** Where a rule comes from: a spec file of sources.ts and the operation or passage in it. */
export interface Cite {
  source: SourceName;
  /** The operation id, message or passage the rule is read from. */
  at: string;
}

/** A request as the executor sends it, taken apart. */
export interface ParsedRequest {
  method: string;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Query parameters; repeated names keep their last value. */
  query: Record<string, string>;
  /** The raw body text and its size in bytes (UTF-8). */
  raw: string | undefined;
  bytes: number;
  /** The body parsed as its content type says (JSON or form); undefined without one. */
  body: unknown;
  /** Path parameters matched by the operation's URL pattern. */
  params: Record<string, string>;
  /** What the caller knows of the request beyond its bytes (the contract test: the plan step it came from). */
  context?: unknown;
}

export interface Limit {
  max: number;
  cite: Cite;
}

export interface Operation {
  /** vendor.operation, e.g. `hubspot.objects.batchUpsert`. */
  id: string;
  cite: Cite;
  method: Method;
  /**
   * URL patterns, scheme and host included: `{name}` matches one path segment, `{name**}`
   * one or more segments (a resource name such as customers/1/offlineUserDataJobs/2).
   */
  url: string[];
  /** Query parameters as strings (JSON Schema of an object). */
  query?: JsonSchema;
  /** Headers by lower-case name (JSON Schema of an object). */
  headers?: JsonSchema;
  /** `none`: no body may be sent. */
  body: { encoding: 'json'; schema: JsonSchema } | { encoding: 'json'; proto: string } | { encoding: 'form'; schema: JsonSchema } | { encoding: 'none' };
  limits?: {
    /** Items per request: the array at this JSON Pointer of the body (or of `query` for `ids`-style lists). */
    items?: Limit & { pointer: string };
    /** Body bytes per request. */
    bytes?: Limit;
    /** Identifiers per request, counted by `count`. */
    identifiers?: Limit & { count: (body: unknown) => number };
  };
  /** Rules across parts of the request (a header decides what the query needs), each returning problems. */
  rules?: ((req: ParsedRequest) => string[])[];
}

/** A vendor's operations, and how its requests are recognised when they reach a local server. */
export interface VendorContract {
  vendor: string;
  operations: Operation[];
}

/** A bearer token in the Authorization header; a JSON body's Content-Type. */
export const bearerToken = '^Bearer \\S';
export const jsonType = '^application/json';

/** Headers by lower-case name, each value matching its pattern; every one required but the `optional` ones. */
export function headerSchema(patterns: Record<string, string>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(patterns).map(([name, pattern]) => [name, { type: 'string', pattern }])),
    required: Object.keys(patterns).filter((n) => !optional.includes(n)),
  };
}
