/**
 * The local folder (`--sink DIR`): objects as DIR/service/bucket/key, written to a temporary
 * name and renamed into place; messages appended as DIR/transport/topic.jsonl lines of
 * `{"key", "value"}`. For looking at a run end to end without a cloud account.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ObjectStore, Outlets, Producer, RecordFailure } from './outlets.js';

/**
 * A path under the sink folder; a rendered name cannot climb out of it, nor hold a `.` or `..`
 * step, nor an empty one (`a//b`, `/a`, `a/`): a service takes `a/../b` or `a//b` as the name it
 * is, which here would be another file of the sink (another bucket's object, a stream's
 * messages, `a/b`), written over.
 */
export function sinkPath(sink: string, ...parts: string[]): string {
  const steps = parts.flatMap((p) => p.split(/[/\\]/));
  if (steps.some((step) => step === '' || step === '.' || step === '..'))
    throw new Error(`the name ${parts.join('/')} holds an empty, . or .. step, which the sink folder cannot keep apart from another name`);
  const root = resolve(sink);
  const full = resolve(root, ...parts);
  const rel = relative(root, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new Error(`the name ${parts.join('/')} leaves the sink folder`);
  return full;
}

/**
 * Made durable: the run commits a write's rows once it returns, to a database that syncs, so
 * after a power loss the file must not be empty or missing while its rows are committed. Files
 * are synced through their own descriptor (fsync), then the folder that names them. Windows
 * cannot sync a folder (NTFS journals names itself).
 */
function syncFolder(folder: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(folder, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A folder and its missing parents, each one made synced into the folder that names it. */
function makeFolder(folder: string): void {
  const first = mkdirSync(folder, { recursive: true });
  if (first === undefined) return;
  for (let f = folder; dirname(f) !== f; f = dirname(f)) {
    syncFolder(dirname(f));
    if (f === first) break;
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
      makeFolder(dirname(path));
      makeFolder(dirname(tmp));
      // Made before the body is read (a stream that opened it itself could do so after a failed
      // body's clean-up had run, leaving the temporary file behind).
      const fd = openSync(tmp, 'wx');
      try {
        try {
          for await (const chunk of body) for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at);
          // On disk before the name points at it.
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
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
  // Topic files whose name this producer has synced into their folder: the name is durable from then on, so later appends sync the file alone.
  const named = new Set<string>();
  return {
    async send(records) {
      const results: RecordFailure[] = records.map(() => undefined);
      const lines = new Map<string, { index: number; line: string }[]>();
      for (const [index, r] of records.entries()) {
        const line = { index, line: `{"key":${JSON.stringify(r.key)},"value":${r.value}}` };
        const same = lines.get(r.topic);
        if (same) same.push(line);
        else lines.set(r.topic, [line]);
      }
      // Each topic's file answers for its own lines: a failure of one leaves the lines appended to the others written.
      for (const [topic, ls] of lines) {
        // Kinesis and Kafka refuse a name holding a path separator; here it would name a file elsewhere in the
        // sink (another stream's, an object of another destination), and the messages would be appended to it.
        if (/[/\\]/.test(topic)) {
          const reason = `the ${transport} name ${JSON.stringify(topic)} holds a path separator, which the service does not take`;
          for (const { index } of ls) results[index] = { reason, retryable: false };
          continue;
        }
        try {
          const path = sinkPath(sink, transport, `${topic}.jsonl`);
          makeFolder(dirname(path));
          const fd = openSync(path, 'a+');
          try {
            // A file not ending in a line break ends in the start of a line whose append never finished (a run
            // that died midway; its rows were not committed): the lines go after a break of their own, not onto it.
            const size = fstatSync(fd).size;
            const last = Buffer.alloc(1);
            const torn = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
            const bytes = Buffer.from(`${torn ? '\n' : ''}${ls.map((l) => l.line).join('\n')}\n`);
            for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          if (!named.has(path)) syncFolder(dirname(path));
          named.add(path);
        } catch (e) {
          for (const { index } of ls) results[index] = { reason: (e as Error).message, retryable: true, retried: true };
        }
      }
      return results;
    },
    close: async () => undefined,
  };
}

export function folderOutlets(sink: string): Outlets {
  return { store: async (service) => folderStore(sink, service), producer: async (transport) => folderProducer(sink, transport) };
}
