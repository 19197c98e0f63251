/**
 * Meta Marketing API custom audiences: the `users` edge (POST adds, DELETE removes), the
 * `usersreplace` edge (a session that replaces the audience), and the ad account's
 * `customaudiences` edge (find by name, create). Parameters from the SDK codegen specs;
 * `payload` and `session`, which the specs type only as Object, from the Marketing API
 * reference.
 */
import { bearerToken, headerSchema, jsonType, type JsonSchema, type Operation, type VendorContract } from '../types.js';

const specs = { source: 'meta/sdk-codegen-specs' } as const;
const docs = { source: 'meta/docs' } as const;
const graph = 'https://graph.facebook.com/{version}';

const headers = headerSchema({ authorization: bearerToken });
const jsonHeaders = headerSchema({ authorization: bearerToken, 'content-type': jsonType });

/** "Supported key types includes: EXTERN_ID EMAIL PHONE GEN DOBY DOBM DOBD LN FN FI CT ST ZIP MADID COUNTRY". */
export const metaKeys = ['EXTERN_ID', 'EMAIL', 'PHONE', 'GEN', 'DOBY', 'DOBM', 'DOBD', 'LN', 'FN', 'FI', 'CT', 'ST', 'ZIP', 'MADID', 'COUNTRY'] as const;
/** Keys sent as given rather than SHA-256 hashed (the SDK's format_params hashes every other key). */
const unhashed = new Set(['EXTERN_ID', 'MADID']);

/**
 * payload: {schema, is_raw, data}. A multi-key schema is an array of keys; each data row has
 * one value per key, "" where a key is unknown ("In case a key is unknown, it should be left
 * blank"); is_raw is true unless the keys are combinational ("set this to false, otherwise set
 * this to true. Default to false").
 */
const payload: JsonSchema = {
  type: 'object',
  required: ['schema', 'is_raw', 'data'],
  properties: {
    schema: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...metaKeys] } },
    is_raw: { const: true },
    data: { type: 'array', minItems: 1, items: { type: 'array', items: { type: 'string' } } },
    app_ids: { type: 'array', items: { type: 'string' } },
  },
  additionalProperties: false,
};

/** Per row: one value per schema key; a hashed key's value a lower-case SHA-256 hex digest or blank; not every value blank. */
function rows(body: unknown): string[] {
  const p = (body as { payload?: { schema?: unknown; data?: unknown } } | undefined)?.payload;
  if (!Array.isArray(p?.schema) || !Array.isArray(p?.data)) return [];
  const schema = p.schema as string[];
  const problems: string[] = [];
  (p.data as unknown[]).forEach((row, i) => {
    if (!Array.isArray(row)) return;
    if (row.length !== schema.length) problems.push(`data[${i}] has ${row.length} values for ${schema.length} keys`);
    if (row.every((v) => v === '')) problems.push(`data[${i}] has no value`);
    row.forEach((v, k) => {
      const key = schema[k];
      if (key && !unhashed.has(key) && typeof v === 'string' && !/^([0-9a-f]{64})?$/.test(v))
        problems.push(`data[${i}][${k}] (${key}) is not a SHA-256 hex digest or blank`);
    });
  });
  return problems;
}

const tenThousand = { pointer: '/payload/data', max: 10_000, cite: { ...docs, at: 'custom-audience/users: "only a maximum of 10000 at a time"' } } as const;

const users = (method: 'POST' | 'DELETE'): Operation => ({
  id: `meta.audience.users_${method.toLowerCase()}`,
  cite: { ...specs, at: `CustomAudience ${method} users (params namespace, payload, session)` },
  method,
  url: [`${graph}/{audienceId}/users`],
  headers: jsonHeaders,
  body: {
    encoding: 'json',
    schema: {
      type: 'object',
      required: ['payload'],
      properties: { payload, session: { type: 'object' }, namespace: { type: 'string' } },
      additionalProperties: false,
    },
  },
  limits: { items: tenThousand },
  rules: [(req) => rows(req.body)],
});

export const meta: VendorContract = {
  vendor: 'facebook_ads',
  operations: [
    users('POST'),
    users('DELETE'),
    {
      id: 'meta.audience.usersreplace',
      cite: { ...specs, at: 'CustomAudience POST usersreplace (payload required, session required)' },
      method: 'POST',
      url: [`${graph}/{audienceId}/usersreplace`],
      headers: jsonHeaders,
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          required: ['payload', 'session'],
          properties: {
            payload,
            // Custom audiences guide: session_id, batch_seq from 1, last_batch_flag, estimated_num_total.
            session: {
              type: 'object',
              required: ['session_id', 'batch_seq', 'last_batch_flag'],
              properties: {
                session_id: { type: 'integer', minimum: 1 },
                batch_seq: { type: 'integer', minimum: 1 },
                last_batch_flag: { type: 'boolean' },
                estimated_num_total: { type: 'integer', minimum: 0 },
              },
              additionalProperties: false,
            },
            namespace: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
      limits: { items: tenThousand },
      rules: [(req) => rows(req.body)],
    },
    {
      id: 'meta.account.customaudiences_get',
      cite: { ...specs, at: 'AdAccount GET customaudiences (fields list<string>, filtering list<Object>)' },
      method: 'GET',
      url: [`${graph}/{adAccount}/customaudiences`],
      headers,
      query: {
        type: 'object',
        properties: {
          fields: { type: 'string', pattern: '^[a-z_]+(,[a-z_]+)*$' },
          filtering: { type: 'string', pattern: '^\\[' },
          business_id: { type: 'string' },
          pixel_id: { type: 'string' },
        },
        additionalProperties: false,
      },
      body: { encoding: 'none' },
      rules: [(req) => (/^act_\d+$/.test(req.params.adAccount ?? '') ? [] : [`the ad account is \`${req.params.adAccount}\`, not act_<digits>`])],
    },
    {
      id: 'meta.account.customaudiences_post',
      cite: { ...specs, at: 'AdAccount POST customaudiences (name, subtype enum, customer_file_source enum)' },
      method: 'POST',
      url: [`${graph}/{adAccount}/customaudiences`],
      headers: jsonHeaders,
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            description: { type: 'string' },
            subtype: {
              enum: [
                'APP',
                'BAG_OF_ACCOUNTS',
                'BIDDING',
                'CLAIM',
                'CUSTOM',
                'ENGAGEMENT',
                'EXCLUSION',
                'FOX',
                'LOOKALIKE',
                'MANAGED',
                'MEASUREMENT',
                'MESSENGER_SUBSCRIBER_LIST',
                'OFFLINE_CONVERSION',
                'PARTNER',
                'PRIMARY',
                'REGULATED_CATEGORIES_AUDIENCE',
                'STUDY_RULE_AUDIENCE',
                'VIDEO',
                'WEBSITE',
              ],
            },
            customer_file_source: { enum: ['BOTH_USER_AND_PARTNER_PROVIDED', 'PARTNER_PROVIDED_ONLY', 'USER_PROVIDED_ONLY'] },
            retention_days: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
      },
    },
  ],
};
