/**
 * `syncwright dbt exposures [paths..] --out FILE`: check, then write the dbt exposures of
 * every sync that reads a dbt model (src/dbt/exposures.ts) into a property file of the dbt
 * project, replacing it whole; without --out, print it.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { OutputFormat } from '../diagnostics/render.js';
import { exposuresOf, renderYaml } from '../dbt/exposures.js';
import { replaceFile, UsageError } from '../files.js';
import { loadAndCheck } from './check-command.js';
import type { Io } from './output.js';

export interface DbtExposuresOptions {
  paths: string[];
  out?: string;
  format: OutputFormat;
  strict: boolean;
  target?: string;
  ownerName?: string;
  ownerEmail?: string;
  url?: string;
}

export function runDbtExposures(opts: DbtExposuresOptions, io: Io): number {
  if (!opts.ownerName && !opts.ownerEmail) throw new UsageError('dbt exposures need an owner: give --owner-name or --owner-email');
  const { result, failed } = loadAndCheck({ paths: opts.paths, format: opts.format, strict: opts.strict, ...(opts.target ? { target: opts.target } : {}) }, io);
  if (failed || !result.ok) return 1;
  const owner = { ...(opts.ownerName ? { name: opts.ownerName } : {}), ...(opts.ownerEmail ? { email: opts.ownerEmail } : {}) };
  const file = exposuresOf(result.project, { owner, ...(opts.url ? { url: opts.url } : {}) });
  const yaml = renderYaml(file);
  if (!opts.out) {
    io.out(yaml.trimEnd());
    return 0;
  }
  const out = resolve(io.cwd, opts.out);
  try {
    mkdirSync(dirname(out), { recursive: true });
    // Whole or not at all: dbt may parse the project while this runs.
    replaceFile(out, yaml);
  } catch (e) {
    throw new UsageError(`cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (opts.format === 'text') io.err(`wrote ${file.exposures.length} exposure${file.exposures.length === 1 ? '' : 's'} into ${opts.out}`);
  return 0;
}
