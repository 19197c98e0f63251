/**
 * The build folder as data (relative path -> content), and writing it atomically: a
 * temporary folder beside the output is filled, then renamed into place, so a failed
 * compile leaves the previous output whole and files of removed syncs disappear.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SyncArtifacts } from '../plan/plan.js';
import type { Manifest } from './manifest.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

export function artifactTree(artifacts: readonly SyncArtifacts[], manifest: Manifest): Map<string, string> {
  const tree = new Map<string, string>([['manifest.json', json(manifest)]]);
  for (const a of artifacts) {
    const dir = a.plan.sync.name;
    tree.set(`${dir}/plan.json`, json(a.plan));
    for (const f of a.files) tree.set(`${dir}/${f.name}`, f.content);
  }
  return tree;
}

export function writeTreeAtomically(outDir: string, tree: ReadonlyMap<string, string>): void {
  const out = resolve(outDir);
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${tag}.syncwright-new`);
  const old = join(parent, `.${tag}.syncwright-old`);
  try {
    mkdirSync(temp);
    const dirs = new Set<string>();
    for (const path of tree.keys()) dirs.add(dirname(join(temp, path)));
    for (const d of [...dirs].sort()) mkdirSync(d, { recursive: true });
    for (const [path, content] of tree) writeFileSync(join(temp, path), content);
    if (existsSync(out)) renameSync(out, old);
    try {
      renameSync(temp, out);
    } catch (e) {
      if (existsSync(old)) renameSync(old, out);
      throw e;
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
    rmSync(old, { recursive: true, force: true });
  }
}
