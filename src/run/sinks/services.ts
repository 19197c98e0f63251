/** Which outlets a run uses: `--sink DIR`, `--sink -`, or the services themselves. */
import { folderOutlets } from './folder.js';
import type { Outlets } from './outlets.js';
import { stdoutOutlets } from './stdout.js';

/**
 * The services' own clients, loaded when a step first needs one: a run that writes no
 * object loads no cloud SDK.
 */
export const serviceOutlets: Outlets = {
  async store(service, context) {
    if (service === 's3') return (await import('./s3.js')).s3Store(context);
    return (await import('./gcs.js')).gcsStore(context);
  },
  async producer(transport, context) {
    if (transport === 'kinesis') return (await import('./kinesis.js')).kinesisProducer(context);
    return (await import('./kafka.js')).kafkaProducer(context);
  },
};

/** `-`: stdout (`write`: as it is, else a line at a time through `out`); a folder: the folder; undefined: the services. */
export function outletsFor(sink: string | undefined, out: (text: string) => void, flushed: () => Promise<void>, write?: (text: string) => void): Outlets {
  if (sink === undefined) return serviceOutlets;
  return sink === '-' ? stdoutOutlets(write ? { raw: write } : { lines: out }, flushed) : folderOutlets(sink);
}
