/**
 * A compile killed at any moment leaves the whole old output or the whole new one at `build`,
 * never none and never a mix: the command line is killed (SIGKILL) just before each change it
 * makes to the file system in turn (test/support/kill-at.cjs), and `build` is read after each
 * kill; the next compile then puts the new output in place and clears what the killed one left.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { ensureBuilt } from './support/build.js';
import { audienceSync, project, recordSync } from './fixtures/warehouse/dialects.js';

const repo = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'syncwright-kill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(ensureBuilt);

const before = project('postgres', `${recordSync('mirror')}\n${audienceSync('add')}`);
// One sync changed, one removed, one added.
const after = project(
  'postgres',
  `${recordSync('mirror').replace('guard deletes <= 5%', 'guard deletes <= 9%')}\n${recordSync('upsert').replace('crm.users', 'crm.users_copy')}`,
);

/** Every file of a tree by its path, with its text; throws when the tree is not there. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (statSync(join(dir, entry)).isFile()) files[entry] = readFileSync(join(dir, entry), 'utf8');
  }
  return files;
}

/** `syncwright compile src --out build` in `dir`, in this process, as the killed runs do in theirs. */
async function compileIn(dir: string): Promise<void> {
  const said: string[] = [];
  const home = process.cwd();
  process.chdir(dir);
  try {
    const code = await main(['compile', 'src', '--out', 'build'], { out: (t) => said.push(t), err: (t) => said.push(t), colour: false, cwd: dir });
    expect(code, said.join('\n')).toBe(0);
  } finally {
    process.chdir(home);
  }
}

function projectAt(name: string, text: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', 'users.sync'), text);
  return dir;
}

describe('a compile killed at any step', () => {
  it('leaves build the whole old output or the whole new one; the next compile finishes the job', async () => {
    const reference = projectAt('reference', before);
    await compileIn(reference);
    const old = tree(join(reference, 'build'));
    writeFileSync(join(reference, 'src', 'users.sync'), after);
    await compileIn(reference);
    const next = tree(join(reference, 'build'));
    expect(next).not.toEqual(old);

    // A project compiled twice (so a previous output is kept), then changed: copied for each step.
    const start = projectAt('start', before);
    await compileIn(start);
    await compileIn(start);
    writeFileSync(join(start, 'src', 'users.sync'), after);

    const seen = new Set<string>();
    const dirs: string[] = [];
    let step = 1;
    for (; step < 100; step++) {
      const dir = join(scratch, `step-${step}`);
      cpSync(start, dir, { recursive: true, verbatimSymlinks: true });
      const run = spawnSync(
        process.execPath,
        ['--require', join(repo, 'test', 'support', 'kill-at.cjs'), join(repo, 'bin', 'syncwright.js'), 'compile', 'src', '--out', 'build'],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, SYNCWRIGHT_TEST_KILL_AT: String(step) },
        },
      );
      if (run.signal === null) {
        // The compile made fewer changes than `step`: it ran to its end.
        expect([run.status, run.stderr]).toEqual([0, 'compiled 2 syncs into build\n']);
        expect(tree(join(dir, 'build'))).toEqual(next);
        break;
      }
      expect(run.signal, run.stderr).toBe('SIGKILL');
      let found: Record<string, string>;
      try {
        found = tree(join(dir, 'build'));
      } catch (e) {
        throw new Error(`killed before change ${step}: build cannot be read (${(e as Error).message})`);
      }
      const whole =
        found === undefined ? 'none' : JSON.stringify(found) === JSON.stringify(old) ? 'old' : JSON.stringify(found) === JSON.stringify(next) ? 'new' : 'a mix';
      expect(whole, `killed before change ${step}`).toMatch(/^(old|new)$/);
      seen.add(whole);
      // The next compile takes over the killed one's lock and puts the new output in place.
      await compileIn(dir);
      expect(tree(join(dir, 'build'))).toEqual(next);
      dirs.push(dir);
    }
    // ... and clears what the killed one left: the outputs' folder holds the output and the one before.
    for (const dir of dirs) {
      expect(readdirSync(join(dir, '.build.syncwright')).sort()).toEqual(['.gitignore', basename(readlinkSync(join(dir, 'build'))), 'previous'].sort());
    }
    // Killed at every step there is: before the switch (old) and after it (new).
    expect(step).toBeGreaterThan(4);
    expect(seen).toEqual(new Set(['old', 'new']));
  });
});
