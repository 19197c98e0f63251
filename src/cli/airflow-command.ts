/**
 * `syncwright airflow --manifest build/manifest.json --out DIR`: Airflow DAG files from a
 * compiled output (src/airflow/dags.ts), and the helper module they import, written into DIR.
 * DAG files this command wrote before with the same --dag-prefix and no longer writes are
 * removed, so a schedule that is gone leaves no DAG behind; other files of DIR (another
 * prefix's DAGs among them) are left alone.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dagFiles, dagMarker } from '../airflow/dags.js';
import type { Manifest } from '../contract/manifest.js';
import { validateManifest } from '../emit/manifest.js';
import { replaceFile, UsageError } from '../files.js';
import { readWholeFile } from '../whole-file.js';
import type { Io } from './output.js';

export interface AirflowOptions {
  manifest: string;
  out?: string;
  build?: string;
  dagPrefix: string;
  syncwright: string;
}

/** What files written before the prefix was recorded say (the support file too, which is always rewritten). */
const legacyMarker = 'Written by `syncwright airflow` from manifest.json';
const supportFile = 'syncwright_support.py';

export function runAirflow(opts: AirflowOptions, io: Io): number {
  if (!opts.out) throw new UsageError('name the folder to write the DAG files into: --out DIR');
  const outOption = opts.out;
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(opts.dagPrefix)) throw new UsageError(`--dag-prefix ${opts.dagPrefix}: letters, digits and _, starting with a letter`);
  const path = resolve(io.cwd, opts.manifest);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readWholeFile(path)) as Manifest;
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
      replaceFile(join(out, f.name), f.text);
    }
    // Only this prefix's own files: `sales_eu_*.py` starts with `sales_` too, so the prefix is read from the file.
    const own = dagMarker(opts.dagPrefix);
    const legacyName = new RegExp(`^${opts.dagPrefix}_(?:cron_|after_|unscheduled\\.py$)`);
    for (const name of readdirSync(out)) {
      if (!name.endsWith('.py') || written.has(name)) continue;
      const text = readFileSync(join(out, name), 'utf8');
      const ours = text.split('\n').some((line) => line === own || line.startsWith(`${own} `));
      // A file written before the prefix was recorded: by its name, which only this prefix's ids take.
      const legacy = text.includes(legacyMarker) && legacyName.test(name);
      if (ours || legacy) rmSync(join(out, name));
    }
  } catch (e) {
    throw new UsageError(`cannot write ${outOption}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  io.err(
    `wrote ${files.length} DAG${files.length === 1 ? '' : 's'} (${manifest.syncs.length} sync${manifest.syncs.length === 1 ? '' : 's'}) and ${supportFile} into ${outOption}`,
  );
  return 0;
}
