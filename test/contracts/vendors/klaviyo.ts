/**
 * Klaviyo (JSON:API with a revision header): bulk profile import jobs, lists (find, create),
 * list profile relationships (add, remove) and profile search, from Klaviyo's OpenAPI document
 * of each revision. The operations syncwright calls are the same from 2024-10-15 to 2026-07-15
 * (2025-10-15 dropped the profile attribute `anonymous_id`, which syncwright never sends).
 */
import type { JsonSchema, Operation, VendorContract } from '../types.js';

const spec = { source: 'klaviyo/stable-2024-10-15' } as const;
// The job's status and import errors are in the API reference, not in the OpenAPI documents kept.
const docs = { source: 'klaviyo/docs' } as const;
const host = 'https://a.klaviyo.com';

/** GA revisions (klaviyo/openapi, one branch per revision). */
export const klaviyoRevisions = [
  '2022-10-17',
  '2023-01-24',
  '2023-02-22',
  '2023-06-15',
  '2023-07-15',
  '2023-08-15',
  '2023-09-15',
  '2023-10-15',
  '2023-12-15',
  '2024-02-15',
  '2024-05-15',
  '2024-06-15',
  '2024-07-15',
  '2024-10-15',
  '2025-01-15',
  '2025-04-15',
  '2025-07-15',
  '2025-10-15',
  '2026-01-15',
  '2026-04-15',
  '2026-07-15',
];

// Klaviyo-API-Key security scheme; `revision` header parameter: required, YYYY-MM-DD[.suffix].
const headers = (body: boolean): JsonSchema => ({
  type: 'object',
  properties: {
    authorization: { type: 'string', pattern: '^Klaviyo-API-Key \\S' },
    revision: { enum: klaviyoRevisions.flatMap((r) => [r, `${r}.pre`]) },
    ...(body ? { 'content-type': { type: 'string', pattern: '^application/(vnd\\.api\\+)?json' } } : {}),
  },
  required: ['authorization', 'revision', ...(body ? ['content-type'] : [])],
});

const object = (required: string[], properties: Record<string, JsonSchema>, additional = false): JsonSchema => ({
  type: 'object',
  required,
  properties,
  ...(additional ? {} : { additionalProperties: false }),
});
const nullableString: JsonSchema = { type: ['string', 'null'] };

// ProfileUpsertQueryResourceObject: type profile, attributes (standard fields, custom `properties`), meta.
const profile = object(['type', 'attributes'], {
  type: { const: 'profile' },
  id: nullableString,
  attributes: object(
    [],
    {
      email: nullableString,
      phone_number: nullableString,
      external_id: nullableString,
      anonymous_id: nullableString,
      _kx: nullableString,
      first_name: nullableString,
      last_name: nullableString,
      organization: nullableString,
      locale: nullableString,
      title: nullableString,
      image: nullableString,
      location: { type: ['object', 'null'] },
      properties: { type: ['object', 'null'] },
    },
    true,
  ),
  meta: { type: ['object', 'null'] },
});

const listRef = object(['type', 'id'], { type: { const: 'list' }, id: { type: 'string', minLength: 1 } });
const profileRef = object(['type', 'id'], { type: { const: 'profile' }, id: { type: 'string', minLength: 1 } });
const thousand = {
  pointer: '/data',
  max: 1_000,
  cite: { ...spec, at: 'add_profiles_to_list / remove_profiles_from_list: "a maximum of 1000 profiles per call"' },
} as const;

const relationships = (method: 'POST' | 'DELETE', operationId: string): Operation => ({
  id: `klaviyo.${operationId}`,
  cite: { ...spec, at: `${operationId} (ListMembers${method === 'POST' ? 'Add' : 'Delete'}Query)` },
  method,
  url: [`${host}/api/lists/{id}/relationships/profiles`],
  headers: headers(true),
  body: { encoding: 'json', schema: object(['data'], { data: { type: 'array', items: profileRef } }) },
  limits: { items: thousand },
});

export const klaviyo: VendorContract = {
  vendor: 'klaviyo',
  operations: [
    {
      id: 'klaviyo.bulk_import_profiles',
      cite: { ...spec, at: 'bulk_import_profiles (ProfileImportJobCreateQuery)' },
      method: 'POST',
      url: [`${host}/api/profile-bulk-import-jobs`],
      headers: headers(true),
      body: {
        encoding: 'json',
        schema: object(['data'], {
          data: object(['type', 'attributes'], {
            type: { const: 'profile-bulk-import-job' },
            attributes: object(['profiles'], { profiles: object(['data'], { data: { type: 'array', minItems: 1, items: profile } }) }),
            relationships: object([], { lists: object([], { data: { type: 'array', items: listRef } }) }),
          }),
        }),
      },
      // "Accepts up to 10,000 profiles per request. The maximum allowed payload size is 5MB."
      limits: {
        items: { pointer: '/data/attributes/profiles/data', max: 10_000, cite: { ...spec, at: 'bulk_import_profiles: "up to 10,000 profiles per request"' } },
        bytes: { max: 5_000_000, cite: { ...spec, at: 'bulk_import_profiles: "The maximum allowed payload size is 5MB"' } },
      },
    },
    {
      id: 'klaviyo.get_bulk_import_profiles_job',
      cite: { ...docs, at: 'get_bulk_import_profiles_job (GET /api/profile-bulk-import-jobs/{job_id}; status cancelled, complete, processing or queued)' },
      method: 'GET',
      url: [`${host}/api/profile-bulk-import-jobs/{job_id}`],
      headers: headers(false),
      query: object([], {}),
      body: { encoding: 'none' },
    },
    {
      id: 'klaviyo.get_errors_for_bulk_import_profiles_job',
      cite: {
        ...docs,
        at: 'get_errors_for_bulk_import_profiles_job (GET /api/profile-bulk-import-jobs/{id}/import-errors; cursor pagination, 20 a page by default)',
      },
      method: 'GET',
      url: [`${host}/api/profile-bulk-import-jobs/{id}/import-errors`],
      headers: headers(false),
      query: object([], { 'page[cursor]': { type: 'string' } }),
      body: { encoding: 'none' },
    },
    {
      id: 'klaviyo.get_lists',
      cite: { ...spec, at: 'get_lists (filter: name any/equals; sort)' },
      method: 'GET',
      url: [`${host}/api/lists`],
      headers: headers(false),
      query: object([], {
        filter: { type: 'string', pattern: '^(equals|any)\\(name,' },
        'page[cursor]': { type: 'string' },
        sort: { enum: ['created', '-created', 'id', '-id', 'name', '-name', 'updated', '-updated'] },
      }),
      body: { encoding: 'none' },
    },
    {
      id: 'klaviyo.create_list',
      cite: { ...spec, at: 'create_list (ListCreateQuery)' },
      method: 'POST',
      url: [`${host}/api/lists`],
      headers: headers(true),
      body: {
        encoding: 'json',
        schema: object(['data'], {
          data: object(['type', 'attributes'], {
            type: { const: 'list' },
            attributes: object(['name'], { name: { type: 'string', minLength: 1 }, opt_in_process: { enum: ['double_opt_in', 'single_opt_in', null] } }),
          }),
        }),
      },
    },
    relationships('POST', 'add_profiles_to_list'),
    relationships('DELETE', 'remove_profiles_from_list'),
    {
      id: 'klaviyo.get_profiles',
      cite: { ...spec, at: 'get_profiles (filter: id/email/phone_number/external_id any or equals; page[size] 1-100)' },
      method: 'GET',
      url: [`${host}/api/profiles`],
      headers: headers(false),
      query: object([], {
        filter: { type: 'string', pattern: '^(any|equals)\\((id|email|phone_number|external_id),' },
        'page[size]': { type: 'string', pattern: '^([1-9]|[1-9][0-9]|100)$' },
        'page[cursor]': { type: 'string' },
      }),
      body: { encoding: 'none' },
    },
  ],
};
