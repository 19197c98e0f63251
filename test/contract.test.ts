/**
 * Vendor contracts: every request of every golden plan (test/golden/api, the fixtures of
 * test/fixtures/api) and of every example project, rendered from real change rows at the
 * plan's batch size and at the largest the checker allows, conforms to the vendor's published
 * specification as test/contracts/ states it (test/contracts/README.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProject } from '../src/check/check.js';
import type { CheckedSync } from '../src/check/model.js';
import { allApiCases } from './fixtures/api/destinations.js';
import { checkedSync } from './fixtures/api/compile.js';
import { openPglite, type Engine } from './support/engines.js';
import { sweep } from './contracts/sweep.js';

const root = join(import.meta.dirname, '..');

function syncFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    return statSync(full).isDirectory() ? syncFiles(full) : e.endsWith('.sync') ? [full] : [];
  });
}

/** The API syncs of an example project, checked as `syncwright check` checks it. */
export function exampleSyncs(example: string): CheckedSync[] {
  const files = syncFiles(join(root, 'examples', example)).map((f) => ({ path: relative(root, f), text: readFileSync(f, 'utf8') }));
  const { project, diagnostics } = checkProject(files);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!project || errors.length) throw new Error(`examples/${example} does not check: ${errors.map((d) => d.message).join('; ')}`);
  return project.syncs.filter((s) => s.destination.category !== 'warehouse');
}

const examples = readdirSync(join(root, 'examples'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

const targets: { name: string; sync: () => CheckedSync }[] = [
  ...allApiCases().map((c) => ({ name: `golden ${c.type}/${c.kind}-${c.mode}`, sync: () => checkedSync(c.project, c.sync) })),
  ...examples.flatMap((example) => exampleSyncs(example).map((s) => ({ name: `examples/${example} ${s.name} (${s.destination.type})`, sync: () => s }))),
];

describe('every request of every plan conforms to the vendor contract', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openPglite();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('covers all 14 API destination types', () => {
    expect(new Set(targets.map((t) => t.sync().destination.type)).size).toBe(14);
  });

  it.each(targets.map((t) => [t.name, t] as const))('%s', async (_, t) => {
    const { rendered, silent } = await sweep(engine, t.sync());
    expect(rendered.length).toBeGreaterThan(0);
    expect(silent).toEqual([]);
    // One line per kind of problem: array positions are folded (data/3/1 and data/8/1 are one).
    const problems = [...new Set(rendered.flatMap((r) => r.problems.map((p) => `${r.step}: ${p}`.replace(/\/\d+(?=[/:]|$)/g, '/*').replace(/\[\d+\]/g, '[*]'))))];
    expect(problems).toEqual([]);
  });
});
