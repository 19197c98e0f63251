/** manifest.json: every sync of a build, the published index of its plans (schemas/manifest.schema.json). */
import type { PlanOptions } from './options.js';

export const manifestSchemaId = 'https://syncwright.dev/schemas/manifest.v1.json';

export interface ManifestSync {
  name: string;
  kind: 'record' | 'audience';
  mode: string;
  source: { name: string; dialect: string; version?: number };
  destination: { name: string; type: string; category: string; objectKind?: string; target?: string[] };
  schedule?: string;
  file: string;
  line: number;
  plan: string;
  steps: string[];
  files: string[];
  inputHash: string;
  scheduler: SchedulerInfo;
}

/** A sync of the manifest in brief: what `syncwright compile` reports of it. */
export type SyncSummary = Pick<ManifestSync, 'name' | 'kind' | 'mode' | 'files'> & { destination: Pick<ManifestSync['destination'], 'name' | 'type'> };

/** A sync in brief, with what tells whether a recompile would write it as it is (src/output/kept-syncs.ts). */
export type KeptSummary = SyncSummary & Pick<ManifestSync, 'inputHash' | 'file' | 'line'>;

/** A sync a recompile takes from the output as it is: the sync in brief, and its entry's text as the output's manifest.json holds it. */
export interface KeptEntry {
  sync: KeptSummary;
  text: Uint8Array | KeptBytes;
}

/**
 * Bytes [start, end) of the output's manifest.json, read from `from` as the new manifest is
 * written rather than held: a recompile of a large project would otherwise hold the whole
 * old manifest in fresh memory (src/output/kept-syncs.ts).
 */
export interface KeptBytes {
  start: number;
  end: number;
  from: ManifestSource;
}

/** Whether a part of a manifest's text is a range of the output's manifest, read again as it is written. */
export const isKeptBytes = (part: string | Uint8Array | KeptBytes): part is KeptBytes => typeof part === 'object' && !(part instanceof Uint8Array);

/** The output's manifest.json, read a part at a time. */
export interface ManifestSource {
  /** Whether `bytes(start, end)` can be had without reading again: what an earlier result of it still holds. */
  holds(start: number, end: number): boolean;
  /** The bytes [start, end), valid until the next call (the memory is reused). */
  bytes(start: number, end: number): Uint8Array;
  /** Throws unless the file is still as it was when its entries were verified: what was read since is what was verified. */
  unchanged(): void;
}

/** What a scheduler needs without reading plans (schemas/manifest.schema.json says each field). */
export interface SchedulerInfo {
  upstream: { model: string; relation?: string[]; query?: true; dbt?: string }[];
  steps: { kind: string; file?: string; engine: string; on?: 'source' | 'destination'; connection?: string }[];
  env: string[];
  /** Of `env`, the variables whose values name tables (the plan's `nameVariables`): the SQL files hold placeholders only an executor fills. */
  names?: string[];
  lock: { key: string; on: 'source' | 'destination' };
}

export interface Manifest {
  $schema: typeof manifestSchemaId;
  manifestVersion: 1;
  compiler: { name: 'syncwright'; version: string };
  options?: PlanOptions;
  syncs: ManifestSync[];
}
