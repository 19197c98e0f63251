/**
 * Salesforce REST: sObject collections, 200 records per call, upsert by an external id field,
 * delete by record id; audiences become campaign members.
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Acceptance, CallStep, DestinationIds, HttpRequest, SendRequest, Template } from '../../../contract/api-steps.js';
import { keyCaseOf } from '../../fields.js';
import {
  accessToken,
  bearer,
  concat,
  each,
  findOrCreate,
  join,
  jsonHeaders,
  jsonRequest,
  merge,
  oauthRefresh,
  idsOfLeaving,
  perBatch,
  quoted,
  ref,
  required,
  row,
  send,
  withPath,
} from '../http.js';

// The REST API version when the destination names none.
const defaultVersion = '62.0';
const instance = (ctx: ApiContext) => required(ctx, 'instance_url');
const api = (ctx: ApiContext, path: string): Template =>
  concat(ref('vars.instance_url'), `/services/data/v`, ctx.setting('api_version') ?? defaultVersion, path);
const headers = () => jsonHeaders(bearer(accessToken));
// Audiences: members are contacts, matched by the identifier field (an external id, or Id).
const sobject = (ctx: ApiContext) => (ctx.kind === 'audience' ? 'Contact' : (ctx.target ?? 'Contact'));

/** Collections answer one result per record, in request order: {id, success, errors}. */
const inOrder: Acceptance = { by: 'items', items: '', match: 'order', success: { pointer: '/success', equals: true } };
/** A failed record's codes: each error of its result has one, `statusCode`. */
const errorCodes = '/errors/*/statusCode';

/** A record: its fields, and the identifier's field from the key unless the payload holds it as the model has it (`keysKeepCase`). */
const recordOf = (ctx: ApiContext, type: string): Template =>
  merge({ attributes: { type } }, ctx.identifierField ? { [ctx.identifierField]: row.key } : {}, row.payload);

/** `capture`: each record's id kept as its row's destination id. */
function collection(ctx: ApiContext, method: 'POST' | 'PATCH', path: string, records: Template, accept = inOrder, capture = true): SendRequest {
  return perBatch(
    jsonRequest(method, api(ctx, path), headers(), { allOrNone: false, records: each(records) }),
    accept,
    capture ? { destination_id: '/id' } : undefined,
  );
}

/**
 * Upsert by the external id field: PATCH /composite/sobjects/{type}/{field}. Without `capture`,
 * the contact ids it answers are not kept: a campaign member's row keeps its member's id, which
 * a removal deletes by (a contact's id there would have the contact itself deleted).
 */
const upsert = (ctx: ApiContext, capture = true) =>
  collection(ctx, 'PATCH', `/composite/sobjects/${sobject(ctx)}/${ctx.identifierField ?? 'Id'}`, recordOf(ctx, sobject(ctx)), inOrder, capture);

/**
 * CampaignMember ids: key prefix 00v, then the rest of a 15- or 18-character id. The delete by id
 * takes a record of any object, and snapshots written by earlier versions hold the contact's id
 * (003...) for members whose attributes an upsert changed: a campaign's removal names only these.
 */
const memberIds: DestinationIds = { pattern: '00v[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?', what: 'CampaignMember ids (00v...)' };

/**
 * Deletes the records this sync wrote, by the ids it kept; one deleted already (ENTITY_IS_DELETED)
 * is gone, as asked. With `ids`, a row whose id is not of that kind is refused, not sent.
 */
const remove = (ctx: ApiContext, ids?: DestinationIds): SendRequest => ({
  ...perBatch(jsonRequest('DELETE', api(ctx, '/composite/sobjects'), headers(), undefined, { ids: join(each(row.destinationId), ','), allOrNone: 'false' }), {
    ...inOrder,
    already: { code: errorCodes, codes: ['ENTITY_IS_DELETED'] },
  }),
  ...(ids ? { destinationIds: ids } : {}),
});

const step = (ctx: ApiContext, operation: string, changes: ModePlan['reads'], requests: SendRequest[], description: string) =>
  send({ operation, description, changes, batch: { size: ctx.batch }, requests });

/** A SOQL query in the query string; its literals are quoted by the template, at run time. */
const query = (ctx: ApiContext, ...soql: Template[]): HttpRequest => jsonRequest('GET', api(ctx, '/query'), headers(), undefined, { q: concat(...soql) });

function campaignSetup(ctx: ApiContext): CallStep[] {
  const name = ctx.target ?? ctx.sync;
  return findOrCreate(ctx, {
    call: 'campaign',
    into: 'list_id',
    name,
    find: {
      noun: 'campaign',
      // Campaign names need not be unique: the oldest is taken, and a second match is enough to say there are several.
      request: query(ctx, 'SELECT Id FROM Campaign WHERE Name = ', quoted(name), ' ORDER BY CreatedDate, Id LIMIT 2'),
      pointer: '/records/0/Id',
      matches: { items: '/records' },
    },
    create: { noun: 'campaign', request: jsonRequest('POST', api(ctx, '/sobjects/Campaign'), headers(), { Name: name, IsActive: true }), pointer: '/id' },
  });
}

// A lookup's query goes in the URL: 100 identifiers keep it well inside the URI limit.
const lookupBatch = 100;

/**
 * The campaign members of a batch's contacts, found by the identifier field: removal without
 * having added (mode remove) knows no member id, so it looks them up before deleting. SOQL
 * compares the standard Email field without case, so a member is found by an email that
 * differs in case and its result is matched so too (`keysWithoutCase`); any other field exactly.
 */
const findMembers = (ctx: ApiContext): SendRequest => {
  const field = ctx.identifierField ?? 'Id';
  const keyCase = keyCaseOf(ctx.fieldRules, field);
  return perBatch(
    query(
      ctx,
      `SELECT Id, Contact.${field} FROM CampaignMember WHERE CampaignId = `,
      quoted(ref('vars.list_id')),
      ` AND Contact.${field} IN (`,
      join(each(quoted(row.key)), ', '),
      ')',
    ),
    { by: 'items', items: '/records', match: 'key', key: `/Contact/${field}`, ...(keyCase ? { keyCase } : {}), complete: '/done' },
    { destination_id: '/Id' },
  );
};

/**
 * The records of a batch, found by the identifier field (for a record mirror's delete of rows
 * whose id is not known), quoted and compared as `findMembers` does.
 */
const findRecords = (ctx: ApiContext): SendRequest => {
  const field = ctx.identifierField ?? 'Id';
  const keyCase = keyCaseOf(ctx.fieldRules, field);
  return perBatch(
    query(ctx, `SELECT Id, ${field} FROM ${sobject(ctx)} WHERE ${field} IN (`, join(each(quoted(row.key)), ', '), ')'),
    { by: 'items', items: '/records', match: 'key', key: `/${field}`, ...(keyCase ? { keyCase } : {}), complete: '/done' },
    { destination_id: '/Id' },
  );
};

/**
 * Deletes by id after looking up the ids the snapshot lacks; a batch no larger than a lookup
 * takes. With `ids`, a held id not of that kind is looked up too, and the delete names no other.
 */
const removeLeaving = (ctx: ApiContext, operation: string, lookup: SendRequest, description: string, ids?: DestinationIds) =>
  send({
    operation,
    description,
    changes: ['removed'],
    batch: { size: Math.min(ctx.batch, lookupBatch) },
    requests: [{ ...idsOfLeaving(lookup), ...(ids ? { destinationIds: ids } : {}) }, remove(ctx, ids)],
  });

/**
 * The campaign members of a batch's contacts, found by contact id (the upsert's capture): a
 * contact already in the campaign is a DUPLICATE_VALUE error for its new member, and removal
 * needs the id of the member there.
 */
const membersOfContacts = (ctx: ApiContext): SendRequest =>
  perBatch(
    query(
      ctx,
      'SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = ',
      quoted(ref('vars.list_id')),
      ' AND ContactId IN (',
      join(each(quoted(row.destinationId)), ', '),
      ')',
    ),
    { by: 'items', items: '/records', match: 'key', key: '/ContactId', rowKey: 'destination_id' },
    { destination_id: '/Id' },
  );

/** Upsert the contacts, then make them members; the member id (the last capture) is what removal needs, found for a contact already a member. */
const addMembers = (ctx: ApiContext): SendRequest[] => [
  upsert(ctx),
  collection(
    ctx,
    'POST',
    '/composite/sobjects',
    { attributes: { type: 'CampaignMember' }, CampaignId: ref('vars.list_id'), ContactId: row.destinationId },
    { ...inOrder, already: { code: errorCodes, codes: ['DUPLICATE_VALUE'], find: membersOfContacts(ctx) } },
  ),
];

export const salesforceApi: DestinationApi = {
  setup: (ctx) => [
    oauthRefresh(ctx, withPath(instance(ctx), '/services/oauth2/token'), { instance_url: '/instance_url' }),
    ...(ctx.kind === 'audience' ? campaignSetup(ctx) : []),
  ],
  modes: {
    'record:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [step(ctx, 'upsert', ['added', 'changed'], [upsert(ctx)], 'upsert new and changed records by the external id field')],
    }),
    'record:insert': (ctx) => ({
      reads: ['added'],
      steps: [step(ctx, 'create', ['added'], [collection(ctx, 'POST', '/composite/sobjects', recordOf(ctx, sobject(ctx)))], 'create new records')],
    }),
    // Collections update by record id: the identifier's field is Id; an unknown id is rejected and counted.
    'record:update': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [
        step(
          ctx,
          'update',
          ['added', 'changed'],
          [collection(ctx, 'PATCH', '/composite/sobjects', recordOf(ctx, sobject(ctx)))],
          'update existing records by id',
        ),
      ],
    }),
    'record:mirror': (ctx) => ({
      reads: ['added', 'changed', 'removed'],
      steps: [
        step(ctx, 'upsert', ['added', 'changed'], [upsert(ctx)], 'upsert new and changed records by the external id field'),
        removeLeaving(
          ctx,
          'delete',
          findRecords(ctx),
          'delete the records this sync wrote that left the model (looked up by the identifier where their id is not known)',
        ),
      ],
    }),
    'audience:add': (ctx) => ({
      reads: ['added'],
      steps: [step(ctx, 'add_members', ['added'], addMembers(ctx), 'upsert entering contacts, then add them to the campaign')],
    }),
    'audience:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [
        step(ctx, 'add_members', ['added'], addMembers(ctx), 'upsert entering contacts, then add them to the campaign'),
        step(ctx, 'upsert', ['changed'], [upsert(ctx, false)], "update members' attributes"),
      ],
    }),
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        // Members who entered are recorded as they are; their member ids are looked up when they leave.
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        send({
          operation: 'remove_members',
          description: 'find the campaign members of leaving contacts, then delete them',
          changes: ['removed'],
          batch: { size: Math.min(ctx.batch, lookupBatch) },
          requests: [findMembers(ctx), remove(ctx, memberIds)],
        }),
      ],
    }),
    'audience:mirror': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        step(ctx, 'add_members', ['added'], addMembers(ctx), 'upsert entering contacts, then add them to the campaign'),
        removeLeaving(
          ctx,
          'remove_members',
          findMembers(ctx),
          'delete the campaign members this sync added (looked up by the identifier where their member id is not known)',
          memberIds,
        ),
      ],
    }),
  },
};
