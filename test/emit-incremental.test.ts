/**
 * Incremental compile: a recompile into the same build folder plans and emits only the syncs
 * whose inputs changed (their definition, what they reference, where they are written) and
 * takes the others from the output as they are; the folder is byte for byte what a compile
 * into an empty folder writes, and a file of the output edited or removed is written again.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { check, compileContext, parse, planAndEmit, writeBuild } from '../src/index.js';
import { findSyncFiles, readSources } from '../src/files.js';

let dir: string;
const src = () => join(dir, 'src');

/** Checks the project and writes it into `out` as `syncwright compile` does; the syncs it emitted (the others were taken from the output). */
async function compileInto(out: string, reuse = true): Promise<string[]> {
  const files = readSources(findSyncFiles([src()], dir).files, dir);
  const checked = check(parse(files));
  if (!checked.ok) throw new Error(checked.diagnostics.map((d) => d.message).join('\n'));
  const context = compileContext(files);
  const emitted: string[] = [];
  await writeBuild(
    join(dir, out),
    (onSync, kept) =>
      planAndEmit(
        checked.project,
        context,
        (a) => {
          emitted.push(a.plan.sync.name);
          onSync(a);
        },
        reuse ? kept : undefined,
      ),
    context,
  );
  return emitted.sort();
}

/** Every file of a build folder by its path, with its text. */
function tree(out: string): Record<string, string> {
  const root = join(dir, out);
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((p) => statSync(join(root, p)).isFile());
  return Object.fromEntries(files.sort().map((p) => [p, readFileSync(join(root, p), 'utf8')]));
}

/** The build folder `out` is what a compile of the same project into an empty folder writes. */
async function expectFresh(out: string): Promise<void> {
  rmSync(join(dir, 'fresh'), { recursive: true, force: true });
  rmSync(join(dir, '.fresh.syncwright'), { recursive: true, force: true });
  await compileInto('fresh', false);
  const fresh = tree('fresh');
  expect(Object.keys(fresh).length).toBeGreaterThan(30);
  expect(tree(out)).toEqual(fresh);
}

const edit = (file: string, change: (text: string) => string) => {
  const path = join(src(), file);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncwright-incremental-'));
  cpSync(join(import.meta.dirname, '..', 'examples', 'b2b-saas'), src(), { recursive: true, filter: (p) => !p.endsWith('.md') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a recompile into the same folder', () => {
  it('emits only the syncs whose inputs changed, and writes what a compile into an empty folder writes', async () => {
    const all = await compileInto('build');
    expect(all.length).toBe(13);
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');

    // A model in another file than its syncs.
    edit('models.sync', (t) => t.replace('table       analytics.dim_accounts', 'table       analytics.dim_accounts_v2'));
    // A sync changed, one renamed, one removed (the file's last: no other moves).
    edit('syncs/hubspot.sync', (t) => t.replace('  batch      100\n', '  batch      50\n').replace('sync pqls_to_hubspot_list {', 'sync pqls_to_hubspot {'));
    edit('syncs/salesforce.sync', (t) => t.slice(0, t.indexOf('sync trials_to_onboarding_campaign')).trimEnd() + '\n');
    // A line above every sync of a file: each is written one line further down.
    edit('syncs/warehouse.sync', (t) => `# moved\n${t}`);
    // A sync added, in a file of its own.
    writeFileSync(
      join(src(), 'syncs', 'more.sync'),
      readFileSync(join(src(), 'syncs', 'hubspot.sync'), 'utf8')
        .match(/sync trial_ends_out_of_nurture \{[^}]*\}/)![0]
        .replace('trial_ends_out_of_nurture', 'trials_again'),
    );

    expect(await compileInto('build')).toEqual([
      'accounts_to_finance',
      'accounts_to_hubspot_workspaces',
      'accounts_to_salesforce',
      'churn_risk_membership',
      'overdue_invoices_to_finance',
      'pqls_to_hubspot',
      'trials_again',
      'usage_to_account_health',
      'users_to_hubspot_contacts',
    ]);
    await expectFresh('build');
    expect(await compileInto('build')).toEqual([]);
  });

  it('writes again a file of the output that was edited (even with its time set back) or removed', async () => {
    await compileInto('build');
    await compileInto('build');
    const changes = join(dir, 'build', 'accounts_to_salesforce', 'changes.sql');
    const { atime, mtime } = statSync(changes);
    const text = readFileSync(changes, 'utf8');
    // The same size, the same modification time: only its change time tells.
    writeFileSync(changes, text.replace('syncwright', 'SYNCWRIGHT'));
    utimesSync(changes, atime, mtime);
    unlinkSync(join(dir, 'build', 'usage_to_account_health', 'plan.json'));
    expect(await compileInto('build')).toEqual(['accounts_to_salesforce', 'usage_to_account_health']);
    await expectFresh('build');
  });

  it('takes nothing from an output another compiler wrote', async () => {
    await compileInto('build');
    const record = join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json');
    writeFileSync(record, JSON.stringify({ ...JSON.parse(readFileSync(record, 'utf8')), compiler: 'another' }));
    expect((await compileInto('build')).length).toBe(13);
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');
  });
});
