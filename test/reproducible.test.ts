/**
 * Artifacts are reviewed in pull requests: the same project gives the same bytes wherever it
 * lies and wherever the compile runs from. Paths in artifacts (SQL headers, plan.json,
 * manifest.json) are relative to the project's root, and the manifest's input hashes cover
 * contents and those paths only.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';

const repo = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'syncwright-reproducible-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function compile(cwd: string, args: string[]): Promise<void> {
  const said: string[] = [];
  const code = await main(['compile', ...args], { out: (t) => said.push(t), err: (t) => said.push(t), colour: false, cwd });
  expect(code, said.join('\n')).toBe(0);
}

/** Every file of a tree, by its path in the tree, with its bytes. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (statSync(join(dir, entry)).isFile()) files[entry] = readFileSync(join(dir, entry), 'latin1');
  }
  return files;
}

describe('the same project, compiled from anywhere', () => {
  it('gives byte-identical trees from three working folders and from a copy at another path', async () => {
    // A project with files in a subfolder; the copy lies elsewhere, deeper.
    const project = join(scratch, 'work', 'b2b-saas');
    cpSync(join(repo, 'examples', 'b2b-saas'), project, { recursive: true });
    const copy = join(scratch, 'elsewhere', 'checkouts', 'ci', 'b2b-saas');
    cpSync(project, copy, { recursive: true });
    mkdirSync(join(scratch, 'outs'));
    const out = (n: number) => join(scratch, 'outs', String(n));

    await compile(project, ['--out', out(1)]);
    await compile(join(scratch, 'work'), ['b2b-saas', '--out', out(2)]);
    await compile(join(project, 'syncs'), ['..', '--out', out(3)]);
    await compile(tmpdir(), [copy, '--out', out(4)]);
    // The files named one by one: the root is the folder that holds them all.
    const files = readdirSync(copy, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.sync'));
    await compile(copy, [...files, '--out', out(5)]);

    const first = tree(out(1));
    expect(Object.keys(first).length).toBeGreaterThan(20);
    const manifest = JSON.parse(first['manifest.json']!) as { syncs: { file: string; inputHash: string }[] };
    expect(manifest.syncs.map((s) => s.file)).toContain('syncs/hubspot.sync');
    for (const n of [2, 3, 4, 5]) expect(tree(out(n)), `compile ${n}`).toEqual(first);
    // No path of the machine anywhere.
    for (const text of Object.values(first)) expect(text).not.toContain(scratch);
  });
});
