/**
 * The build's precompiled SQL templates: one for every templates/**\/*.hbs, used by the CLI
 * (which then never loads the Handlebars compiler), and rendering exactly what the compiled
 * templates of the test suite render, on every example project.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { templateKey } from '../src/emit/precompiled-templates.js';
import { ensureBuilt } from './support/build.js';
import { loadedModules, loadedModulesHook } from './support/loaded-modules.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
let dir: string;

/** Every file under `folder`, by path, with its text. */
function files(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(folder, { recursive: true }).map(String).sort()) if (f.includes('.')) out[f] = readFileSync(join(folder, f), 'utf8');
  return out;
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'syncwright-templates-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('precompiled templates', () => {
  it('cover every template of templates/ as it is now', async () => {
    const code = (await import(join(root, 'dist', 'emit', 'templates.precompiled.cjs'))) as { default: Record<string, unknown> };
    const templates = readdirSync(join(root, 'templates'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.hbs'));
    expect(templates.length).toBeGreaterThan(10);
    for (const t of templates) expect([t, typeof code.default[templateKey(readFileSync(join(root, 'templates', t), 'utf8'))]]).toEqual([t, 'object']);
  });

  it.each(examples)('render %s as the compiled ones do, without the Handlebars compiler', async (example) => {
    const project = join(root, 'examples', example);
    // The test suite compiles its templates (SYNCWRIGHT_SELF_CHECKS); the CLI below reads the build's.
    const io = { out: () => {}, err: () => {}, colour: false, cwd: root };
    expect(await main(['compile', project, '--out', join(dir, example, 'compiled')], io)).toBe(0);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SYNCWRIGHT_SELF_CHECKS;
    const run = spawnSync(
      process.execPath,
      [...loadedModulesHook(dir), join(root, 'bin', 'syncwright.js'), 'compile', project, '--out', join(dir, example, 'precompiled')],
      {
        cwd: root,
        env,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(loadedModules(run.stderr).modules.filter((k) => k.includes('handlebars/compiler/compiler.js'))).toEqual([]);
    expect(files(join(dir, example, 'precompiled'))).toEqual(files(join(dir, example, 'compiled')));
  });
});
