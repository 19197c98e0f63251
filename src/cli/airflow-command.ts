/**
 * `syncwright airflow --manifest build/manifest.json --out DIR`: Airflow DAG files from a
 * compiled output (src/airflow/dags.ts), and the helper module they import, written into DIR.
 * DAG files this command wrote before and no longer writes are removed, so a schedule that is
 * gone leaves no DAG behind; other files of DIR are left alone.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dagFiles } from '../airflow/dags.js';
import type { Manifest } from '../contract/manifest.js';
import { validateManifest } from '../emit/manifest.js';
import { UsageError } from '../files.js';
import type { Io } from './output.js';

export interface AirflowOptions {
  manifest: string;
  out?: string;
  build?: string;
  dagPrefix: string;
  syncwright: string;
}

const marker = 'Written by `syncwright airflow`';
const supportFile = 'syncwright_support.py';

export function runAirflow(opts: AirflowOptions, io: Io): number {
  if (!opts.out) throw new UsageError('name the folder to write the DAG files into: --out DIR');
  const outOption = opts.out;
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(opts.dagPrefix)) throw new UsageError(`--dag-prefix ${opts.dagPrefix}: letters, digits and _, starting with a letter`);
  const path = resolve(io.cwd, opts.manifest);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    validateManifest(manifest);
  } catch (e) {
    throw new UsageError(
      `cannot read ${opts.manifest}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (compile first: syncwright compile --out build)`,
    );
  }
  const files = dagFiles(manifest, { build: opts.build ?? dirname(opts.manifest), prefix: opts.dagPrefix, syncwright: opts.syncwright });
  const support = readFileSync(fileURLToPath(new URL(`../../templates/airflow/${supportFile}`, import.meta.url)), 'utf8');
  const out = resolve(io.cwd, outOption);
  try {
    mkdirSync(out, { recursive: true });
    const written = new Set([supportFile, ...files.map((f) => f.name)]);
    for (const f of [{ name: supportFile, text: support }, ...files]) {
      // Whole or not at all: the scheduler parses the folder while this runs.
      writeFileSync(join(out, `.${f.name}.tmp`), f.text);
      renameSync(join(out, `.${f.name}.tmp`), join(out, f.name));
    }
    for (const name of readdirSync(out)) {
      if (!name.startsWith(`${opts.dagPrefix}_`) || !name.endsWith('.py') || written.has(name)) continue;
      if (readFileSync(join(out, name), 'utf8').includes(marker)) rmSync(join(out, name));
    }
  } catch (e) {
    throw new UsageError(`cannot write ${outOption}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.err(
    `wrote ${files.length} DAG${files.length === 1 ? '' : 's'} (${manifest.syncs.length} sync${manifest.syncs.length === 1 ? '' : 's'}) and ${supportFile} into ${outOption}`,
  );
  return 0;
}
