/**
 * Salesforce REST as documented (REST API Developer Guide): POST /services/oauth2/token (form:
 * grant_type=refresh_token, client_id, client_secret, refresh_token) answers an access token and
 * the instance URL; every data call needs it as a Bearer header. Under /services/data/vNN.N:
 * GET /query?q=SOQL (here the four queries syncwright makes: a campaign by name, campaign members
 * by contact field, and records of one type by a field, both compared without case as SOQL
 * compares text, and campaign members by contact id; any other query, or a literal not quoted as SOQL quotes it, is MALFORMED_QUERY; records the
 * running user may not see are left out), POST /sobjects/Campaign, and
 * sObject Collections of at most 200 records: PATCH /composite/sobjects/{type}/{externalIdField}
 * upserts (by the standard Email field, an idLookup field, matched without case), POST
 * /composite/sobjects creates (a contact already in the campaign is a DUPLICATE_VALUE error for
 * that record), DELETE /composite/sobjects?ids=... deletes (an unknown id is an
 * ENTITY_IS_DELETED error for it); each answers one result per record, in order: {id, success,
 * errors}.
 */
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

export interface SalesforceOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

type SObject = Record<string, unknown> & { Id: string };

const prefixes: Record<string, string> = { Contact: '003', Campaign: '701', CampaignMember: '00v' };
const maxRecords = 200;

// A SOQL string literal (a quote or backslash in it escaped by a backslash), and a list of them as an IN (...) holds them.
const quotedLiteral = `'(?:[^'\\\\]|\\\\.)*'`;
const literalList = `${quotedLiteral}(?:, ${quotedLiteral})*`;
/** The values of the SOQL string literals in `text`: quotes taken off, backslash escapes undone. */
const literals = (text: string) => [...text.matchAll(new RegExp(quotedLiteral, 'g'))].map((m) => m[0].slice(1, -1).replace(/\\(.)/g, '$1'));

export class FakeSalesforce extends FakeService {
  protected override readonly contract = 'salesforce';
  /** sObjects by type, then by Id. */
  readonly objects = new Map<string, Map<string, SObject>>();
  /** Every record a DELETE removed, by id and type, in order: what a removal took away. */
  readonly deleted: { id: string; type: string }[] = [];
  /** Ids of records the running user may not see (sharing): queries leave them out, while a create still meets them as duplicates. */
  readonly hidden = new Set<string>();
  private readonly accessToken = '00Dlocal!access-token';
  /** The instance URL the sign-in answers: the org's, or what a hostile server names. */
  instanceUrl = 'https://acme.my.salesforce.com';
  private next = 1;

  constructor(readonly options: SalesforceOptions) {
    super();
  }

  table(type: string): Map<string, SObject> {
    let t = this.objects.get(type);
    if (!t) this.objects.set(type, (t = new Map()));
    return t;
  }

  insert(type: string, fields: Record<string, unknown>): SObject {
    const record = { ...fields, Id: `${prefixes[type] ?? 'a00'}${String(this.next++).padStart(12, '0')}AAA` };
    this.table(type).set(record.Id, record);
    return record;
  }

  /** The values of `field` of the contacts in the campaign named `name`, sorted. */
  members(name: string, field: string): string[] {
    const campaign = [...this.table('Campaign').values()].find((c) => c.Name === name);
    return [...this.table('CampaignMember').values()]
      .filter((m) => m.CampaignId === campaign?.Id)
      .map((m) => String(this.table('Contact').get(String(m.ContactId))?.[field]))
      .sort();
  }

  protected handle(req: Recorded): Reply {
    if (req.path === '/services/oauth2/token' && req.method === 'POST') return this.token(req.body as Record<string, unknown>);
    if (bearer(req) !== this.accessToken) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    const m = /^\/services\/data\/v\d+\.\d\/(.+)$/.exec(req.path);
    const rest = m?.[1] ?? '';
    if (rest === 'query' && req.method === 'GET') return this.query(req.query.get('q') ?? '');
    if (rest === 'sobjects/Campaign' && req.method === 'POST') {
      const c = this.insert('Campaign', req.body as Record<string, unknown>);
      return { status: 201, body: { id: c.Id, success: true, errors: [] } };
    }
    const records = (req.body as { records?: Record<string, unknown>[] } | undefined)?.records;
    if (records && records.length > maxRecords) return badRequest(`the list can contain up to ${maxRecords} objects`);
    const upsert = /^composite\/sobjects\/(\w+)\/(\w+)$/.exec(rest);
    if (upsert && req.method === 'PATCH') return { status: 200, body: records!.map((r) => this.upsert(upsert[1]!, upsert[2]!, r)) };
    if (rest === 'composite/sobjects' && req.method === 'POST') return { status: 200, body: records!.map((r) => this.create(r)) };
    if (rest === 'composite/sobjects' && req.method === 'DELETE') {
      const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length === 0 || ids.length > maxRecords) return badRequest(`ids: a list of 1 to ${maxRecords} record ids`);
      return { status: 200, body: ids.map((id) => this.delete(id)) };
    }
    return { status: 404, body: [{ message: `no route ${req.method} ${req.path}`, errorCode: 'NOT_FOUND' }] };
  }

  private token(form: Record<string, unknown>): Reply {
    const o = this.options;
    if (
      form.grant_type !== 'refresh_token' ||
      form.client_id !== o.clientId ||
      form.client_secret !== o.clientSecret ||
      form.refresh_token !== o.refreshToken
    ) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'expired access/refresh token' } };
    }
    return { status: 200, body: { access_token: this.accessToken, instance_url: this.instanceUrl, token_type: 'Bearer' } };
  }

  private query(q: string): Reply {
    // Records are made in CreatedDate and Id order here, so the table's order is that order.
    const campaign = new RegExp(`^SELECT Id FROM Campaign WHERE Name = (${quotedLiteral})( ORDER BY CreatedDate, Id)? LIMIT (\\d+)$`).exec(q);
    if (campaign) {
      const name = literals(campaign[1]!)[0];
      const found = [...this.table('Campaign').values()].filter((c) => c.Name === name && !this.hidden.has(c.Id));
      return result((campaign[2] ? found : found.reverse()).slice(0, Number(campaign[3])).map((c) => ({ attributes: { type: 'Campaign' }, Id: c.Id })));
    }
    const members = new RegExp(
      `^SELECT Id, Contact\\.(\\w+) FROM CampaignMember WHERE CampaignId = (${quotedLiteral}) AND Contact\\.\\1 IN \\((${literalList})\\)$`,
    ).exec(q);
    if (members) {
      const field = members[1]!;
      const campaignId = literals(members[2]!)[0];
      // SOQL compares text without case (but for case-sensitive unique fields, which this server has none of).
      const values = new Set(literals(members[3]!).map((v) => v.toLowerCase()));
      const found = [...this.table('CampaignMember').values()].flatMap((m) => {
        const contact = this.table('Contact').get(String(m.ContactId));
        return m.CampaignId === campaignId && !this.hidden.has(m.Id) && contact && values.has(String(contact[field]).toLowerCase())
          ? [{ attributes: { type: 'CampaignMember' }, Id: m.Id, Contact: { attributes: { type: 'Contact' }, [field]: contact[field] } }]
          : [];
      });
      return result(found);
    }
    // Records of one type by a field: what a record mirror's delete looks up for rows without an id.
    const records = new RegExp(`^SELECT Id, (\\w+) FROM (\\w+) WHERE \\1 IN \\((${literalList})\\)$`).exec(q);
    if (records) {
      const [field, type] = [records[1]!, records[2]!];
      const values = new Set(literals(records[3]!).map((v) => v.toLowerCase()));
      const found = [...this.table(type).values()].filter((o) => !this.hidden.has(o.Id) && o[field] != null && values.has(String(o[field]).toLowerCase()));
      return result(found.map((o) => ({ attributes: { type, url: `/services/data/v62.0/sobjects/${type}/${o.Id}` }, Id: o.Id, [field]: o[field] })));
    }
    // The member of each contact in a campaign: what an add that Salesforce answers DUPLICATE_VALUE looks up.
    const byContact = new RegExp(
      `^SELECT Id, ContactId FROM CampaignMember WHERE CampaignId = (${quotedLiteral}) AND ContactId IN \\((${literalList})\\)$`,
    ).exec(q);
    if (byContact) {
      const campaignId = literals(byContact[1]!)[0];
      const contacts = new Set(literals(byContact[2]!));
      const found = [...this.table('CampaignMember').values()].filter(
        (m) => m.CampaignId === campaignId && contacts.has(String(m.ContactId)) && !this.hidden.has(m.Id),
      );
      return result(found.map((m) => ({ attributes: { type: 'CampaignMember' }, Id: m.Id, ContactId: m.ContactId })));
    }
    return { status: 400, body: [{ message: `unsupported query: ${q}`, errorCode: 'MALFORMED_QUERY' }] };
  }

  private upsert(type: string, field: string, r: Record<string, unknown>) {
    const { attributes, ...fields } = r as { attributes?: { type?: string } } & Record<string, unknown>;
    if (attributes?.type !== type) return failure('INVALID_TYPE', `expected ${type}`);
    const same = field === 'Email' ? (v: unknown) => String(v).toLowerCase() === String(fields[field]).toLowerCase() : (v: unknown) => v === fields[field];
    const existing = [...this.table(type).values()].find((o) => same(o[field]));
    if (existing) {
      Object.assign(existing, fields);
      return { id: existing.Id, success: true, errors: [], created: false };
    }
    return { id: this.insert(type, fields).Id, success: true, errors: [], created: true };
  }

  private create(r: Record<string, unknown>) {
    const { attributes, ...fields } = r as { attributes?: { type?: string } } & Record<string, unknown>;
    const type = attributes?.type ?? '';
    if (type === 'CampaignMember' && [...this.table(type).values()].some((m) => m.CampaignId === fields.CampaignId && m.ContactId === fields.ContactId)) {
      return failure('DUPLICATE_VALUE', 'Already a campaign member.');
    }
    return { id: this.insert(type, fields).Id, success: true, errors: [] };
  }

  private delete(id: string) {
    for (const [type, t] of this.objects) {
      if (!t.delete(id)) continue;
      this.deleted.push({ id, type });
      return { id, success: true, errors: [] };
    }
    return failure('ENTITY_IS_DELETED', 'entity is deleted', id);
  }
}

const result = (records: unknown[]): Reply => ({ status: 200, body: { totalSize: records.length, done: true, records } });
const failure = (statusCode: string, message: string, id: string | null = null) => ({ id, success: false, errors: [{ statusCode, message, fields: [] }] });
const badRequest = (message: string): Reply => ({ status: 400, body: [{ message, errorCode: 'INVALID_FIELD' }] });

export async function startSalesforce(options: SalesforceOptions): Promise<FakeSalesforce> {
  return new FakeSalesforce(options).start();
}
