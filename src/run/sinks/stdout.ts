/**
 * `--sink -`: objects and messages printed on stdout, for a pipe or a look. To a pipe or a
 * file they go byte for byte as a folder holds them (`raw`); to a terminal a line at a time
 * through the run's own printer, which escapes controls (`lines`; src/cli/run-command.ts). An
 * object is a `--- service://bucket/key` line, then its text, ended by a line break when its
 * text has none; a message one JSON line of `{topic|stream, key, value}`. Each counts as
 * written once stdout accepted it (`flushed`): after its reader left, what follows is failed.
 * What a pipe's buffer held counts as written: `--sink DIR` is the sink a reader cannot lose.
 */
import type { ObjectStore, Outlets, Producer } from './outlets.js';

type Flushed = () => Promise<void>;

/** Where the sink prints: text as it is, or lines (each given without its line break). */
export type Stdout = { raw: (text: string) => void } | { lines: (line: string) => void };

/** Once stdout accepted what was written; else stdout's own error, as the reason it was not. */
const written = (flushed: Flushed) =>
  flushed().catch((e: unknown) => Promise.reject(new Error(`stdout: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)));

/** Prints a whole line. */
const line = (out: Stdout, text: string) => ('raw' in out ? out.raw(`${text}\n`) : out.lines(text));

/** An object's text as it is, then a line break if it ends without one (the next `---` line starts a line). */
async function copyText(raw: (text: string) => void, body: AsyncIterable<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let ended = true;
  const put = (text: string) => {
    if (!text) return;
    raw(text);
    ended = text.endsWith('\n');
  };
  for await (const chunk of body) put(decoder.decode(chunk, { stream: true }));
  put(decoder.decode());
  if (!ended) raw('\n');
}

/** An object's text a line at a time, for a terminal. */
async function copyLines(lines: (line: string) => void, body: AsyncIterable<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body) {
    const parts = (rest + decoder.decode(chunk, { stream: true })).split(/\r?\n/);
    rest = parts.pop() ?? '';
    for (const l of parts) lines(l);
  }
  rest += decoder.decode();
  if (rest) lines(rest);
}

export function stdoutStore(out: Stdout, flushed: Flushed, service: string): ObjectStore {
  return {
    location: (bucket, key) => `${service}://${bucket}/${key}`,
    async put(bucket, key, body, contentType) {
      if (!contentType.startsWith('text/') && contentType !== 'application/x-ndjson')
        throw new Error(`${contentType} objects are binary: --sink - shows csv and jsonl only; use --sink DIR`);
      line(out, `--- ${service}://${bucket}/${key}`);
      await ('raw' in out ? copyText(out.raw, body) : copyLines(out.lines, body));
      await written(flushed);
    },
    close: async () => undefined,
  };
}

export function stdoutProducer(out: Stdout, flushed: Flushed, transport: string): Producer {
  const name = transport === 'kafka' ? 'topic' : 'stream';
  return {
    async send(records) {
      for (const r of records) line(out, `{${JSON.stringify(name)}:${JSON.stringify(r.topic)},"key":${JSON.stringify(r.key)},"value":${r.value}}`);
      await written(flushed);
      return records.map(() => undefined);
    },
    close: async () => undefined,
  };
}

export function stdoutOutlets(out: Stdout, flushed: Flushed): Outlets {
  return { store: async (service) => stdoutStore(out, flushed, service), producer: async (transport) => stdoutProducer(out, flushed, transport) };
}
