/**
 * `--sink -`: objects and messages printed on stdout, for a pipe or a look: to a pipe or file
 * as a folder would hold them, to a terminal with its controls escaped (src/cli/run-command.ts). An object is a `--- service://bucket/key` line,
 * then its text; a message one JSON line of `{topic|stream, key, value}`. Each counts as
 * written once stdout accepted it (`flushed`): after its reader left, what follows is failed.
 * What a pipe's buffer held counts as written: `--sink DIR` is the sink a reader cannot lose.
 */
import type { ObjectStore, Outlets, Producer } from './outlets.js';

type Flushed = () => Promise<void>;

/** Once stdout accepted what was written; else stdout's own error, as the reason it was not. */
const written = (flushed: Flushed) =>
  flushed().catch((e: unknown) => Promise.reject(new Error(`stdout: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)));

export function stdoutStore(out: (text: string) => void, flushed: Flushed, service: string): ObjectStore {
  return {
    location: (bucket, key) => `${service}://${bucket}/${key}`,
    async put(bucket, key, body, contentType) {
      if (!contentType.startsWith('text/') && contentType !== 'application/x-ndjson')
        throw new Error(`${contentType} objects are binary: --sink - shows csv and jsonl only; use --sink DIR`);
      out(`--- ${service}://${bucket}/${key}`);
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of body) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split(/\r?\n/);
        rest = lines.pop() ?? '';
        for (const line of lines) out(line);
      }
      if (rest) out(rest);
      await written(flushed);
    },
    close: async () => undefined,
  };
}

export function stdoutProducer(out: (text: string) => void, flushed: Flushed, transport: string): Producer {
  const name = transport === 'kafka' ? 'topic' : 'stream';
  return {
    async send(records) {
      for (const r of records) out(`{${JSON.stringify(name)}:${JSON.stringify(r.topic)},"key":${JSON.stringify(r.key)},"value":${r.value}}`);
      await written(flushed);
      return records.map(() => undefined);
    },
    close: async () => undefined,
  };
}

export function stdoutOutlets(out: (text: string) => void, flushed: Flushed): Outlets {
  return { store: async (service) => stdoutStore(out, flushed, service), producer: async (transport) => stdoutProducer(out, flushed, transport) };
}
