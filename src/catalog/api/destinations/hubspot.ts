/**
 * HubSpot CRM v3: batch create/update/upsert/archive of objects (100 inputs per call), static
 * lists through the v3 lists API. Records are matched by a unique property (`idProperty`).
 * https://developers.hubspot.com/docs/api/crm/objects
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Acceptance, CallStep, SendRequest, Template } from '../../../contract/api-steps.js';
import { keyCaseOf } from '../../fields.js';
import { bearer, concat, each, findOrCreate, idsOfLeaving, jsonHeaders, jsonRequest, merge, perBatch, rateLimitOf, ref, required, row, send } from '../http.js';

const base = 'https://api.hubapi.com';
const headers = (ctx: ApiContext) => jsonHeaders(bearer(required(ctx, 'token')));
// Lists hold contacts (object type 0-1); audiences match contacts by the identifier.
const contacts = 'contacts';
const objectType = (ctx: ApiContext) => (ctx.kind === 'audience' ? contacts : (ctx.target ?? contacts));
const batchUrl = (ctx: ApiContext, action: string): Template => `${base}/crm/v3/objects/${encodeURIComponent(objectType(ctx))}/batch/${action}`;

/**
 * Results come back unordered; each carries the idProperty among its properties, an email in
 * the lower case HubSpot keeps it in (compared so: the catalog's `keysWithoutCase`).
 */
function byKey(ctx: ApiContext): Acceptance {
  if (!ctx.identifierField) return { by: 'status' };
  const key = `/properties/${ctx.identifierField.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  const keyCase = keyCaseOf(ctx.fieldRules, ctx.identifierField);
  return { by: 'items', items: '/results', match: 'key', key, ...(keyCase ? { keyCase } : {}) };
}

/**
 * Properties including the identifier, so the response shows which record is which. Every
 * value is a string (the change set renders them so: src/catalog/destinations/hubspot.ts).
 */
const properties = (ctx: ApiContext): Template => (ctx.identifierField ? merge(row.payload, { [ctx.identifierField]: row.key }) : row.payload);

function write(ctx: ApiContext, action: 'create' | 'update' | 'upsert'): SendRequest {
  // A created record is associated with nothing; the schema requires the (empty) list.
  const input: Template =
    action === 'create'
      ? { associations: [], properties: properties(ctx) }
      : { idProperty: ctx.identifierField ?? null, id: row.key, properties: properties(ctx) };
  return perBatch(jsonRequest('POST', batchUrl(ctx, action), headers(ctx), { inputs: each(input) }), byKey(ctx), { destination_id: '/id' });
}

/**
 * Finds records by the identifier, before a removal by record id: the id a record has now (a
 * merge may have changed it). HubSpot names the ids it has no record of in an OBJECT_NOT_FOUND
 * error: such a record was never made or is gone, so it is removed already; but one whose write
 * recorded an id goes on with that id (its email may have been changed in HubSpot).
 */
function read(ctx: ApiContext): SendRequest {
  const found = byKey(ctx);
  const accept: Acceptance =
    found.by === 'items' ? { ...found, absent: 'done', absentError: { pointer: '/category', equals: 'OBJECT_NOT_FOUND' }, absentKeepsId: true } : found;
  return perBatch(
    jsonRequest('POST', batchUrl(ctx, 'read'), headers(ctx), {
      idProperty: ctx.identifierField ?? null,
      inputs: each({ id: row.key }),
      properties: [ctx.identifierField ?? 'hs_object_id'],
      propertiesWithHistory: [],
    }),
    accept,
    { destination_id: '/id' },
  );
}

const listUrl = (suffix: string): Template => concat(`${base}/crm/v3/lists/`, ref('vars.list_id'), suffix);
/**
 * "Records that do not exist ... are ignored", and named in `recordIdsMissing`: an entering
 * contact gone since its upsert (merged away, deleted) was not added, and is refused; a leaving
 * one gone is off the list already.
 */
const membership = (ctx: ApiContext, action: 'add' | 'remove'): SendRequest =>
  perBatch(
    jsonRequest('PUT', listUrl(`/memberships/${action}`), headers(ctx), each(row.destinationId)),
    action === 'add' ? { by: 'status', missing: '/recordIdsMissing' } : undefined,
  );

function step(ctx: ApiContext, operation: string, changes: ModePlan['reads'], requests: SendRequest[], description: string) {
  return send({ operation, description, changes, batch: { size: ctx.batch }, requests });
}

/** Leaving contacts found by email, for the id they have now (else the one their add recorded), then taken off the list. */
const removeMembers = (ctx: ApiContext) =>
  step(
    ctx,
    'remove_members',
    ['removed'],
    [read(ctx), membership(ctx, 'remove')],
    'find leaving contacts (by email, else by the id their add recorded), then remove them from the list',
  );

function listSetup(ctx: ApiContext): CallStep[] {
  const name = ctx.target ?? ctx.sync;
  return findOrCreate(ctx, {
    call: 'list',
    into: 'list_id',
    name,
    find: {
      noun: 'list',
      request: jsonRequest('GET', `${base}/crm/v3/lists/object-type-id/0-1/name/${encodeURIComponent(name)}`, headers(ctx)),
      pointer: '/list/listId',
      // 404: no such list yet; it is created next.
      absentOn: [404],
    },
    create: {
      noun: 'manual list',
      request: jsonRequest('POST', `${base}/crm/v3/lists`, headers(ctx), { name, objectTypeId: '0-1', processingType: 'MANUAL' }),
      pointer: '/list/listId',
    },
  });
}

export const hubspotApi: DestinationApi = {
  setup: (ctx) => (ctx.kind === 'audience' ? listSetup(ctx) : []),
  modes: {
    'record:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [step(ctx, 'upsert', ['added', 'changed'], [write(ctx, 'upsert')], 'batch upsert new and changed records by the identifier')],
    }),
    'record:insert': (ctx) => ({ reads: ['added'], steps: [step(ctx, 'create', ['added'], [write(ctx, 'create')], 'batch create new records')] }),
    'record:update': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [step(ctx, 'update', ['added', 'changed'], [write(ctx, 'update')], 'batch update existing records; a missing record is rejected and counted')],
    }),
    'record:mirror': (ctx) => ({
      reads: ['added', 'changed', 'removed'],
      steps: [
        step(ctx, 'upsert', ['added', 'changed'], [write(ctx, 'upsert')], 'batch upsert new and changed records by the identifier'),
        step(
          ctx,
          'archive',
          ['removed'],
          [idsOfLeaving(read(ctx)), perBatch(jsonRequest('POST', batchUrl(ctx, 'archive'), headers(ctx), { inputs: each({ id: row.destinationId }) }))],
          'batch archive the records this sync wrote that left the model (looked up by the identifier where their id is not known)',
        ),
      ],
    }),
    'audience:add': (ctx) => ({
      reads: ['added'],
      steps: [step(ctx, 'add_members', ['added'], [write(ctx, 'upsert'), membership(ctx, 'add')], 'upsert entering contacts, then add them to the list')],
    }),
    'audience:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [
        step(
          ctx,
          'add_members',
          ['added', 'changed'],
          [write(ctx, 'upsert'), membership(ctx, 'add')],
          'upsert entering and changed contacts, then add them to the list',
        ),
      ],
    }),
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        removeMembers(ctx),
      ],
    }),
    'audience:mirror': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        step(ctx, 'add_members', ['added'], [write(ctx, 'upsert'), membership(ctx, 'add')], 'upsert entering contacts, then add them to the list'),
        removeMembers(ctx),
      ],
    }),
  },
};
