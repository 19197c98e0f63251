/**
 * The local folder (`--sink DIR`): objects as DIR/service/bucket/key, written to a temporary
 * name and renamed into place; messages appended as DIR/transport/topic.jsonl lines of
 * `{"key", "value"}`. For looking at a run end to end without a cloud account.
 */
import { appendFileSync, closeSync, createWriteStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ObjectStore, Outlets, Producer } from './outlets.js';

/** A path under the sink folder; a rendered name cannot climb out of it. */
export function sinkPath(sink: string, ...parts: string[]): string {
  const root = resolve(sink);
  const full = resolve(root, ...parts.map((p) => p.replace(/^\/+/, '')));
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`the name ${parts.join('/')} leaves the sink folder`);
  return full;
}

/**
 * A rename or an append made durable: the run commits the rows once this returns, to a database
 * that syncs, so after a power loss the file must not be empty or gone while its rows are committed.
 */
function syncFolder(folder: string): void {
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Where objects are written before they are complete: a folder of the sink no service has, each
 * under a name of its own. Beside the object (`key.partial`) it was another object's name, which a
 * write overwrote and renamed away, and a run killed midway left it among the objects.
 */
export const partialFolder = '.partial';

export function folderStore(sink: string, service: string): ObjectStore {
  return {
    location: (bucket, key) => sinkPath(sink, service, bucket, key),
    async put(bucket, key, body) {
      const path = sinkPath(sink, service, bucket, key);
      const tmp = sinkPath(sink, partialFolder, `${process.pid}-${randomBytes(8).toString('hex')}`);
      mkdirSync(dirname(path), { recursive: true });
      mkdirSync(dirname(tmp), { recursive: true });
      // Made before the body is read: a stream that opens its file itself may do so after a failed
      // body's clean-up has run, leaving the temporary file behind.
      const fd = openSync(tmp, 'wx');
      try {
        // flush: the bytes are on disk before the name points at them.
        await pipeline(Readable.from(body), createWriteStream('', { fd, flush: true }));
        // Renamed into place only once complete: a reader never sees half an object.
        renameSync(tmp, path);
        syncFolder(dirname(path));
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    },
    close: async () => undefined,
  };
}

export function folderProducer(sink: string, transport: string): Producer {
  return {
    async send(records) {
      const lines = new Map<string, string[]>();
      for (const r of records) lines.set(r.topic, [...(lines.get(r.topic) ?? []), `{"key":${JSON.stringify(r.key)},"value":${r.value}}`]);
      for (const [topic, ls] of lines) {
        const path = sinkPath(sink, transport, `${topic}.jsonl`);
        mkdirSync(dirname(path), { recursive: true });
        appendFileSync(path, `${ls.join('\n')}\n`, { flush: true });
        syncFolder(dirname(path));
      }
      return records.map(() => undefined);
    },
    close: async () => undefined,
  };
}

export function folderOutlets(sink: string): Outlets {
  return { store: async (service) => folderStore(sink, service), producer: async (transport) => folderProducer(sink, transport) };
}
