/**
 * Braze POST /users/track as documented: a Bearer REST API key; `attributes` holds at most 75
 * user attribute objects per request, each naming its user by `external_id`; an object with
 * `_update_existing_only: true` changes only a user that already exists (others are skipped),
 * any other creates the user when needed. The answer is 201 with `attributes_processed`, and
 * `errors` (`type`, `input_array`, `index`) for objects it refused, the rest applied.
 */
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

export const brazeMaxAttributes = 75;

export class FakeBraze extends FakeService {
  protected override readonly contract = 'braze';
  /** external_id -> the user's custom attributes. */
  readonly users = new Map<string, Record<string, unknown>>();
  /** An attributes object Braze cannot use: the reason, listed in `errors`; the other objects are applied. */
  refuse?: (attributes: Record<string, unknown>) => string | undefined;
  /** `errors` as the answer gives them, when not the documented list (a server answering in a shape of its own). */
  errorsAs?: (errors: { type: string; input_array: string; index: number }[]) => unknown;

  constructor(readonly apiKey: string) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (bearer(req) !== this.apiKey) return { status: 401, body: { message: 'Invalid API key' } };
    if (req.method !== 'POST' || req.path !== '/users/track') return { status: 404, body: { message: `no route ${req.method} ${req.path}` } };
    const attributes = (req.body as { attributes?: unknown } | undefined)?.attributes;
    if (!Array.isArray(attributes) || attributes.length === 0)
      return { status: 400, body: { message: "Received unparseable request: 'attributes' must be a non-empty array" } };
    if (attributes.length > brazeMaxAttributes) return { status: 400, body: { message: `Too many attributes: at most ${brazeMaxAttributes} per request` } };
    const errors: { type: string; input_array: string; index: number }[] = [];
    let processed = 0;
    attributes.forEach((a: unknown, index) => {
      const { external_id: id, _update_existing_only: existingOnly, ...rest } = (a ?? {}) as Record<string, unknown>;
      if (typeof id !== 'string' || id === '') return void errors.push({ type: "'external_id' is required", input_array: 'attributes', index });
      const refused = this.refuse?.(a as Record<string, unknown>);
      if (refused) return void errors.push({ type: refused, input_array: 'attributes', index });
      const user = this.users.get(id);
      if (!user && existingOnly === true) return;
      this.users.set(id, { ...user, ...rest });
      processed++;
    });
    return {
      status: 201,
      body: { attributes_processed: processed, message: 'success', ...(errors.length ? { errors: this.errorsAs ? this.errorsAs(errors) : errors } : {}) },
    };
  }
}

export async function startBraze(apiKey: string): Promise<FakeBraze> {
  return new FakeBraze(apiKey).start();
}
