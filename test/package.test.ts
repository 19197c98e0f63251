/**
 * The package as users get it: `npm pack`, installed into an empty folder outside the clone
 * (offline, from npm's cache, with the versions of this package-lock.json), then its commands
 * run from there: --help, check and compile of a bundled example, and the demo, whose last line
 * suggests a command that must work from where the demo ran; and the library, imported as
 * `syncwright` by a script and type-checked from TypeScript.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';
import { loadedModules, loadedModulesHook } from './support/loaded-modules.js';
import { textHash } from '../src/hash.js';

const repo = join(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'syncwright-package-'));
const app = join(scratch, 'app');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface LockEntry {
  version?: string;
  dev?: boolean;
  link?: boolean;
}

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  // Nothing of the clone's npm environment (npm test sets npm_* variables) reaches the install.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
  return spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', env, shell: process.platform === 'win32' });
}

beforeAll(() => {
  ensureBuilt();
  // dist/ is built: pack without running `prepare`, which would build it again.
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], repo);
  expect(pack.status, pack.stderr).toBe(0);
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  const tarball = join(scratch, filename);

  // An app that depends on the tarball, locked to the versions this clone installs, so that npm
  // needs nothing but its cache (which `npm ci` filled); from the registry only if it is empty.
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    bin: Record<string, string>;
    engines: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const dependency = `file:../${filename}`;
  const packages: Record<string, unknown> = {
    '': { name: 'app', version: '1.0.0', dependencies: { syncwright: dependency } },
    'node_modules/syncwright': {
      version: pkg.version,
      resolved: dependency,
      integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev && !entry.link) packages[path] = entry;
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { syncwright: dependency } }));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
  let install = npm(['ci', '--offline', '--ignore-scripts'], app);
  if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) install = npm(['ci', '--prefer-offline', '--ignore-scripts'], app);
  expect(install.status, install.stderr).toBe(0);
}, 300_000);

/** The installed command, run from the app's folder. */
function syncwright(args: string[], cwd = app): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(app, 'node_modules', 'syncwright', 'bin', 'syncwright.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
}

const stackTrace = /\n\s+at .+[(:]\d+/;

describe('the installed package', () => {
  it('prints its help', () => {
    const r = syncwright(['--help']);
    expect([r.status, r.stderr]).toEqual([0, '']);
    for (const command of ['check', 'fmt', 'compile', 'run', 'demo']) expect(r.stdout).toContain(`syncwright ${command}`);
  });

  it('checks and compiles a bundled example', () => {
    const example = join(app, 'node_modules', 'syncwright', 'examples', 'b2b-saas');
    const check = syncwright(['check', example]);
    expect([check.status, check.stderr]).toEqual([0, 'checked 7 files, 13 syncs: ok\n']);
    const compile = syncwright(['compile', example, '--out', 'build']);
    expect([compile.status, compile.stderr]).toEqual([0, 'compiled 13 syncs into build\n']);
    expect(existsSync(join(app, 'build', 'manifest.json'))).toBe(true);
  });

  it('loads the dialects its build validated without validating them again, and validates one edited since', async () => {
    const pkg = join(app, 'node_modules', 'syncwright');
    const record = JSON.parse(readFileSync(join(pkg, 'dist', 'schema', 'dialects.validated.json'), 'utf8')) as {
      schema: string;
      dialects: Record<string, string>;
    };
    const { groupKey, publishedGroup } = (await import(join(pkg, 'dist', 'schema', 'compile.js'))) as typeof import('../src/schema/compile.js');
    expect(record.schema).toBe(groupKey(publishedGroup('dialect')));
    expect(record.dialects).toEqual(
      Object.fromEntries(['postgres', 'snowflake', 'bigquery'].map((d) => [d, textHash(readFileSync(join(pkg, 'dialects', `${d}.json`), 'utf8'))])),
    );
    // A check of the demo (a Postgres source), and whether it loaded the dialect schema's validator.
    const hook = loadedModulesHook(scratch);
    const check = () => {
      const r = spawnSync(process.execPath, [...hook, join(pkg, 'bin', 'syncwright.js'), 'check', join(pkg, 'examples', 'demo')], {
        cwd: app,
        encoding: 'utf8',
      });
      const { stderr, modules } = loadedModules(r.stderr);
      return { status: r.status, stderr, validator: modules.some((k) => k.endsWith('/dist/schema/dialect.validate.cjs')) };
    };
    expect(check()).toEqual({ status: 0, stderr: 'checked 1 file, 2 syncs: ok\n', validator: false });
    const postgres = join(pkg, 'dialects', 'postgres.json');
    const text = readFileSync(postgres, 'utf8');
    try {
      writeFileSync(postgres, text.replace('"formatter": "postgresql"', '"formatter": "postgres"'));
      const r = check();
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('dialects/postgres.json does not match schemas/dialect.schema.json');
      expect(r.stderr).toContain('/formatter must be one of');
      expect(r.validator).toBe(true);
    } finally {
      writeFileSync(postgres, text);
    }
  });

  it('runs the demo, whose next command works from where it ran', () => {
    const demo = syncwright(['demo']);
    expect(demo.stderr).not.toMatch(stackTrace);
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toContain('3. Nothing changed since: nothing is written or sent.');
    const next = demo.stdout.trimEnd().split('\n').at(-1)!.trim();
    // From a folder outside the package: not a global install, so through npx.
    expect(next).toMatch(/^npx syncwright run node_modules\/syncwright\/examples\/demo --db \.syncwright\/demo\/db --out \.syncwright\/demo\/build --dry-run$/);
    const [, , ...args] = next.split(' ');
    const r = syncwright(args);
    expect(r.stderr).not.toMatch(stackTrace);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('paying_customers_to_crm');
  });
});

describe('the installed library', () => {
  const script = `import { compile, writeBuild } from 'syncwright';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
const dir = join('node_modules', 'syncwright', 'examples', 'b2b-saas');
const files = readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.sync')).sort().map((f) => ({ path: f, text: readFileSync(join(dir, f), 'utf8') }));
const result = compile(files);
const broken = compile([{ path: 'x.sync', text: 'sync a {' }]);
await writeBuild('lib-build', result);
console.log(JSON.stringify({ ok: result.ok, syncs: result.manifest.syncs.length, files: result.artifacts.flatMap((a) => a.files.map((f) => f.name)).length, broken: [broken.ok, broken.artifacts.length, broken.diagnostics.some((d) => d.severity === 'error' && /^SW\\d{4}$/.test(d.code))], written: readdirSync('lib-build').length }));
`;

  it('compiles in memory and writes a build folder through `import { compile } from "syncwright"`', () => {
    writeFileSync(join(app, 'use.mjs'), script);
    const r = spawnSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    // 13 syncs (their files, and the manifest written beside their folders); a broken project: no artifacts, an error.
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, syncs: 13, broken: [false, 0, true], written: 14 });
    expect(JSON.parse(r.stdout).files).toBeGreaterThan(13);
  });

  it('has types: a TypeScript user of the package type-checks', () => {
    writeFileSync(
      join(app, 'use.ts'),
      `import { compile, type CompileResult, type Plan } from 'syncwright';
const r: CompileResult = compile([{ path: 'a.sync', text: '' }], { postgresVersion: 15 });
const plans: Plan[] = r.artifacts.map((a) => a.plan);
// @ts-expect-error: compile takes files, not a string
compile('a.sync');
export { plans };
`,
    );
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(
      process.execPath,
      [
        tsc,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        join(repo, 'node_modules', '@types'),
        'use.ts',
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
