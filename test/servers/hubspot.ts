/**
 * HubSpot CRM v3 batch endpoints as documented: POST /crm/v3/objects/{objectType}/batch/
 * {create,update,upsert,archive}, at most 100 inputs per call, a Bearer private-app token.
 * Inputs that carry an objectWriteTraceId get multi-status handling: a 207 whose `errors`
 * name the failed inputs' trace ids in `context.objectWriteTraceId`; without trace ids one bad
 * input fails the whole call with a 400 and nothing is written. Archive takes record ids and
 * answers 204 whether or not the record exists. Batch read (`idProperty`, `inputs: [{ id }]`)
 * returns the records found (a 207 with an OBJECT_NOT_FOUND error naming the others). A
 * contact's email is kept in lower case and contacts are found by it regardless of case.
 *
 * Lists (CRM v3 lists API): GET /crm/v3/lists/object-type-id/{objectTypeId}/name/{name} answers
 * `{ list }` or 404; POST /crm/v3/lists creates one (`name`, `objectTypeId`,
 * `processingType`: MANUAL) and answers `{ list }`; PUT /crm/v3/lists/{listId}/memberships/
 * {add,remove} takes an array of record ids and answers `recordIdsAdded` / `recordIdsRemoved`
 * and `recordIdsMissing` (ids of no record).
 */
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

export interface HubspotRecord {
  id: string;
  properties: Record<string, string | null>;
}

interface Input {
  id?: string;
  idProperty?: string;
  properties?: Record<string, unknown>;
  objectWriteTraceId?: string;
}

interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
}

export interface HubspotOptions {
  token?: string;
  /** A reason to refuse an input (a validation error), or undefined to accept it. */
  reject?: (objectType: string, input: Input) => string | undefined;
  /** The id the answer gives the record written for an input, when it is not the record's own (a server that misreports it). */
  answerId?: (objectType: string, input: Input) => string | undefined;
}

export const hubspotMaxBatch = 100;

export interface HubspotList {
  listId: string;
  name: string;
  objectTypeId: string;
  processingType: string;
  members: Set<string>;
}

export class FakeHubspot extends FakeService {
  protected override readonly contract = 'hubspot';
  /** objectType -> record id -> record (archived records are removed). */
  readonly objects = new Map<string, Map<string, HubspotRecord>>();
  readonly lists: HubspotList[] = [];
  private nextId = 1000;

  constructor(readonly options: HubspotOptions = {}) {
    super();
  }

  records(objectType: string): HubspotRecord[] {
    return [...(this.objects.get(objectType)?.values() ?? [])];
  }

  /** The record whose unique property `prop` equals `value` (a contact's email in any case). */
  find(objectType: string, prop: string, value: string): HubspotRecord | undefined {
    const fold = caseless(objectType, prop) ? (v: string | null | undefined) => v?.toLowerCase() : (v: string | null | undefined) => v;
    return this.records(objectType).find((r) => fold(r.properties[prop]) === fold(value));
  }

  private table(objectType: string): Map<string, HubspotRecord> {
    let t = this.objects.get(objectType);
    if (!t) this.objects.set(objectType, (t = new Map()));
    return t;
  }

  /** The emails of the contacts in the list named `name`. */
  listEmails(name: string): string[] {
    const list = this.lists.find((l) => l.name === name);
    return [...(list?.members ?? [])].map((id) => this.table('contacts').get(id)?.properties.email ?? `?${id}`).sort();
  }

  protected handle(req: Recorded): Reply {
    if (this.options.token && bearer(req) !== this.options.token) {
      return { status: 401, body: { status: 'error', category: 'INVALID_AUTHENTICATION', message: 'Authentication credentials not found.' } };
    }
    if (req.path.startsWith('/crm/v3/lists')) return this.handleLists(req);
    if (req.method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/batch\/read$/.test(req.path))
      return this.read(decodeURIComponent(req.path.split('/')[4]!), req.body);
    const m = /^\/crm\/v3\/objects\/([^/]+)\/batch\/(create|update|upsert|archive)$/.exec(req.path);
    if (!m || req.method !== 'POST') return notFound(req);
    const objectType = decodeURIComponent(m[1] as string);
    const action = m[2] as 'create' | 'update' | 'upsert' | 'archive';
    const inputs = (req.body as { inputs?: Input[] } | undefined)?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0) return validation('inputs must be a non-empty array');
    if (inputs.length > hubspotMaxBatch) return validation(`Batch input limit of ${hubspotMaxBatch} exceeded: got ${inputs.length}`);
    if (action === 'archive') {
      for (const input of inputs) this.table(objectType).delete(String(input.id));
      return { status: 204 };
    }
    const errors: BatchError[] = [];
    const ok: Input[] = [];
    for (const input of inputs) {
      const why = this.problem(objectType, action, input);
      if (why) errors.push({ status: 'error', category: why.category, message: why.message, context: contextOf(input) });
      else ok.push(input);
    }
    const multiStatus = inputs.some((i) => i.objectWriteTraceId !== undefined);
    if (errors.length && !multiStatus) {
      return { status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message: errors.map((e) => e.message).join('; '), errors } };
    }
    const results = ok.map((input) => ({ ...this.write(objectType, action, input), input, objectWriteTraceId: input.objectWriteTraceId }));
    const body = {
      status: 'COMPLETE',
      results: results.map(({ record, created, input, objectWriteTraceId }) => ({
        id: this.options.answerId?.(objectType, input) ?? record.id,
        properties: record.properties,
        new: created,
        archived: false,
        ...(objectWriteTraceId === undefined ? {} : { objectWriteTraceId }),
      })),
      ...(errors.length ? { numErrors: errors.length, errors } : {}),
    };
    return { status: errors.length ? 207 : action === 'create' ? 201 : 200, body };
  }

  private read(objectType: string, body: unknown): Reply {
    const { idProperty, inputs } = (body ?? {}) as { idProperty?: string; inputs?: { id?: unknown }[] };
    if (!Array.isArray(inputs) || inputs.length === 0) return validation('inputs must be a non-empty array');
    if (inputs.length > hubspotMaxBatch) return validation(`Batch input limit of ${hubspotMaxBatch} exceeded: got ${inputs.length}`);
    const found: HubspotRecord[] = [];
    const missing: string[] = [];
    for (const { id } of inputs) {
      const record = this.lookup(objectType, { id: String(id), ...(idProperty ? { idProperty } : {}) });
      if (record) found.push(record);
      else missing.push(String(id));
    }
    const results = found.map((r) => ({ id: r.id, properties: r.properties, archived: false }));
    if (missing.length === 0) return { status: 200, body: { status: 'COMPLETE', results } };
    const error: BatchError = {
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: 'Could not get some objects, they may be deleted or not exist.',
      context: { ids: missing },
    };
    return { status: 207, body: { status: 'COMPLETE', results, numErrors: 1, errors: [error] } };
  }

  private handleLists(req: Recorded): Reply {
    const byName = /^\/crm\/v3\/lists\/object-type-id\/([^/]+)\/name\/([^/]+)$/.exec(req.path);
    if (byName && req.method === 'GET') {
      const [objectTypeId, name] = [decodeURIComponent(byName[1]!), decodeURIComponent(byName[2]!)];
      const list = this.lists.find((l) => l.objectTypeId === objectTypeId && l.name === name);
      return list
        ? { status: 200, body: { list: listBody(list) } }
        : { status: 404, body: { status: 'error', category: 'OBJECT_NOT_FOUND', message: `List does not exist with name ${name}.` } };
    }
    if (req.path === '/crm/v3/lists' && req.method === 'POST') {
      const { name, objectTypeId, processingType } = (req.body ?? {}) as Partial<HubspotList>;
      if (!name || !objectTypeId || !processingType) return validation('name, objectTypeId and processingType are required');
      if (this.lists.some((l) => l.name === name)) return validation(`A list named ${name} already exists.`);
      const list: HubspotList = { listId: String(this.nextId++), name, objectTypeId, processingType, members: new Set() };
      this.lists.push(list);
      return { status: 200, body: { list: listBody(list) } };
    }
    const members = /^\/crm\/v3\/lists\/([^/]+)\/memberships\/(add|remove)$/.exec(req.path);
    if (members && req.method === 'PUT') {
      const list = this.lists.find((l) => l.listId === members[1]);
      if (!list) return { status: 404, body: { status: 'error', category: 'OBJECT_NOT_FOUND', message: `List ${members[1]} does not exist.` } };
      const ids = req.body;
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string' && typeof id !== 'number'))
        return validation('the body must be an array of record ids');
      const known = ids.map(String).filter((id) => this.table('contacts').has(id));
      const missing = ids.map(String).filter((id) => !this.table('contacts').has(id));
      for (const id of known) {
        if (members[2] === 'add') list.members.add(id);
        else list.members.delete(id);
      }
      return { status: 200, body: { [members[2] === 'add' ? 'recordIdsAdded' : 'recordIdsRemoved']: known, recordIdsMissing: missing } };
    }
    return notFound(req);
  }

  private problem(objectType: string, action: string, input: Input): { category: string; message: string } | undefined {
    if (typeof input.properties !== 'object' || input.properties === null) return { category: 'VALIDATION_ERROR', message: 'properties is required' };
    if (action === 'upsert' && (!input.idProperty || input.id === undefined))
      return { category: 'VALIDATION_ERROR', message: 'upsert needs id and idProperty' };
    if (action === 'update' && !this.lookup(objectType, input)) {
      return { category: 'OBJECT_NOT_FOUND', message: `Could not get some ${objectType} objects, they may be deleted or not exist.` };
    }
    const reason = this.options.reject?.(objectType, input);
    return reason === undefined ? undefined : { category: 'VALIDATION_ERROR', message: reason };
  }

  private lookup(objectType: string, input: Input): HubspotRecord | undefined {
    if (input.id === undefined) return undefined;
    if (!input.idProperty) return this.table(objectType).get(String(input.id));
    return this.find(objectType, input.idProperty, String(input.id));
  }

  private write(objectType: string, action: string, input: Input): { record: HubspotRecord; created: boolean } {
    const props = stringProps(input.properties ?? {});
    if (caseless(objectType, 'email') && typeof props.email === 'string') props.email = props.email.toLowerCase();
    const existing = action === 'create' ? undefined : this.lookup(objectType, input);
    if (existing) {
      Object.assign(existing.properties, props);
      return { record: existing, created: false };
    }
    const record: HubspotRecord = { id: String(this.nextId++), properties: props };
    if (input.idProperty && input.id !== undefined)
      record.properties[input.idProperty] = caseless(objectType, input.idProperty) ? String(input.id).toLowerCase() : String(input.id);
    this.table(objectType).set(record.id, record);
    return { record, created: true };
  }
}

/** HubSpot stores contact emails lower-cased and matches them without case. */
function caseless(objectType: string, prop: string): boolean {
  return objectType === 'contacts' && prop === 'email';
}

function listBody(list: HubspotList) {
  return { listId: list.listId, name: list.name, objectTypeId: list.objectTypeId, processingType: list.processingType, size: list.members.size };
}

function notFound(req: Recorded): Reply {
  return { status: 404, body: { status: 'error', category: 'OBJECT_NOT_FOUND', message: `no route ${req.method} ${req.path}` } };
}

function validation(message: string): Reply {
  return { status: 400, body: { status: 'error', category: 'VALIDATION_ERROR', message } };
}

function contextOf(input: Input): Record<string, string[]> {
  if (input.objectWriteTraceId !== undefined) return { objectWriteTraceId: [input.objectWriteTraceId] };
  return input.id === undefined ? {} : { ids: [String(input.id)] };
}

// HubSpot stores every property value as a string.
function stringProps(p: Record<string, unknown>): Record<string, string | null> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)]));
}

export async function startHubspot(options?: HubspotOptions): Promise<FakeHubspot> {
  return new FakeHubspot(options).start();
}
