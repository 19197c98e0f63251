/**
 * Incremental compile: a recompile into the same build folder plans and emits only the syncs
 * whose inputs changed (their definition, what they reference, where they are written) and
 * takes the others from the output as they are; the folder is byte for byte what a compile
 * into an empty folder writes, and a file of the output edited or removed is written again.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { check, compileContext, parse, planAndEmit, writeBuild } from '../src/index.js';
import { findSyncFiles, readSources } from '../src/files.js';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { checkForCompile } from '../src/cli/check-command.js';
import { loadSources } from '../src/files.js';
import { isEntryOf, slot, type BuildInputs, type RecordedSync } from '../src/output/kept-syncs.js';
import type { KeptSummary } from '../src/contract/manifest.js';
import type { Outline } from '../src/check/project.js';
import { comparedBelow } from '../src/output/file-system-thread.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { writeMixedProject } from '../bench/mixed-project.js';
import { hooked } from './support/hooked-fs.js';

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
  // A sync emitted in both passes of a compile that found a file of the output changed (src/output/artifact-tree.ts) is one.
  return [...new Set(emitted)].sort();
}

/** Every file of a build folder by its path, with its text. */
function tree(out: string): Record<string, string> {
  const root = join(dir, out);
  const files = readdirSync(root, { recursive: true })
    .map(String)
    .filter((p) => statSync(join(root, p)).isFile());
  return Object.fromEntries(files.sort().map((p) => [p, readFileSync(join(root, p), 'utf8')]));
}

/** Every file of the project under src/ by its path, with its text: what a compile of it reads. */
function sources(): string {
  const files = readdirSync(src(), { recursive: true })
    .map(String)
    .filter((p) => statSync(join(src(), p)).isFile())
    .sort();
  return JSON.stringify(files.map((p) => [p, readFileSync(join(src(), p), 'utf8')]));
}

/**
 * What a compile into an empty folder writes, by the project's files: a compile writes the same
 * tree of the same files wherever the test's folder is, so a project the tests compile again as
 * it was (most compile the example unchanged) is compiled into an empty folder once.
 */
const freshTrees = new Map<string, Record<string, string>>();

/** The build folder `out` is what a compile of the same project into an empty folder writes. */
async function expectFresh(out: string): Promise<void> {
  const key = sources();
  let fresh = freshTrees.get(key);
  if (fresh === undefined) {
    rmSync(join(dir, 'fresh'), { recursive: true, force: true });
    rmSync(join(dir, '.fresh.syncwright'), { recursive: true, force: true });
    await compileInto('fresh', false);
    fresh = tree('fresh');
    freshTrees.set(key, fresh);
  }
  expect(Object.keys(fresh).length).toBeGreaterThan(30);
  expect(tree(out)).toEqual(fresh);
}

/** A sync of the record as the tests edit it (the record holds it flat, `RecordedSync`): `files` are the names of its files but plan.json. */
interface EditedSync {
  name: string;
  file: string;
  line: number;
  at: [number, number];
  files: string[];
}

/** Changes the record of build/ by hand (its first line, the inputs' key, then the record itself); the names `change` gives. */
function editRecord(change: (data: { compiler: string; syncs: EditedSync[] }) => string[] | undefined): string[] {
  const record = join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json');
  const [key, body] = readFileSync(record, 'utf8').split('\n');
  const data = JSON.parse(body!) as { compiler: string; syncs: RecordedSync[] };
  const pairs = (r: RecordedSync) => r.slice(slot.files).flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]] as [string, string]] : []));
  const syncs = data.syncs.map(
    (r): EditedSync => ({
      name: r[slot.name],
      file: r[slot.file],
      line: r[slot.line],
      at: [r[slot.start], r[slot.end]],
      files: pairs(r).map(([name]) => name),
    }),
  );
  const view = { compiler: data.compiler, syncs };
  const names = change(view) ?? [];
  data.compiler = view.compiler;
  data.syncs = data.syncs.map((r, i) => {
    const { file, line, at, files } = syncs[i]!;
    // Each file with the identity recorded of it, or a renamed one with that of the file it replaces.
    const was = pairs(r);
    const kept = files.flatMap((name, k) => [name, (was.find(([n]) => n === name) ?? was[k])![1]]);
    return [...r.slice(0, slot.file), file, line, ...at, ...r.slice(slot.folder, slot.files), ...kept] as RecordedSync;
  });
  writeFileSync(record, `${key}\n${JSON.stringify(data)}`);
  return names;
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
    const all = await compileInto('build');
    await compileInto('build');
    const changes = join(dir, 'build', 'accounts_to_salesforce', 'changes.sql');
    const { atime, mtime } = statSync(changes);
    const text = readFileSync(changes, 'utf8');
    // The same size, the same modification time: only its change time tells. The file system
    // threads find it (the main thread does not look at the files of a taken sync) in the folder
    // the compile reuses, which links it too.
    writeFileSync(changes, text.replace('syncwright', 'SYNCWRIGHT'));
    utimesSync(changes, atime, mtime);
    expect(await compileInto('build')).toEqual(['accounts_to_salesforce']);
    await expectFresh('build');
    // After a first compile, whose kept folder holds no file yet: found in the output itself. The
    // files linked from the output meanwhile have another change time than recorded, so every
    // sync is emitted again.
    for (const path of ['build', '.build.syncwright']) rmSync(join(dir, path), { recursive: true });
    await compileInto('build');
    const plan = join(dir, 'build', 'users_to_hubspot_contacts', 'plan.json');
    const { atime: a, mtime: m } = statSync(plan);
    writeFileSync(plan, readFileSync(plan, 'utf8').replace('"', "'"));
    utimesSync(plan, a, m);
    expect(await compileInto('build')).toEqual(all);
    await expectFresh('build');
    await compileInto('build');
    unlinkSync(join(dir, 'build', 'usage_to_account_health', 'plan.json'));
    expect(await compileInto('build')).toEqual(['usage_to_account_health']);
    await expectFresh('build');
  });

  it('lists a folder it reuses for names the sync no longer has unless the compile that filled it left it as it is', async () => {
    // Three compiles: the third takes syncs the second took, whose reused folders the record says as the first left them.
    await compileInto('build');
    await compileInto('build');
    await compileInto('build');
    const record = readFileSync(join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json'), 'utf8');
    const { syncs } = JSON.parse(record.slice(record.indexOf('\n') + 1)) as { syncs: RecordedSync[] };
    expect(syncs.find((r) => r[slot.name] === 'accounts_to_salesforce')![slot.left]).not.toBe('');
    const reused = join(dir, '.build.syncwright', 'previous', 'accounts_to_salesforce');
    writeFileSync(join(reused, 'stray.sql'), 'not a file of the sync');
    edit('syncs/hubspot.sync', (t) => t.replace('  batch      100\n', '  batch      50\n'));
    const emitted = await compileInto('build');
    expect(emitted).not.toContain('accounts_to_salesforce');
    await expectFresh('build');
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');
  });

  it('shares no file with a sync folder moved out of the output', async () => {
    await compileInto('build');
    await compileInto('build');
    // The folder the next compile reuses links the very files the moved folder holds, with the
    // times recorded: only the output's own folder, made anew, tells.
    const saved = join(dir, 'saved');
    renameSync(join(dir, 'build', 'accounts_to_salesforce'), saved);
    mkdirSync(join(dir, 'build', 'accounts_to_salesforce'));
    expect(await compileInto('build')).toEqual(['accounts_to_salesforce']);
    for (const name of readdirSync(saved)) expect(statSync(join(dir, 'build', 'accounts_to_salesforce', name)).ino).not.toBe(statSync(join(saved, name)).ino);
    writeFileSync(join(saved, 'plan.json'), 'edited outside');
    await expectFresh('build');
  });

  it('writes its record beside the replaced output, never through a link or into a file another name shares', async () => {
    await compileInto('build');
    await compileInto('build');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'kept as it is\n');
    // Where the carried files go, a link into the output itself and one to a file elsewhere.
    symlinkSync('accounts_to_salesforce/plan.json', join(dir, 'build', '.syncwright-syncs.json'));
    symlinkSync(victim, join(dir, 'build', '.syncwright-formatted.json'));
    expect(await compileInto('build')).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('kept as it is\n');
    await expectFresh('build');
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');
  });

  it('records a file as the compile put it in, so an edit made while it runs is written again next time', async () => {
    await compileInto('build');
    await compileInto('build');
    // The sync's plan changes, its read.sql does not: the new output has the very read.sql of the output it replaces.
    edit('syncs/hubspot.sync', (t) => t.replace('  batch      100\n', '  batch      50\n'));
    const target = join(dir, 'build', 'users_to_hubspot_contacts', 'read.sql');
    // Edited in place after the file system threads put it in, before the new output is swapped in (the swap links the output anew).
    const changed = await hooked(
      'symlinkSync',
      () => true,
      (swap, ...args) => {
        writeFileSync(target, `-- edited by hand\n${readFileSync(target, 'utf8')}`);
        return swap(...args);
      },
      () => compileInto('build'),
    );
    expect(changed).toEqual(['users_to_hubspot_contacts']);
    expect(readFileSync(target, 'utf8')).toMatch(/^-- edited by hand/);
    expect(await compileInto('build')).toEqual(['users_to_hubspot_contacts']);
    await expectFresh('build');
  });

  it("takes a sync's manifest entry as the output's text only where the record places that sync's one whole entry", async () => {
    await compileInto('build');
    const manifest = readFileSync(join(dir, 'build', 'manifest.json'), 'latin1');
    const names = editRecord(({ syncs }) => {
      // Each entry the record places is the manifest's own entry of that sync.
      for (const s of syncs) expect(JSON.parse(manifest.slice(...s.at)).name).toBe(s.name);
      const [a, b, c, d] = syncs;
      // A byte late; a byte short; running on over the next entry; ending on the close of an object the entry nests.
      a!.at = [a!.at[0] + 1, a!.at[1]];
      b!.at = [b!.at[0], b!.at[1] - 1];
      c!.at = [c!.at[0], d!.at[1]];
      d!.at = [d!.at[0], manifest.indexOf('\n      }', d!.at[0]) + 8];
      expect(manifest[d!.at[1] - 1]).toBe('}');
      return [a!, b!, c!, d!].map((s) => s.name);
    });
    expect(await compileInto('build')).toEqual(names.sort());
    await expectFresh('build');
    expect(await compileInto('build')).toEqual([]);
  });

  it('records manifest.json as the thread put it in, so an edit made while the compile runs is written again', async () => {
    expect((await cli('compile', 'src', '--out', 'build')).code).toBe(0);
    // The same inputs, an output file edited: the compile must run, and keeps or links the small manifest (the output's own file).
    const sql = join(dir, 'build', 'users_to_hubspot_contacts', 'read.sql');
    writeFileSync(sql, `-- edited\n${readFileSync(sql, 'utf8')}`);
    const manifest = join(dir, 'build', 'manifest.json');
    // Edited in place once the threads are done, as the stale entries of the new output's top are listed.
    const status = await hooked(
      'readdirSync',
      (path, options) => options === undefined && String(path).includes(join('.build.syncwright', 'output-')),
      (list, ...args) => {
        writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"manifestVersion"', '"edited": true, "manifestVersion"'));
        return list(...args);
      },
      () => cli('compile', 'src', '--out', 'build'),
    );
    expect(status.code).toBe(0);
    expect(readFileSync(manifest, 'utf8')).toContain('"edited": true');
    expect((await cli('compile', 'src', '--out', 'build')).code).toBe(0);
    expect(readFileSync(manifest, 'utf8')).not.toContain('"edited"');
    expect((await cli('compile', 'src', '--out', 'fresh')).code).toBe(0);
    expect(tree('build')).toEqual(tree('fresh'));
  });

  it("reads a manifest entry only as UTF-8: bytes that are not are no entry, even where the record's names hold U+FFFD", () => {
    const sync = {
      name: 's',
      kind: 'record',
      mode: 'insert',
      destination: { name: 'd', type: 'webhook' },
      file: 'syncs/a-b.sync',
      line: 3,
      files: ['s/apply.sql'],
      inputHash: 'sha256:x',
    } as KeptSummary;
    const entry = `{\n      "name": "s",\n      "file": "syncs/a-b.sync",\n      "line": 3,\n      "files": [\n        "s/apply.sql"\n      ],\n      "inputHash": "sha256:x",\n      "z": 1\n    }`;
    expect(isEntryOf(Buffer.from(entry), sync)).toBe(true);
    const bytes = Buffer.from(entry);
    bytes[bytes.indexOf('-')] = 0xff;
    expect(isEntryOf(bytes, { ...sync, file: 'syncs/a\uFFFDb.sync' })).toBe(false);
    // A range that cuts a character at either end.
    const wide = Buffer.from(entry.replace('"z": 1', '"z": "\u00e9"'));
    expect(isEntryOf(wide.subarray(0, wide.indexOf(0xa9)), sync)).toBe(false);
    expect(isEntryOf(Buffer.concat([Buffer.from([0xa9]), Buffer.from(entry)]), sync)).toBe(false);
  });

  it('takes no sync whose files, file or line the record says otherwise than its manifest entry', async () => {
    await compileInto('build');
    const names = editRecord(({ syncs }) => {
      const a = syncs.find((s) => !s.file.endsWith('syncs/hubspot.sync') && s.files.length > 1)!;
      // A file fewer: the output would lack it.
      a.files = a.files.slice(0, -1);
      // Every sync of a file a line down, and the record says one of them already is.
      const moved = syncs.filter((s) => s.file.endsWith('syncs/hubspot.sync'));
      moved[0]!.line += 1;
      return [a, ...moved].map((s) => s.name);
    });
    edit('syncs/hubspot.sync', (t) => `# moved\n${t}`);
    expect(await compileInto('build')).toEqual(names.sort());
    await expectFresh('build');
    expect(await compileInto('build')).toEqual([]);
  });

  it('takes no sync whose entry says what the record says of it only past the range the record places', async () => {
    await compileInto('build');
    let moved: { name: string; file: string; line: number }[] = [];
    let shift = 0;
    let at = 0;
    editRecord(({ syncs }) => {
      // Two syncs of a file, the second further down in it and later in the manifest: the first is
      // moved down to the second's line, and the record says it is there. Only the second's entry says so.
      const pairs = syncs.flatMap((first, k) => syncs.slice(k + 1).map((second) => [first, second] as const));
      const [first, second] = pairs.find(([a, b]) => a.file === b.file && b.line > a.line)!;
      [shift, at] = [second.line - first.line, first.line];
      moved = syncs.filter((s) => s.file === first.file && s.line >= first.line);
      first.line = second.line;
      return undefined;
    });
    const file = moved[0]!.file.slice(moved[0]!.file.indexOf('src/') + 4);
    edit(file, (t) => {
      const lines = t.split('\n');
      lines.splice(at - 1, 0, ...Array<string>(shift).fill(''));
      return lines.join('\n');
    });
    expect(await compileInto('build')).toEqual(moved.map((s) => s.name).sort());
    await expectFresh('build');
  });

  it('takes the syncs of a file whose name is not ASCII', async () => {
    const from = join(src(), 'syncs', 'hubspot.sync');
    writeFileSync(join(src(), 'syncs', 'hübspot – ünïcode.sync'), readFileSync(from, 'utf8'));
    unlinkSync(from);
    expect((await compileInto('build')).length).toBe(13);
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');
  });

  it("takes nothing by a record that names a file outside its sync's folder", async () => {
    await compileInto('build');
    editRecord(({ syncs }) => {
      syncs.find((s) => s.files.length > 0)!.files[0] = '../manifest.json';
      return undefined;
    });
    expect((await compileInto('build')).length).toBe(13);
    await expectFresh('build');
  });

  it('takes nothing from an output another compiler wrote', async () => {
    await compileInto('build');
    editRecord((data) => {
      data.compiler = 'another';
      return undefined;
    });
    expect((await compileInto('build')).length).toBe(13);
    expect(await compileInto('build')).toEqual([]);
    await expectFresh('build');
  });
});

describe('syncs a resumed check did not reach', () => {
  it('are planned from one check of every sync where the output lacks them, and only those of that check', () => {
    const files = readSources(findSyncFiles([src()], dir).files, dir);
    const checked = check(parse(files));
    const context = compileContext(files);
    const [a, b, c, ...rest] = checked.project.syncs;
    let asked = 0;
    const build = planAndEmit({ syncs: rest }, context, undefined, undefined, {
      // `ghost` is in no file (an outline edited by hand): nothing is made of it.
      names: [a!.name, b!.name, c!.name, 'ghost'],
      take: () => undefined,
      checked: () => {
        asked++;
        return new Map(checked.project.syncs.map((s) => [s.name, s]));
      },
    });
    expect(asked).toBe(1);
    expect(build.manifest.syncs.map((s) => s.name)).toEqual(checked.project.syncs.map((s) => s.name).sort());
    expect(build.artifacts.length).toBe(checked.project.syncs.length);
  });
});

/** `syncwright ARGV` run in the temporary folder. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), colour: false, cwd: dir };
  const code = await main(argv, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('a compile of the inputs the output was compiled from', () => {
  // A dbt project (relations and columns from its artifacts), and a file with a warning (a nullable identifier).
  beforeEach(() => {
    rmSync(src(), { recursive: true, force: true });
    cpSync(join(import.meta.dirname, '..', 'examples', 'dbt-shop'), src(), { recursive: true, filter: (p) => !p.endsWith('.md') });
    writeFileSync(
      join(src(), 'warned.sync'),
      `model signups { from warehouse  table analytics.signups  columns { email string?  plan string } }
sync signups_to_crm { from signups  to crm object contacts  mode upsert  identifier email -> email }
`,
    );
  });
  const compiled = async (...more: string[]) => {
    const result = await cli('compile', 'src', '--out', 'build', ...more);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  /** The output folder `build` links to: a compile that writes anything makes a new one. */
  const written = () => readlinkSync(join(dir, 'build'));
  /** `build` holds what a compile of the same project and options into an empty folder writes (compiled once per project and options, as `freshTrees`). */
  const expectWhole = async (...more: string[]) => {
    const key = JSON.stringify([sources(), more]);
    let fresh = freshTrees.get(key);
    if (fresh === undefined) {
      rmSync(join(dir, 'fresh'), { recursive: true, force: true });
      rmSync(join(dir, '.fresh.syncwright'), { recursive: true, force: true });
      expect((await cli('compile', 'src', '--out', 'fresh', ...more)).code).toBe(0);
      fresh = tree('fresh');
      freshTrees.set(key, fresh);
    }
    expect(tree('build')).toEqual(fresh);
  };

  it('writes nothing, and reports what the compile that wrote the output reported', async () => {
    const first = await compiled();
    expect(first.stderr).toContain('warning[SW0205]');
    const output = written();
    const again = await compiled();
    expect(written()).toBe(output);
    expect(again.stdout).toBe(first.stdout);
    expect(again.stderr).toBe(first.stderr);
    // Under --strict the warning is an error: nothing is written.
    const strict = await cli('compile', 'src', '--out', 'build', '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('error[SW0205]');
    expect(written()).toBe(output);
    await expectWhole();
  });

  it('compiles again when a .sync file, a dbt artifact, an option or the output changed', async () => {
    const file = join(dir, 'build', 'customers_to_sales', 'apply.sql');
    // What changes, and the options of the compile before and after it.
    const edits: [string, () => void, string[], string[]][] = [
      [
        'a dbt artifact the check read',
        () =>
          writeFileSync(
            join(src(), 'dbt/target/manifest.json'),
            readFileSync(join(src(), 'dbt/target/manifest.json'), 'utf8').replaceAll('dbt_dev', 'dbt_staging'),
          ),
        [],
        [],
      ],
      ['a .sync file', () => writeFileSync(join(src(), 'warned.sync'), `# signups\n${readFileSync(join(src(), 'warned.sync'), 'utf8')}`), [], []],
      ['an option', () => {}, [], ['--postgres-version', '16']],
      ['another dbt target', () => {}, [], ['--target', 'prod']],
      [
        'a file of the output, with its times set back',
        () => {
          const { atime, mtime } = statSync(file);
          writeFileSync(file, readFileSync(file, 'utf8').replace('MERGE', 'merge'));
          utimesSync(file, atime, mtime);
        },
        [],
        [],
      ],
      ['a file added to the output', () => writeFileSync(join(dir, 'build', 'customers_to_hubspot', 'notes.txt'), 'mine'), [], []],
      [
        'a file of the output whose sync the record leaves out',
        () => {
          const record = join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json');
          const [key, body] = readFileSync(record, 'utf8').split('\n');
          const data = JSON.parse(body!) as { syncs: RecordedSync[] };
          data.syncs = data.syncs.filter((r) => r[slot.name] !== 'customers_to_sales');
          writeFileSync(record, `${key}\n${JSON.stringify(data)}`);
          writeFileSync(file, readFileSync(file, 'utf8').replace('MERGE', 'merge'));
        },
        [],
        [],
      ],
    ];
    for (const [what, edit, before, after] of edits) {
      await compiled(...before);
      const output = written();
      await compiled(...before);
      expect(written(), what).toBe(output);
      edit();
      await compiled(...after);
      expect(written(), what).not.toBe(output);
      await expectWhole(...after);
    }
    expect(readFileSync(file, 'utf8')).toContain('dbt_staging');
  });
});

describe('a compile after an edit', () => {
  const compiled = async (out = 'build') => {
    const result = await cli('compile', 'src', '--out', out);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  /** The check of the project now, resumed from the outline the output's compile recorded. */
  const resumed = () => {
    const io: Io = { out: () => {}, err: () => {}, colour: false, cwd: dir };
    const record = readFileSync(join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json'), 'utf8');
    const { inputs } = JSON.parse(record.slice(record.indexOf('\n') + 1)) as { inputs: BuildInputs };
    const opts = { paths: ['src'], format: 'text' as const, strict: false };
    return checkForCompile(opts, io, loadSources(opts, io), inputs.outline!.files);
  };

  it('checks only what the edit reaches, takes the other syncs as they are, and writes and reports what a whole compile does', async () => {
    // A warning the outline carries (a nullable identifier), in a file no edit below reaches.
    writeFileSync(
      join(src(), 'warned.sync'),
      `source dw2 : postgres { host "h" database "d" user "u" password env("P") }
model signups { from dw2  table analytics.signups  columns { email string?  plan string } }
sync signups_to_crm { from signups  to hubspot object contacts  mode upsert  identifier email -> email }
`,
    );
    const first = await compiled();
    expect(first.stderr).toContain('warning[SW0205]');
    // A sync of one file, and a file of the output of a sync no edit reaches (written again from a check of every sync).
    edit('syncs/hubspot.sync', (t) => t.replace('  batch      100\n', '  batch      50\n'));
    writeFileSync(join(dir, 'build', 'signups_to_crm', 'plan.json'), '{}');
    const check = resumed();
    expect(check.ok).toBe(true);
    expect(check.unchanged).toContain('signups_to_crm');
    expect(check.syncs.length).toBeGreaterThan(0);
    expect(check.syncs.length + check.unchanged.length).toBe(14);
    expect(check.syncs.map((s) => s.name)).not.toContain('signups_to_crm');

    const again = await compiled();
    expect(again.stderr).toContain('warning[SW0205]');
    rmSync(join(dir, 'fresh'), { recursive: true, force: true });
    const fresh = await compiled('fresh');
    expect(tree('build')).toEqual(tree('fresh'));
    expect(again.stdout).toBe(fresh.stdout);
    expect(again.stderr.replaceAll('fresh', 'build')).toBe(fresh.stderr.replaceAll('fresh', 'build'));

    // A model most syncs read: the whole project is checked again.
    edit('models.sync', (t) => t.replace('table       analytics.dim_accounts', 'table       analytics.dim_accounts_v2'));
    const reached = resumed();
    expect(reached.readAll).toBe(true);
    expect(reached.unchanged).toEqual([]);
    await compiled();
    await compiled('fresh');
    expect(tree('build')).toEqual(tree('fresh'));

    // An outline edited by hand into something else: the whole project is checked.
    const recordPath = join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json');
    const record = readFileSync(recordPath, 'utf8');
    const data = JSON.parse(record.slice(record.indexOf('\n') + 1)) as { inputs: BuildInputs };
    data.inputs.outline!.files = { files: [{ path: 'models.sync', entries: 'none' }] } as unknown as Outline;
    writeFileSync(recordPath, `${record.slice(0, record.indexOf('\n'))}\n${JSON.stringify(data)}`);
    edit('syncs/hubspot.sync', (t) => t.replace('  batch      50\n', '  batch      40\n'));
    await compiled();
    await compiled('fresh');
    expect(tree('build')).toEqual(tree('fresh'));

    // An edit that breaks a definition others read: the errors of a whole check, and nothing written.
    const output = readlinkSync(join(dir, 'build'));
    edit('models.sync', (t) => t.replace('model accounts {', 'model accounts2 {'));
    const broken = await cli('compile', 'src', '--out', 'build');
    const whole = await cli('check', 'src');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toBe(whole.stderr);
    expect(readlinkSync(join(dir, 'build'))).toBe(output);
  });

  it("takes a large manifest's entries as it writes the new one, and fails, leaving the output, when the manifest is edited meanwhile", async () => {
    rmSync(src(), { recursive: true, force: true });
    writeMixedProject(src(), { syncs: 1100, files: 6 });
    await compiled();
    const manifest = join(dir, 'build', 'manifest.json');
    // Read a window at a time, not held whole (src/output/kept-syncs.ts).
    expect(statSync(manifest).size).toBeGreaterThan(2 * comparedBelow);
    const moved = (n: number) => edit('f003.sync', (t) => `# moved ${n}\n${t}`);
    moved(1);
    await compiled();
    await compiled('fresh');
    expect(tree('build')).toEqual(tree('fresh'));

    // The output's manifest edited (its length unchanged) once the entries were taken from it, as the new manifest is written.
    moved(2);
    const output = readlinkSync(join(dir, 'build'));
    await expect(
      hooked(
        'writevSync',
        () => true,
        (write, ...args) => {
          writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"manifestVersion": 1', '"manifestVersion": 2'));
          return write(...args);
        },
        () => cli('compile', 'src', '--out', 'build'),
      ),
    ).rejects.toThrow('the output changed while it was being compiled: manifest.json');
    expect(readlinkSync(join(dir, 'build'))).toBe(output);
    expect(readFileSync(manifest, 'utf8')).toContain('"manifestVersion": 2');
    // Then nothing is taken by that manifest: the output is written whole again.
    await compiled();
    await compiled('fresh');
    expect(tree('build')).toEqual(tree('fresh'));
  });

  it("fails as a whole compile does on an error a sync's check reports in another file, and keeps no plan of the sync as it was", async () => {
    const proj = join(dir, 'proj');
    mkdirSync(proj);
    // Without a `map` every column of `people` is a field: `sw_rn`, which a warehouse sync's SQL keeps for itself, is reported at the model.
    writeFileSync(
      join(proj, 'models.sync'),
      `source warehouse : postgres { database "acme"  schema "analytics" }
model people { from warehouse  table analytics.people  primary key id  columns { id bigint  email string  sw_rn int } }
`,
    );
    // Models no edit reaches: the recompile checks a part of the project, not all of it.
    const other = Array.from({ length: 5 }, (_, i) => `model m${i} { from warehouse  table analytics.t${i}  primary key id  columns { id bigint } }\n`);
    writeFileSync(join(proj, 'other.sync'), other.join(''));
    const sync = (table: string, map: string) =>
      writeFileSync(join(proj, 'syncs.sync'), `sync people_copy { from people  to warehouse table ${table}  mode upsert  identifier id -> id  ${map} }\n`);
    const compile = async (out: string) => {
      rmSync(join(dir, out), { recursive: true, force: true });
      return cli('compile', 'proj', '--out', out);
    };
    const apply = (out: string) => readFileSync(join(dir, out, 'people_copy', 'apply.sql'), 'utf8');

    sync('crm.people', 'map { email -> email }');
    expect((await cli('compile', 'proj', '--out', 'build')).code).toBe(0);
    expect(apply('build')).toContain('MERGE INTO "crm"."people" ');

    sync('crm.people_v2', '');
    const again = await cli('compile', 'proj', '--out', 'build');
    const fresh = await compile('fresh');
    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toContain('error[SW0120]');
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(fresh.stderr);

    sync('crm.people_v2', 'map { email -> email }');
    expect((await cli('compile', 'proj', '--out', 'build')).code).toBe(0);
    expect(apply('build')).toContain('MERGE INTO "crm"."people_v2" ');
    expect((await compile('fresh')).code).toBe(0);
    expect(tree('build')).toEqual(tree('fresh'));
  });
});
