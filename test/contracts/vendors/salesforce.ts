/**
 * Salesforce REST API: sObject Collections (create, update, upsert by external id, delete by
 * id), SOQL query, sObject create (the campaign), and the OAuth refresh-token grant, from the
 * REST API Developer Guide (Salesforce publishes no OpenAPI document of these resources).
 */
import { bearerToken, headerSchema, jsonType, type JsonSchema, type Operation, type ParsedRequest, type VendorContract } from '../types.js';

const docs = { source: 'salesforce/rest-docs' } as const;
// Any org's instance; the API version is part of the path.
const instance = 'https://{instance}';
const api = `${instance}/services/data/{version}`;
const version = (req: ParsedRequest): string[] =>
  /^v\d+\.\d$/.test(req.params.version ?? '') ? [] : [`the API version segment is \`${req.params.version}\`, not vNN.N`];

const headers = headerSchema({ authorization: bearerToken });
const jsonHeaders = headerSchema({ authorization: bearerToken, 'content-type': jsonType });

// "Each object must contain an attributes map. The map must contain a value for type."
const sobject = (extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  required: ['attributes', ...((extra.required as string[] | undefined) ?? [])],
  properties: {
    attributes: { type: 'object', required: ['type'], properties: { type: { type: 'string', minLength: 1 } } },
    ...(extra.properties as object | undefined),
  },
  ...(extra.not ? { not: extra.not } : {}),
});
const records = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['records'],
  properties: { allOrNone: { type: 'boolean' }, records: { type: 'array', minItems: 1, items: item } },
  additionalProperties: false,
});
// "The list can contain up to 200 objects."
const items = { pointer: '/records', max: 200, cite: { ...docs, at: 'sObject Collections create/update/upsert: up to 200 objects' } } as const;

/** The records of an upsert carry no id ("Don't set the id field ... use the external ID field"). */
function sameType(req: ParsedRequest): string[] {
  const type = req.params.sobject;
  const list = (req.body as { records?: { attributes?: { type?: string } }[] } | undefined)?.records ?? [];
  return list.some((r) => r.attributes?.type !== type) ? [`every record must be of the type in the URI (${type})`] : [];
}

export const salesforce: VendorContract = {
  vendor: 'salesforce',
  operations: [
    {
      id: 'salesforce.oauth.refresh',
      cite: { ...docs, at: 'OAuth refresh token flow: grant_type=refresh_token, refresh_token, client_id[, client_secret]' },
      method: 'POST',
      url: [`${instance}/services/oauth2/token`],
      body: {
        encoding: 'form',
        schema: {
          type: 'object',
          required: ['grant_type', 'refresh_token', 'client_id'],
          properties: {
            grant_type: { const: 'refresh_token' },
            refresh_token: { type: 'string', minLength: 1 },
            client_id: { type: 'string', minLength: 1 },
            client_secret: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
    },
    {
      id: 'salesforce.collections.create',
      cite: { ...docs, at: 'Create Records Using sObject Collections: POST /composite/sobjects; set type, not id' },
      method: 'POST',
      url: [`${api}/composite/sobjects`],
      headers: jsonHeaders,
      body: { encoding: 'json', schema: records(sobject({ not: { anyOf: [{ required: ['id'] }, { required: ['Id'] }] } })) },
      limits: { items },
      rules: [version],
    },
    {
      id: 'salesforce.collections.update',
      cite: { ...docs, at: 'Update Records Using sObject Collections: PATCH /composite/sobjects; each object with a valid id' },
      method: 'PATCH',
      url: [`${api}/composite/sobjects`],
      headers: jsonHeaders,
      body: {
        encoding: 'json',
        schema: records({
          anyOf: [
            sobject({ required: ['id'], properties: { id: { type: 'string', minLength: 15 } } }),
            sobject({ required: ['Id'], properties: { Id: { type: 'string', minLength: 15 } } }),
          ],
        }),
      },
      limits: { items },
      rules: [version],
    },
    {
      id: 'salesforce.collections.upsert',
      cite: { ...docs, at: 'Upsert Records Using sObject Collections: PATCH /composite/sobjects/{SobjectName}/{ExternalIdFieldName}' },
      method: 'PATCH',
      url: [`${api}/composite/sobjects/{sobject}/{externalIdField}`],
      headers: jsonHeaders,
      body: { encoding: 'json', schema: records(sobject({ not: { required: ['id'] } })) },
      limits: { items },
      rules: [
        version,
        sameType,
        (req) => (/^id$/i.test(req.params.externalIdField ?? '') ? ['"Only external ids are supported. Don\'t use record ids."'] : []),
      ],
    },
    {
      id: 'salesforce.collections.delete',
      cite: { ...docs, at: 'Delete Records Using sObject Collections: DELETE /composite/sobjects?ids=...; ids: required, up to 200' },
      method: 'DELETE',
      url: [`${api}/composite/sobjects`],
      headers,
      // Record ids are 15 or 18 characters of letters and digits.
      query: {
        type: 'object',
        required: ['ids'],
        properties: { ids: { type: 'string', pattern: '^[A-Za-z0-9]{15,18}(,[A-Za-z0-9]{15,18})*$' }, allOrNone: { enum: ['true', 'false'] } },
        additionalProperties: false,
      },
      body: { encoding: 'none' },
      limits: { items: { pointer: '?ids', max: 200, cite: { ...docs, at: 'Delete: "A list of up to 200 IDs of objects to be deleted"' } } },
      rules: [version],
    },
    {
      id: 'salesforce.query',
      cite: { ...docs, at: 'Query: GET /query?q=SOQL' },
      method: 'GET',
      url: [`${api}/query`],
      headers,
      query: { type: 'object', required: ['q'], properties: { q: { type: 'string', pattern: '^SELECT ' } }, additionalProperties: false },
      body: { encoding: 'none' },
      rules: [version],
    },
    {
      id: 'salesforce.sobject.create',
      cite: { ...docs, at: 'sObject Basic Information: POST /sobjects/{SObjectName}' },
      method: 'POST',
      url: [`${api}/sobjects/{sobject}`],
      headers: jsonHeaders,
      body: { encoding: 'json', schema: { type: 'object', minProperties: 1 } },
      rules: [version],
    },
  ],
};
