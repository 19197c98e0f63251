// `syncwright compile`: the build folder, its determinism, and its atomic replacement.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { validateManifest } from '../src/emit/manifest.js';
import type { Manifest } from '../src/contract/manifest.js';
import { project, recordSync, audienceSync, crossProject } from './fixtures/warehouse/dialects.js';
import { planErrors } from '../src/emit/plan-schema.js';
import { changeSetColumns } from '../src/check/syncs.js';

let dir: string;
let out: string;
let stdout: string[];
let stderr: string[];
const io = (): Io => ({ out: (t) => stdout.push(t), err: (t) => stderr.push(t), colour: false, cwd: process.cwd() });

function tree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(root, p), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return files;
}

const compile = (...extra: string[]) => main(['compile', join(dir, 'src'), '--out', out, ...extra], io());

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncwright-compile-'));
  out = join(dir, 'build');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'users.sync'), project('postgres', `${recordSync('mirror')}\n${audienceSync('add')}`));
  stdout = [];
  stderr = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('syncwright compile', () => {
  it('writes manifest.json, plan.json per sync and the SQL files the plans name, in run order', async () => {
    expect(await compile()).toBe(0);
    const files = tree(out);
    expect([...files.keys()].sort()).toEqual([
      'manifest.json',
      'users_mirror/apply.sql',
      'users_mirror/plan.json',
      'whales_add/apply.sql',
      'whales_add/plan.json',
    ]);
    const manifest = JSON.parse(files.get('manifest.json')!) as Manifest;
    expect(() => validateManifest(manifest)).not.toThrow();
    expect(manifest.syncs.map((s) => [s.name, s.mode, s.files, s.line])).toEqual([
      ['users_mirror', 'mirror', ['users_mirror/apply.sql'], 24],
      ['whales_add', 'add', ['whales_add/apply.sql'], 33],
    ]);
    const plan = JSON.parse(files.get('users_mirror/plan.json')!) as { steps: { kind: string; file?: string }[] };
    for (const name of ['users_mirror', 'whales_add']) {
      expect(planErrors(JSON.parse(files.get(`${name}/plan.json`)!))).toEqual([]);
    }
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'sql', file: 'apply.sql', on: 'destination' })]);
    expect(files.get('users_mirror/apply.sql')).toMatch(/^-- syncwright: sync users_mirror, record mode mirror, .*users\.sync line 24\n/);
    expect(stdout.join('\n')).toMatch(
      /^sync\s+destination\s+mode\s+files\nusers_mirror\s+wh \(postgres\)\s+record mirror\s+apply\.sql\nwhales_add\s+wh \(postgres\)\s+audience add\s+apply\.sql$/,
    );
  });

  it('is deterministic byte for byte', async () => {
    await compile();
    const first = tree(out);
    await compile();
    expect(tree(out)).toEqual(first);
  });

  it('replaces the whole folder: files of a removed sync disappear', async () => {
    await compile();
    writeFileSync(join(dir, 'src', 'users.sync'), project('postgres', recordSync('mirror')));
    await compile();
    expect([...tree(out).keys()].sort()).toEqual(['manifest.json', 'users_mirror/apply.sql', 'users_mirror/plan.json']);
    // Beside it, only the outputs' folder: the output's own, and the previous one, which the next compile reuses.
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
  });

  it('refuses to replace a folder it did not write, or a file, and leaves it alone', async () => {
    // The project itself, after a mistyped --out.
    const before = tree(join(dir, 'src'));
    expect(await main(['compile', join(dir, 'src'), '--out', join(dir, 'src')], io())).toBe(2);
    expect(stderr.join('\n')).toMatch(/refusing to replace .*src: it holds files but no manifest\.json written by syncwright compile/);
    expect(tree(join(dir, 'src'))).toEqual(before);
    writeFileSync(out, 'notes');
    expect(await compile()).toBe(2);
    expect(stderr.join('\n')).toMatch(/it is a file, not a folder/);
    expect(readFileSync(out, 'utf8')).toBe('notes');
    // An empty folder, or an output it wrote, is replaced.
    rmSync(out);
    mkdirSync(out);
    expect(await compile()).toBe(0);
    expect(await compile()).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
  });

  it('writes nothing on an error and leaves the previous output intact', async () => {
    await compile();
    const before = tree(out);
    writeFileSync(join(dir, 'src', 'users.sync'), project('postgres', recordSync('mirror')).replace('mode mirror', 'mode mirrror'));
    expect(await compile()).toBe(1);
    expect(tree(out)).toEqual(before);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
  });

  it('--strict turns warnings into errors and writes nothing', async () => {
    // A mirror into a nullable-free table still warns without a guard.
    writeFileSync(join(dir, 'src', 'users.sync'), project('postgres', recordSync('mirror').replace('guard deletes <= 5%', '')));
    expect(await compile('--strict')).toBe(1);
    expect(readdirSync(dir)).toEqual(['src']);
  });

  it('--postgres-version is recorded in the manifest and the plan', async () => {
    await compile('--postgres-version', '17');
    const files = tree(out);
    expect((JSON.parse(files.get('users_mirror/plan.json')!) as { source: { version: number } }).source.version).toBe(17);
    expect((JSON.parse(files.get('manifest.json')!) as Manifest).options).toEqual({ postgresVersion: 17 });
  });

  it('plans a load into another declared source as into a destination; into its own source, one script', async () => {
    // Once planned as one script on the destination's session: it read the model's table in the wrong database.
    writeFileSync(
      join(dir, 'src', 'users.sync'),
      `source wh : postgres { database "wh" }
source app : postgres { database "app" }
model users { from wh  table shop.users  primary key id  columns { id bigint  email string } }
sync users_to_app { from users  to app table public.users_copy  mode mirror  identifier id -> id  map { email -> email } }
sync users_back { from users  to wh table shop.users_copy  mode mirror  identifier id -> id  map { email -> email } }
`,
    );
    expect(await compile()).toBe(0);
    const steps = (sync: string) =>
      (JSON.parse(tree(out).get(`${sync}/plan.json`)!) as { steps: Record<string, unknown>[] }).steps.map((s) => [s.kind, s.on, s.file ?? s.table]);
    expect(steps('users_to_app')).toEqual([
      ['sql', 'source', 'extract.sql'],
      // A temporary table of the destination's session.
      ['load', 'destination', 'sw_load'],
      ['sql', 'destination', 'apply.sql'],
    ]);
    expect(tree(out).get('users_to_app/extract.sql')).toMatch(/FROM\s+"shop"\."users"/);
    expect(tree(out).get('users_to_app/apply.sql')).not.toMatch(/"shop"\."users"/);
    expect(steps('users_back')).toEqual([['sql', 'destination', 'apply.sql']]);
  });

  it('plans a load into another warehouse: extract on the source, load, apply on the destination', async () => {
    writeFileSync(join(dir, 'src', 'users.sync'), crossProject('postgres', 'snowflake'));
    expect(await compile()).toBe(0);
    const plan = JSON.parse(tree(out).get('users_to_dw/plan.json')!) as { steps: Record<string, unknown>[] };
    expect(plan.steps.map((s) => [s.kind, s.on, s.file ?? s.table])).toEqual([
      ['sql', 'source', 'extract.sql'],
      // Snowflake's requests are sessions of their own: the load table is one of the target's schema, named after the sync.
      ['load', 'destination', 'CRM.sw_load_users_to_dw'],
      ['sql', 'destination', 'apply.sql'],
    ]);
    expect(plan.steps[1]!.columns).toEqual([
      { name: 'sw_c0', type: 'BIGINT' },
      { name: 'sw_c1', type: 'VARCHAR' },
      { name: 'sw_c2', type: 'VARCHAR' },
      { name: 'sw_c3', type: 'NUMBER(12, 2)' },
      { name: 'sw_o0', type: 'TIMESTAMP_NTZ' },
    ]);
    expect(tree(out).get('users_to_dw/apply.sql')).toMatch(/FROM\s+"CRM"\."sw_load_users_to_dw" AS "m"/);
    expect(plan.steps[1]!.drop).toBe('DROP TABLE IF EXISTS "CRM"."sw_load_users_to_dw"');
    expect(planErrors(plan)).toEqual([]);
    // A decimal without precision and scale: Snowflake reads a bare NUMBER as NUMBER(38, 0), which would load 99.95 as 100.
    writeFileSync(join(dir, 'src', 'users.sync'), crossProject('postgres', 'snowflake').replace('decimal(12, 2)', 'decimal'));
    expect(await compile()).toBe(0);
    const unsized = JSON.parse(tree(out).get('users_to_dw/plan.json')!) as {
      steps: { columns?: { name: string; type: string }[] }[];
      destination: { columns: { name: string; type: string }[]; check: { create: string } };
    };
    expect(unsized.steps[1]!.columns![3]).toEqual({ name: 'sw_c3', type: 'NUMBER(38, 9)' });
    expect(unsized.destination.columns.find((c) => c.name === 'LTV')?.type).toBe('NUMBER(38, 9)');
    expect(unsized.destination.check.create).toContain('"LTV" NUMBER(38, 9)');
    // A sync name of 250 characters: the load table's name is cut to Snowflake's 255, kept apart by a hash.
    const long = 'u'.repeat(250);
    writeFileSync(join(dir, 'src', 'users.sync'), crossProject('postgres', 'snowflake').replace('sync users_to_dw', `sync ${long}`));
    expect(await compile()).toBe(0);
    const step = (JSON.parse(tree(out).get(`${long}/plan.json`)!) as { steps: { table?: string }[] }).steps[1]!;
    const name = step.table!.split('.').at(-1)!;
    expect(name).toMatch(/^sw_load_u+_[0-9a-f]{8}$/);
    expect(name).toHaveLength(255);
  });
});

describe("the change set's own columns", () => {
  it('are the names a field may not take (SW0120): those its template adds beside the fields', () => {
    const template = readFileSync(join(import.meta.dirname, '..', 'templates', 'warehouse', 'changes.sql.hbs'), 'utf8');
    const added = new Set([...template.matchAll(/(?:AS |\}\}\.)\{\{q "(sw_[a-z_0-9]+)"\}\}/g)].map((m) => m[1]!).filter((n) => !/^sw_c\d+$/.test(n)));
    expect([...added].sort()).toEqual([...changeSetColumns]);
  });
});
