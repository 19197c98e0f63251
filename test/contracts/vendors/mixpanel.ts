/**
 * Mixpanel ingestion: /import (events) and /engage $set (profiles), from Mixpanel's ingestion
 * OpenAPI document and its import and profile limit references.
 */
import type { JsonSchema, ParsedRequest, VendorContract } from '../types.js';

const openapi = { source: 'mixpanel/ingestion-openapi' } as const;
const importDocs = { source: 'mixpanel/import-events' } as const;
// servers: https://{region}.mixpanel.com, region api | api-eu | api-in.
const hosts = (path: string) => ['api', 'api-eu', 'api-in'].map((h) => `https://${h}.mixpanel.com${path}`);

/** Values the import reference refuses as distinct_id and $insert_id. */
export const refusedIds = [
  '00000000-0000-0000-0000-000000000000',
  'anon',
  'anonymous',
  'nil',
  'none',
  'null',
  'n/a',
  'na',
  'undefined',
  'unknown',
  '<nil>',
  '0',
  '-1',
  'true',
  'false',
  '[]',
  '{}',
];

// import-events: each event needs event, properties.time (integer seconds or ms since epoch),
// properties.distinct_id (string), properties.$insert_id ("≤ 36 bytes and contain only
// alphanumeric characters or -"); "fewer than 255 properties".
const event: JsonSchema = {
  type: 'object',
  required: ['event', 'properties'],
  properties: {
    event: { type: 'string', minLength: 1 },
    properties: {
      type: 'object',
      required: ['time', '$insert_id', 'distinct_id'],
      properties: {
        time: { type: 'integer', minimum: 31_536_000 },
        distinct_id: { type: 'string', not: { enum: refusedIds } },
        $insert_id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,36}$', not: { enum: refusedIds } },
      },
      maxProperties: 254,
    },
  },
  additionalProperties: false,
};

/** Basic credentials: a service account (user:secret) needs project_id; the project secret or token (user:) does not. */
function projectIdRule(req: ParsedRequest): string[] {
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!basic) return ['/import needs HTTP Basic credentials (ServiceAccount or ProjectSecret)'];
  const [, password = ''] = Buffer.from(basic, 'base64').toString('utf8').split(/:(.*)/s);
  if (password !== '' && !req.query.project_id) return ['a service account authenticates with project_id in the query'];
  return [];
}

export const mixpanel: VendorContract = {
  vendor: 'mixpanel',
  operations: [
    {
      id: 'mixpanel.import',
      cite: { ...openapi, at: 'import-events (POST /import: strict, project_id; body an array of events)' },
      method: 'POST',
      url: hosts('/import'),
      // `project_id` is required for service-account authentication; with the project's secret
      // or token "If project_id is not specified, the request will be authenticated using the provided token".
      query: {
        type: 'object',
        required: ['strict'],
        properties: { strict: { enum: ['0', '1'] }, project_id: { type: 'string', pattern: '^[0-9]+$' } },
        additionalProperties: false,
      },
      headers: {
        type: 'object',
        properties: { 'content-type': { enum: ['application/json', 'application/x-ndjson'] } },
        required: ['content-type', 'authorization'],
      },
      body: { encoding: 'json', schema: { type: 'array', minItems: 1, items: event } },
      limits: {
        items: { pointer: '', max: 2_000, cite: { ...importDocs, at: '"We accept up to 2000 events and 10MB uncompressed per request"' } },
        bytes: { max: 10 * 1024 * 1024, cite: { ...importDocs, at: '"up to 2000 events and 10MB uncompressed per request"' } },
      },
      rules: [projectIdRule],
    },
    {
      id: 'mixpanel.engage_set',
      cite: { ...openapi, at: 'profile-set (POST /engage: $token, $distinct_id, $set)' },
      method: 'POST',
      url: hosts('/engage'),
      query: {
        type: 'object',
        properties: { ip: { enum: ['0', '1'] }, strict: { enum: ['0', '1'] }, verbose: { enum: ['0', '1'] } },
        additionalProperties: false,
      },
      headers: { type: 'object', properties: { 'content-type': { const: 'application/json' } }, required: ['content-type'] },
      body: {
        encoding: 'json',
        schema: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['$token', '$distinct_id', '$set'],
            properties: { $token: { type: 'string', minLength: 1 }, $distinct_id: { type: 'string', minLength: 1 }, $set: { type: 'object' } },
            additionalProperties: false,
          },
        },
      },
      limits: { items: { pointer: '', max: 2_000, cite: { source: 'mixpanel/user-profile-limits', at: '"profile updates ... per request to 2000"' } } },
    },
  ],
};
