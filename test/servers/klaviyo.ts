/**
 * Klaviyo as documented (revision 2024-10-15), with `Authorization: Klaviyo-API-Key ...` and a
 * `revision` header on every request:
 * - POST /api/profile-bulk-import-jobs, a JSON:API body (`data.type` profile-bulk-import-job,
 *   `attributes.profiles.data`: at most 10,000 profiles, 5 MB, each `type` profile with an
 *   `email` or other identifier and custom `properties`; optional `relationships.lists.data`,
 *   the lists to add the profiles to) answers 202 with the queued job (a list that does not exist
 *   is a 404). The job is carried out when it is first asked about (after `pollsBeforeEnd`
 *   answers of `processing`): each profile whose email is no address is an import error and is
 *   left out; each other is found by email, created when new, its properties merged, and added
 *   to each list named. A job told to (`cancelNext`) ends `cancelled`, importing nothing.
 * - GET /api/profile-bulk-import-jobs/{id}: the job, `attributes.status` one of queued,
 *   processing, complete, cancelled, with its counts.
 * - GET /api/profile-bulk-import-jobs/{id}/import-errors: its import errors, 20 a page (Klaviyo's
 *   default page size), each `type` import-error with `code`, `title`, `detail`, `source.pointer`
 *   and `original_payload` (the profile as sent); `links.next` the next page's URL on Klaviyo's
 *   own host (`page[cursor]`), or null.
 * - GET /api/lists with `filter=equals(name,"...")` (or `any(name,[...])`): the lists of that
 *   name, as a JSON:API collection (no next page here: a project has few lists), in the order
 *   `sort` asks (created, id, name, each `-` for descending), else in no order to count on
 *   (here: the newest first, so a client that needs the oldest must ask for it).
 * - POST /api/lists (`data.type` list, `attributes.name`): 201 with the new list. Names need not
 *   be unique, as in Klaviyo.
 * - GET /api/profiles with `filter=any(email,[...])` (or `equals(email,"...")`) and `page[size]`
 *   (1 to 100; default 20): the profiles found, each `type` profile with its `id` and
 *   `attributes.email`; an email with no profile is simply not among them.
 * - DELETE /api/lists/{id}/relationships/profiles, `data` of at most 1,000 `{ type: 'profile', id }`:
 *   204; those profiles leave the list (one not in it, or unknown, changes nothing).
 * Errors are JSON:API `errors` objects (status, code, title, detail).
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

interface List {
  id: string;
  name: string;
  /** ISO 8601, as Klaviyo gives it; a list made later is later here too. */
  created: string;
  /** Emails of the profiles in the list. */
  members: Set<string>;
}

const problem = (status: number, code: string, detail: string): Reply => ({ status, body: { errors: [{ status, code, title: code, detail }] } });

/** The names a `filter` on lists asks for: `equals(name,"x")` or `any(name,["x","y"])`, strings in JSON's quoting. */
function namesOf(filter: string): string[] | undefined {
  const m = /^(equals|any)\(name,(.*)\)$/.exec(filter);
  if (!m) return undefined;
  try {
    const value = JSON.parse(m[2] as string) as unknown;
    if (m[1] === 'equals' && typeof value === 'string') return [value];
    if (m[1] === 'any' && Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    return undefined;
  }
  return undefined;
}

type Profile = { type: 'profile'; attributes: { email: string; properties?: Record<string, unknown> } };

interface Job {
  id: string;
  count: number;
  lists: string[];
  profiles: Profile[];
  status: 'queued' | 'processing' | 'complete' | 'cancelled';
  /** Whether it ends cancelled, when it ends. */
  cancel: boolean;
  polls: number;
  errors: { profile: Profile; index: number }[];
}

/** What Klaviyo takes for an email address, roughly. */
const address = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class FakeKlaviyo extends FakeService {
  protected override readonly contract = 'klaviyo';
  /** email -> custom properties. */
  readonly profiles = new Map<string, Record<string, unknown>>();
  /** email -> profile id, given when the profile is made. */
  readonly profileIds = new Map<string, string>();
  readonly jobs: Job[] = [];
  /** Answers of `processing` each job gives before it ends. */
  pollsBeforeEnd = 0;
  /** How many of the next jobs end `cancelled`. */
  cancelNext = 0;
  readonly lists = new Map<string, List>();
  /** The id an import's answer gives its job: the job's own, or what a hostile server makes of it. */
  jobIdAnswered = (id: string): string => id;

  constructor(readonly apiKey: string) {
    super();
  }

  /** Creation times: one second apart, so that lists made in one test are ordered. */
  private time = Date.parse('2025-01-01T00:00:00Z');
  clock(): string {
    this.time += 1000;
    return new Date(this.time).toISOString().replace('.000Z', '+00:00');
  }

  /** A list made outside the syncs (by hand in Klaviyo's app), with these members. */
  addList(name: string, members: string[] = []): List {
    const list: List = { id: `L${String(this.lists.size + 1).padStart(5, '0')}`, name, created: this.clock(), members: new Set(members) };
    this.lists.set(list.id, list);
    return list;
  }

  /** The list of that name (the first made, if several share it). */
  list(name: string): List | undefined {
    return [...this.lists.values()].find((l) => l.name === name);
  }

  protected handle(req: Recorded): Reply {
    if (req.headers.authorization !== `Klaviyo-API-Key ${this.apiKey}`) return problem(401, 'not_authenticated', 'Missing or invalid private key.');
    if (!req.headers.revision) return problem(400, 'invalid', 'The revision header is required.');
    if (req.method === 'POST' && req.path === '/api/profile-bulk-import-jobs') return this.bulkImport(req);
    const job = /^\/api\/profile-bulk-import-jobs\/([^/]+)(\/import-errors)?$/.exec(req.path);
    if (req.method === 'GET' && job) return job[2] ? this.importErrors(job[1] as string, req) : this.jobStatus(job[1] as string);
    if (req.method === 'GET' && req.path === '/api/lists') return this.findLists(req);
    if (req.method === 'POST' && req.path === '/api/lists') return this.createList(req);
    if (req.method === 'GET' && req.path === '/api/profiles') return this.findProfiles(req);
    const members = /^\/api\/lists\/([^/]+)\/relationships\/profiles$/.exec(req.path);
    if (req.method === 'DELETE' && members) return this.removeMembers(members[1] as string, req);
    return problem(404, 'not_found', `no route ${req.method} ${req.path}`);
  }

  private bulkImport(req: Recorded): Reply {
    const data = (
      req.body as
        | { data?: { type?: string; attributes?: { profiles?: { data?: unknown } }; relationships?: { lists?: { data?: { type?: string; id?: string }[] } } } }
        | undefined
    )?.data;
    const profiles = data?.attributes?.profiles?.data;
    if (data?.type !== 'profile-bulk-import-job' || !Array.isArray(profiles) || profiles.length === 0 || profiles.length > 10_000) {
      return problem(400, 'invalid', 'data must be a profile-bulk-import-job of 1 to 10,000 profiles');
    }
    const bad = profiles.findIndex(
      (p: { type?: string; attributes?: { email?: unknown } }) => p?.type !== 'profile' || typeof p.attributes?.email !== 'string',
    );
    if (bad >= 0) return problem(400, 'invalid', `profile ${bad} needs type profile and an email`);
    const refs = data.relationships?.lists?.data ?? [];
    const missing = refs.find((r) => r.type !== 'list' || !this.lists.has(r.id ?? ''));
    if (missing) return problem(404, 'not_found', `A list with id ${JSON.stringify(missing.id)} does not exist.`);
    const id = `job-${this.jobs.length + 1}`;
    const cancel = this.cancelNext > 0;
    if (cancel) this.cancelNext--;
    const queued: Job = {
      id,
      count: profiles.length,
      lists: refs.map((r) => r.id as string),
      profiles: profiles as Profile[],
      status: 'queued',
      cancel,
      polls: 0,
      errors: [],
    };
    this.jobs.push(queued);
    return { status: 202, body: { data: { ...this.jobResource(queued), id: this.jobIdAnswered(id) } } };
  }

  private jobResource(job: Job) {
    const ended = job.status === 'complete' || job.status === 'cancelled';
    return {
      type: 'profile-bulk-import-job',
      id: job.id,
      attributes: {
        status: job.status,
        total_count: job.count,
        completed_count: ended ? job.count - job.errors.length : 0,
        failed_count: job.errors.length,
      },
    };
  }

  /** The job carried out: the profiles with an address imported, the others its errors. */
  private carryOut(job: Job): void {
    if (job.cancel) {
      job.status = 'cancelled';
      return;
    }
    job.profiles.forEach((p, index) => {
      if (!address.test(p.attributes.email)) {
        job.errors.push({ profile: p, index });
        return;
      }
      this.profiles.set(p.attributes.email, { ...this.profiles.get(p.attributes.email), ...p.attributes.properties });
      if (!this.profileIds.has(p.attributes.email)) this.profileIds.set(p.attributes.email, `01P${String(this.profileIds.size + 1).padStart(23, '0')}`);
      for (const list of job.lists) this.lists.get(list)?.members.add(p.attributes.email);
    });
    job.status = 'complete';
  }

  private jobStatus(id: string): Reply {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) return problem(404, 'not_found', `A job with id ${JSON.stringify(id)} does not exist.`);
    if (job.status === 'queued' || job.status === 'processing') {
      if (job.polls++ < this.pollsBeforeEnd) job.status = 'processing';
      else this.carryOut(job);
    }
    return { status: 200, body: { data: this.jobResource(job) } };
  }

  private importErrors(id: string, req: Recorded): Reply {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) return problem(404, 'not_found', `A job with id ${JSON.stringify(id)} does not exist.`);
    const from = Number(req.query.get('page[cursor]') ?? 0);
    if (!Number.isInteger(from) || from < 0) return problem(400, 'invalid', 'Invalid page cursor');
    const page = job.errors.slice(from, from + 20);
    const data = page.map(({ profile, index }, i) => ({
      type: 'import-error',
      id: `${id}-error-${from + i + 1}`,
      attributes: {
        code: 'invalid',
        title: 'Invalid input.',
        detail: `Invalid email address: ${JSON.stringify(profile.attributes.email)}`,
        source: { pointer: `/data/attributes/profiles/data/${index}/attributes/email` },
        original_payload: profile,
      },
    }));
    const self = `https://a.klaviyo.com${req.path}`;
    const next = from + 20 < job.errors.length ? `${self}?page%5Bcursor%5D=${from + 20}` : null;
    return { status: 200, body: { data, links: { self, next, prev: null } } };
  }

  private resource(l: List) {
    return {
      type: 'list',
      id: l.id,
      attributes: { name: l.name, created: l.created, opt_in_process: 'single_opt_in' },
      links: { self: `${this.api.url}/api/lists/${l.id}/` },
    };
  }

  private findLists(req: Recorded): Reply {
    const filter = req.query.get('filter');
    const names = filter === null ? undefined : namesOf(filter);
    if (filter !== null && !names) return problem(400, 'invalid', `Invalid filter provided: ${filter}`);
    const sort = req.query.get('sort');
    const by = sort?.replace(/^-/, '') as 'created' | 'id' | 'name' | undefined;
    if (by !== undefined && !['created', 'id', 'name'].includes(by)) return problem(400, 'invalid', `Invalid sort provided: ${sort}`);
    const found = [...this.lists.values()].filter((l) => !names || names.includes(l.name)).reverse();
    if (by) found.sort((a, b) => (a[by] < b[by] ? -1 : a[by] > b[by] ? 1 : 0) * (sort?.startsWith('-') ? -1 : 1));
    return { status: 200, body: { data: found.map((l) => this.resource(l)), links: { self: `${this.api.url}${req.path}`, next: null, prev: null } } };
  }

  private findProfiles(req: Recorded): Reply {
    const filter = req.query.get('filter') ?? '';
    const m = /^(equals|any)\(email,(.*)\)$/.exec(filter);
    let emails: unknown;
    try {
      emails = m ? JSON.parse(m[2] as string) : undefined;
    } catch {
      emails = undefined;
    }
    if (m?.[1] === 'equals' && typeof emails === 'string') emails = [emails];
    if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string')) return problem(400, 'invalid', `Invalid filter provided: ${filter}`);
    const size = Number(req.query.get('page[size]') ?? 20);
    if (!Number.isInteger(size) || size < 1 || size > 100) return problem(400, 'invalid', 'page[size] must be between 1 and 100');
    const found = [...new Set(emails as string[])].filter((e) => this.profileIds.has(e));
    if (found.length > size) return problem(400, 'invalid', `this test server has no next page: ${found.length} profiles for a page of ${size}`);
    const data = found.map((email) => ({ type: 'profile', id: this.profileIds.get(email), attributes: { email, properties: this.profiles.get(email) ?? {} } }));
    return { status: 200, body: { data, links: { self: `${this.api.url}${req.path}`, next: null, prev: null } } };
  }

  private removeMembers(listId: string, req: Recorded): Reply {
    const list = this.lists.get(listId);
    if (!list) return problem(404, 'not_found', `A list with id ${JSON.stringify(listId)} does not exist.`);
    const data = (req.body as { data?: { type?: string; id?: unknown }[] } | undefined)?.data;
    if (!Array.isArray(data) || data.length === 0 || data.length > 1000 || data.some((d) => d?.type !== 'profile' || typeof d.id !== 'string' || d.id === ''))
      return problem(400, 'invalid', 'data must be 1 to 1,000 profiles, each with type profile and an id');
    const byId = new Map([...this.profileIds].map(([email, id]) => [id, email]));
    for (const d of data) {
      const email = byId.get(d.id as string);
      if (email !== undefined) list.members.delete(email);
    }
    return { status: 204 };
  }

  private createList(req: Recorded): Reply {
    const data = (req.body as { data?: { type?: string; attributes?: { name?: unknown } } } | undefined)?.data;
    const name = data?.attributes?.name;
    if (data?.type !== 'list' || typeof name !== 'string' || name === '') return problem(400, 'invalid', 'data must be a list with a name');
    const list = this.addList(name);
    return { status: 201, body: { data: this.resource(list) } };
  }
}

export async function startKlaviyo(apiKey: string): Promise<FakeKlaviyo> {
  return new FakeKlaviyo(apiKey).start();
}
