/**
 * Klaviyo profile bulk import as documented (revision 2024-10-15): POST
 * /api/profile-bulk-import-jobs with `Authorization: Klaviyo-API-Key ...`, a `revision` header
 * and a JSON:API body (`data.type` profile-bulk-import-job, `attributes.profiles.data`: at most
 * 10,000 profiles, 5 MB, each `type` profile with an `email` or other identifier and custom
 * `properties`) answers 202 with the queued job. Here a job is carried out at once: a profile
 * is found by email, created when new, and its properties merged.
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export class FakeKlaviyo extends FakeService {
  protected override readonly contract = 'klaviyo';
  /** email -> custom properties. */
  readonly profiles = new Map<string, Record<string, unknown>>();
  readonly jobs: { id: string; count: number }[] = [];

  constructor(readonly apiKey: string) {
    super();
  }

  protected handle(req: Recorded): Reply {
    const problem = (status: number, code: string, detail: string): Reply => ({ status, body: { errors: [{ status, code, title: code, detail }] } });
    if (req.headers.authorization !== `Klaviyo-API-Key ${this.apiKey}`) return problem(401, 'not_authenticated', 'Missing or invalid private key.');
    if (!req.headers.revision) return problem(400, 'invalid', 'The revision header is required.');
    if (req.method !== 'POST' || req.path !== '/api/profile-bulk-import-jobs') return problem(404, 'not_found', `no route ${req.method} ${req.path}`);
    const data = (req.body as { data?: { type?: string; attributes?: { profiles?: { data?: unknown } } } } | undefined)?.data;
    const profiles = data?.attributes?.profiles?.data;
    if (data?.type !== 'profile-bulk-import-job' || !Array.isArray(profiles) || profiles.length === 0 || profiles.length > 10_000) {
      return problem(400, 'invalid', 'data must be a profile-bulk-import-job of 1 to 10,000 profiles');
    }
    const bad = profiles.findIndex(
      (p: { type?: string; attributes?: { email?: unknown } }) => p?.type !== 'profile' || typeof p.attributes?.email !== 'string',
    );
    if (bad >= 0) return problem(400, 'invalid', `profile ${bad} needs type profile and an email`);
    for (const p of profiles as { attributes: { email: string; properties?: Record<string, unknown> } }[]) {
      this.profiles.set(p.attributes.email, { ...this.profiles.get(p.attributes.email), ...p.attributes.properties });
    }
    const id = `job-${this.jobs.length + 1}`;
    this.jobs.push({ id, count: profiles.length });
    return { status: 202, body: { data: { type: 'profile-bulk-import-job', id, attributes: { status: 'queued', total_count: profiles.length } } } };
  }
}

export async function startKlaviyo(apiKey: string): Promise<FakeKlaviyo> {
  return new FakeKlaviyo(apiKey).start();
}
