/**
 * Google Cloud Storage through `@google-cloud/storage`: an object is streamed as a resumable
 * upload in 8 MiB chunks (each chunk is kept until the service confirms it, so a chunk whose
 * answer was lost is resumed from the offset the service reports, not restarted), and checked
 * against the CRC32C the service computed. GCS makes an object visible only when its upload is
 * finalised, so writing the mirror's own name replaces it as one step.
 * Credentials: the `credentials` setting (a service account key, JSON, from the environment),
 * else Application Default Credentials. With an endpoint override (`--endpoint NAME=URL`, the
 * `endpoint` setting, or the client's own STORAGE_EMULATOR_HOST) the client talks to that
 * server, unauthenticated unless `credentials` is set, as it does for emulators.
 * The access tokens the upload sends, and its session URI, are registered as the run's secrets (`uploadRequests`).
 * Each write carries a mark of its own (custom metadata `syncwright-write`, a random id): an upload
 * that failed is looked for under its name, and found with its mark and the CRC32C of the bytes
 * sent it was written whole. The final chunk's answer, and the client's status queries after it,
 * may be lost while the service finalised the object: its rows, not accepted, were written again
 * by the next run (an insert's under a new name: the rows twice).
 */
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CRC32C, type File, IdempotencyStrategy, Storage, type StorageOptions } from '@google-cloud/storage';
import { snippetLength } from '../http/http.js';
import { clip } from '../output/redact.js';
import { named, writeMark, type ObjectStore, type OutletContext } from './outlets.js';

const chunkSize = 8 * 1024 * 1024;

/** Whether the object under `file`'s name is the one this write made, whole (GCS shows only finalised objects); unknown counts as not. */
async function written(file: File, mark: string, crc32c: string): Promise<boolean> {
  try {
    const [meta] = await file.getMetadata();
    return meta.metadata?.[writeMark] === mark && meta.crc32c === crc32c;
  } catch {
    return false;
  }
}

function keyOf(text: unknown): StorageOptions['credentials'] & { project_id?: string } {
  try {
    return JSON.parse(String(text)) as StorageOptions['credentials'] & { project_id?: string };
  } catch {
    // The key's text is a secret: the message never shows it.
    throw new Error('the gcs credentials setting is not a service account key in JSON');
  }
}

/** What the service said (its JSON error's message), else the client's message. */
function reasonOf(e: unknown): string {
  const err = e as { message?: string; response?: { status?: number; data?: unknown } };
  const data = err.response?.data as { error?: { message?: unknown } } | string | undefined;
  const said = typeof data === 'object' && data !== null && typeof data.error?.message === 'string' ? data.error.message : undefined;
  return said ? `${err.response?.status ?? ''} ${said}`.trim() : String(err.message ?? e);
}

/** A request of a resumable upload as the client's HTTP layer (gaxios) hands it to an adapter. */
interface UploadRequest {
  url?: string | URL;
  headers?: Record<string, string>;
}

/** What a request interceptor returns: the client's type for other calls (it requires `uri`, which an upload's options do not have). */
type Decorated = ReturnType<File['interceptors'][number]['request']>;

const bearer = /^Bearer\s+(\S+)$/i;

/**
 * Every request of a resumable upload (session initiation, chunks, status queries) passes
 * here, as the `adapter` its HTTP layer calls to send it: the one hook the client offers into
 * those requests, through a request interceptor. Each goes to the service's own origin, and:
 * - With a key, a request that carries no token is given one from the client's own
 *   credentials. The client (7.x) sends none to an endpoint override whatever
 *   `useAuthWithCustomEndpoint` says: the flag reaches the session a caller creates
 *   (`createResumableUpload`) but not the requests of a write stream, while a simple upload
 *   or any other call honours it.
 * - The token a request carries, whoever put it there (the key's, or one Application Default
 *   Credentials obtained), is registered as a secret, as `credentialRedaction` does for AWS: a
 *   server may echo it into the error the run prints.
 */
function uploadRequests(storage: Storage, authenticate: boolean, secret: (value: string) => void) {
  const service = new URL(storage.apiEndpoint).origin;
  return async <T>(request: UploadRequest, send: (request: UploadRequest) => Promise<T>): Promise<T> => {
    // The session URI is the initiation's answer (its Location): its path and query, at the service's
    // origin. On another server it would get the object's rows and, from the client or from here, the
    // token; GCS names its own (storage.googleapis.com), an emulator may name its bind address (0.0.0.0).
    const asked = new URL(String(request.url));
    const url = asked.origin === service ? String(request.url) : `${service}${asked.pathname}${asked.search}`;
    const headers = { ...request.headers };
    const named = (name: string) => Object.keys(headers).find((h) => h.toLowerCase() === name);
    if (authenticate && named('authorization') === undefined) Object.assign(headers, await storage.authClient.getRequestHeaders(url));
    const header = named('authorization');
    const token = header === undefined ? undefined : bearer.exec(String(headers[header]).trim())?.[1];
    if (token) secret(token);
    const answer = await send({ ...request, url, headers });
    // The session URI the initiation answers is the upload's credential: whoever holds it can write
    // the object, with no token, for a week. An error of a later request names it, and is printed.
    const location = (answer as { headers?: Record<string, unknown> } | undefined)?.headers?.location;
    if (typeof location === 'string') secret(sessionCredential(location));
    return answer;
  };
}

/** Of a session URI, what makes it one: GCS's `upload_id`, else (an emulator) its path and query. */
function sessionCredential(uri: string): string {
  try {
    const u = new URL(uri);
    return u.searchParams.get('upload_id') ?? `${u.pathname}${u.search}`;
  } catch {
    return uri;
  }
}

/**
 * The JWT a service account key is exchanged with (the `assertion` of its token requests) is a
 * credential too: for an hour it gets tokens. A token endpoint may echo it into the error the
 * run prints, so it is registered as a secret as it leaves, as the tokens are.
 */
async function assertionRedaction(storage: Storage, secret: (value: string) => void): Promise<void> {
  const client = await storage.authClient.getClient();
  client.gaxios?.interceptors.request.add({
    resolved: async (options) => {
      const assertion = (options.data as { assertion?: unknown } | undefined)?.assertion;
      if (typeof assertion === 'string') secret(assertion);
      return options;
    },
  });
}

export function gcsStore(context: OutletContext): ObjectStore {
  // Named but empty (a variable set to ""), it stops the step, as an empty AWS key does: left out, the client would write as the machine's own identity.
  const credentials = named(context.connection, 'credentials');
  const key = credentials === undefined ? undefined : keyOf(credentials);
  const storage = new Storage({
    ...(context.endpoint ? { apiEndpoint: context.endpoint } : {}),
    ...(key ? { credentials: key, ...(key.project_id ? { projectId: key.project_id } : {}), useAuthWithCustomEndpoint: true } : {}),
    // A resumable session is safe to resume whatever the object's generation: every failed
    // chunk is retried (the client's default retries only uploads with a precondition).
    retryOptions: { idempotencyStrategy: IdempotencyStrategy.RetryAlways, maxRetries: 4 },
  });
  const adapter = uploadRequests(storage, key !== undefined, (value) => context.secret(value));
  let redacting: Promise<void> | undefined;
  return {
    location: (bucket, name) => `gs://${bucket}/${name}`,
    async put(bucket, name, body, contentType) {
      const file = storage.bucket(bucket).file(name);
      // Applied to the options of each request the upload makes (the upload passes them to gaxios as they are).
      file.interceptors.push({ request: (options) => ({ ...options, adapter }) as unknown as Decorated });
      const mark = randomUUID();
      // The CRC32C of every byte sent, once the body has been read to its end.
      const crc = new CRC32C();
      let sent: string | undefined;
      async function* summed(): AsyncGenerator<Uint8Array> {
        for await (const chunk of body) {
          crc.update(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          yield chunk;
        }
        sent = crc.toString();
      }
      try {
        if (key) await (redacting ??= assertionRedaction(storage, (value) => context.secret(value)));
        await pipeline(
          Readable.from(summed()),
          file.createWriteStream({ resumable: true, chunkSize, contentType, validation: 'crc32c', metadata: { metadata: { [writeMark]: mark } } }),
        );
      } catch (e) {
        if (sent !== undefined && (await written(file, mark, sent))) return;
        throw new Error(`gs://${bucket}/${name} was not written: ${clip(reasonOf(e), snippetLength)}`);
      }
    },
    close: async () => undefined,
  };
}
