/**
 * S3 and GCS: insert writes new objects per run (one per batch), mirror overwrites one fixed
 * object with every current row when some row was added, changed or removed; csv, jsonl or Parquet.
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Template, WriteObjectStep } from '../../../contract/api-steps.js';
import { underPrefix } from '../../../contract/object-path.js';
import { concat, record, ref, required, settingsOf, standardRetry } from '../http.js';

/**
 * The object name under the prefix: the sync's path, or its name; one `/` between the two. A
 * prefix from the environment is joined at run time, by the same function (`$under`).
 */
function objectPath(prefix: Template | undefined, name: string): Template {
  if (prefix === undefined) return name;
  if (typeof prefix === 'string') return underPrefix(prefix, name);
  return { $under: [prefix, name] };
}

const path = (ctx: ApiContext): Template => objectPath(ctx.setting('prefix'), ctx.target ?? ctx.sync);

/**
 * The one object a mirror overwrites: its path (or the sync's name) under the prefix, with the
 * format's extension unless the path already names it (exports/users.csv is not users.csv.csv).
 * Also what the check compares, so that no two mirrors overwrite one object.
 */
export function mirrorObject(prefix: Template | undefined, name: string, format: string): Template {
  const ext = `.${format}`;
  return name.endsWith(ext) ? objectPath(prefix, name) : concat(objectPath(prefix, name), ext);
}

function write(ctx: ApiContext, service: 's3' | 'gcs', mirror: boolean, connectionSettings: string[]): WriteObjectStep {
  const ext = `.${ctx.format}`;
  const changes: ModePlan['reads'] = mirror ? ['added', 'changed', 'unchanged'] : ['added'];
  return {
    kind: 'write_object',
    description: mirror ? 'overwrite the object with every current row' : 'write the new rows as new objects of this run',
    // Unchanged rows are only rewritten: with nothing added, changed or removed, the object already holds them.
    ...(mirror ? { when: 'changed' as const } : {}),
    changes,
    service,
    bucket: required(ctx, 'bucket'),
    key: mirror
      ? mirrorObject(ctx.setting('prefix'), ctx.target ?? ctx.sync, ctx.format)
      : concat(path(ctx), '/run-', ref('run.id'), '/part-', ref('batch.index'), ext),
    format: ctx.format,
    ...(mirror ? {} : { batch: { size: ctx.batch } }),
    record: record(ctx),
    columns: [...(ctx.identifierField ? [ctx.identifierField] : []), ...ctx.fields],
    connection: settingsOf(ctx, connectionSettings),
    retry: standardRetry,
  };
}

function storageApi(service: 's3' | 'gcs', connectionSettings: string[]): DestinationApi {
  return {
    setup: () => [],
    modes: {
      'record:insert': (ctx) => ({ reads: ['added'], steps: [write(ctx, service, false, connectionSettings)] }),
      'record:mirror': (ctx) => ({
        reads: ['added', 'changed', 'unchanged', 'removed'],
        steps: [
          write(ctx, service, true, connectionSettings),
          { kind: 'accept', description: 'the overwritten object no longer holds the rows that left', changes: ['removed'], when: 'all_accepted' },
        ],
      }),
    },
  };
}

export const s3Api = storageApi('s3', ['region', 'access_key_id', 'secret_access_key', 'session_token', 'endpoint', 'server_side_encryption', 'kms_key_id']);
export const gcsApi = storageApi('gcs', ['credentials', 'endpoint']);
