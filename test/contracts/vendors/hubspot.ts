/**
 * HubSpot CRM objects v3 (batch create, update, upsert, read, archive) and lists v3 (find by
 * name, create, memberships add and remove), from HubSpot's published OpenAPI documents.
 */
import { bearerToken, headerSchema, jsonType, type JsonSchema, type Operation, type VendorContract } from '../types.js';

const objects = { source: 'hubspot/crm-objects-v3' } as const;
const lists = { source: 'hubspot/crm-lists-v3' } as const;
const host = 'https://api.hubapi.com';

// Private app tokens go as a bearer token (the spec's oauth2 scheme).
const headers = headerSchema({ authorization: bearerToken });
const jsonHeaders = headerSchema({ authorization: bearerToken, 'content-type': jsonType });

// SimplePublicObjectBatchInput*.properties: `additionalProperties: {type: string}`.
const properties: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };

const schema = (required: string[], props: Record<string, JsonSchema>): JsonSchema => ({
  type: 'object',
  required,
  properties: props,
  additionalProperties: false,
});

// Batch calls take 100 inputs (documented beside the spec, which states no maximum).
const batchLimit = { pointer: '/inputs', max: 100, cite: { source: 'hubspot/docs', at: 'CRM batch endpoints: 100 inputs per request' } } as const;

const batch = (action: string, input: JsonSchema, operationId: string): Operation => ({
  id: `hubspot.objects.batch_${action}`,
  cite: { ...objects, at: operationId },
  method: 'POST',
  url: [`${host}/crm/v3/objects/{objectType}/batch/${action}`],
  headers: jsonHeaders,
  body: { encoding: 'json', schema: schema(['inputs'], { inputs: { type: 'array', items: input } }) },
  limits: { items: batchLimit },
});

// PublicAssociationsForObject: {to: {id}, types: [{associationCategory, associationTypeId}]}.
const association: JsonSchema = schema(['to', 'types'], {
  to: schema(['id'], { id: { type: 'string' } }),
  types: {
    type: 'array',
    items: schema(['associationCategory', 'associationTypeId'], {
      associationCategory: { enum: ['HUBSPOT_DEFINED', 'INTEGRATOR_DEFINED', 'USER_DEFINED', 'WORK'] },
      associationTypeId: { type: 'integer' },
    }),
  },
});

export const hubspot: VendorContract = {
  vendor: 'hubspot',
  operations: [
    // SimplePublicObjectBatchInputForCreate: required associations, properties.
    batch(
      'create',
      schema(['associations', 'properties'], { associations: { type: 'array', items: association }, objectWriteTraceId: { type: 'string' }, properties }),
      'post-/crm/v3/objects/{objectType}/batch/create_create',
    ),
    // SimplePublicObjectBatchInput: required id, properties.
    batch(
      'update',
      schema(['id', 'properties'], { id: { type: 'string' }, idProperty: { type: 'string' }, objectWriteTraceId: { type: 'string' }, properties }),
      'post-/crm/v3/objects/{objectType}/batch/update_update',
    ),
    // SimplePublicObjectBatchInputUpsert: required id, properties.
    batch(
      'upsert',
      schema(['id', 'properties'], { id: { type: 'string' }, idProperty: { type: 'string' }, objectWriteTraceId: { type: 'string' }, properties }),
      'post-/crm/v3/objects/{objectType}/batch/upsert_upsert',
    ),
    // BatchInputSimplePublicObjectId: inputs of {id}.
    batch('archive', schema(['id'], { id: { type: 'string' } }), 'post-/crm/v3/objects/{objectType}/batch/archive_archive'),
    {
      // BatchReadInputSimplePublicObjectId: required inputs, properties, propertiesWithHistory.
      id: 'hubspot.objects.batch_read',
      cite: { ...objects, at: 'post-/crm/v3/objects/{objectType}/batch/read_read' },
      method: 'POST',
      url: [`${host}/crm/v3/objects/{objectType}/batch/read`],
      query: { type: 'object', properties: { archived: { enum: ['true', 'false'] } }, additionalProperties: false },
      headers: jsonHeaders,
      body: {
        encoding: 'json',
        schema: schema(['inputs', 'properties', 'propertiesWithHistory'], {
          idProperty: { type: 'string' },
          inputs: { type: 'array', items: schema(['id'], { id: { type: 'string' } }) },
          properties: { type: 'array', items: { type: 'string' } },
          propertiesWithHistory: { type: 'array', items: { type: 'string' } },
        }),
      },
      limits: { items: batchLimit },
    },
    {
      id: 'hubspot.lists.by_name',
      cite: { ...lists, at: 'get-/crm/v3/lists/object-type-id/{objectTypeId}/name/{listName}' },
      method: 'GET',
      url: [`${host}/crm/v3/lists/object-type-id/{objectTypeId}/name/{listName}`],
      query: { type: 'object', properties: { includeFilters: { enum: ['true', 'false'] } }, additionalProperties: false },
      headers,
      body: { encoding: 'none' },
    },
    {
      // ListCreateRequest: required name, objectTypeId, processingType (SNAPSHOT, MANUAL or DYNAMIC).
      id: 'hubspot.lists.create',
      cite: { ...lists, at: 'post-/crm/v3/lists_/crm/v3/lists' },
      method: 'POST',
      url: [`${host}/crm/v3/lists`],
      headers: jsonHeaders,
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          required: ['name', 'objectTypeId', 'processingType'],
          properties: {
            name: { type: 'string', minLength: 1 },
            objectTypeId: { type: 'string' },
            processingType: { enum: ['SNAPSHOT', 'MANUAL', 'DYNAMIC'] },
            listFolderId: { type: 'integer' },
            customProperties: { type: 'object', additionalProperties: { type: 'string' } },
          },
          additionalProperties: false,
        },
      },
    },
    ...(['add', 'remove'] as const).map(
      (action): Operation => ({
        // The body is an array of record ids (strings).
        id: `hubspot.lists.memberships_${action}`,
        cite: { ...lists, at: `put-/crm/v3/lists/{listId}/memberships/${action}_/crm/v3/lists/{listId}/memberships/${action}` },
        method: 'PUT',
        url: [`${host}/crm/v3/lists/{listId}/memberships/${action}`],
        headers: jsonHeaders,
        body: { encoding: 'json', schema: { type: 'array', items: { type: 'string', minLength: 1 } } },
      }),
    ),
  ],
};
