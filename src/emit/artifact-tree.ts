/**
 * The build folder as data (relative path -> content), and writing it atomically: a
 * temporary folder beside the output is filled, then renamed into place, so a failed
 * compile leaves the previous output whole and files of removed syncs disappear. Every plan
 * is validated against schemas/plan.schema.json before the tree exists, so a plan the
 * schema rejects (a compiler bug) stops the compile before anything is written.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SyncArtifacts } from '../plan/plan.js';
import type { Manifest } from './manifest.js';
import { validatePlan } from './plan-schema.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** Throws, naming the plan and every schema error, when a plan does not match its published schema. */
export function artifactTree(artifacts: readonly SyncArtifacts[], manifest: Manifest): Map<string, string> {
  for (const a of artifacts) validatePlan(a.plan, `${a.plan.sync.name}/plan.json`);
  const tree = new Map<string, string>([['manifest.json', json(manifest)]]);
  for (const a of artifacts) {
    const dir = a.plan.sync.name;
    tree.set(`${dir}/plan.json`, json(a.plan));
    for (const f of a.files) tree.set(`${dir}/${f.name}`, f.content);
  }
  return tree;
}

// Thousands of small files: kept in flight together, file system latency overlaps.
const inFlight = 32;

async function pool<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, worker));
}

export async function writeTreeAtomically(outDir: string, tree: ReadonlyMap<string, string>): Promise<void> {
  const out = resolve(outDir);
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${tag}.syncwright-new`);
  const old = join(parent, `.${tag}.syncwright-old`);
  try {
    await mkdir(temp);
    const byDir = new Map<string, [string, string][]>();
    for (const [path, content] of tree) {
      const d = dirname(path);
      let files = byDir.get(d);
      if (!files) byDir.set(d, (files = []));
      files.push([path, content]);
    }
    await pool([...byDir], async ([d, files]) => {
      if (d !== '.') await mkdir(join(temp, d), { recursive: true });
      await Promise.all(files.map(([path, content]) => writeFile(join(temp, path), content)));
    });
    if (existsSync(out)) await rename(out, old);
    try {
      await rename(temp, out);
    } catch (e) {
      if (existsSync(old)) await rename(old, out);
      throw e;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
