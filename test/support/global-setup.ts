// Once per test run, before any test file: the template of every test's embedded database
// (pglite-template.ts), created by the product's own open so that it is what a first run makes;
// the tests' copies are made in the same folder, removed at the end of the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPgliteSession } from '../../src/run/engines/pglite-session.js';

export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'syncwright-pglite-template-'));
  const folder = join(root, 'db');
  const session = await openPgliteSession(folder);
  await session.close();
  project.provide('pgliteTemplate', folder);
  return () => rmSync(root, { recursive: true, force: true });
}
