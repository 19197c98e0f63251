/**
 * Writing the build folder: the output is a link to a folder in `.build.syncwright/`, replaced
 * whole by one rename; the replaced output is kept there, and the next compile brings that
 * folder up to date in place; a file unchanged since the last compile is hard-linked from it
 * (and nothing else is), the rest is written afresh.
 */
import {
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
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
  writeFileSync,
} from 'node:fs';
import fs, { type PathLike } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hooked } from './support/hooked-fs.js';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { ArtifactTree, writeTreeAtomically } from '../src/output/artifact-tree.js';
import { comparedBelow, FileSystemThread } from '../src/output/file-system-thread.js';
import type { KeptEntry, Manifest } from '../src/contract/manifest.js';
import { KeptSyncs } from '../src/output/kept-syncs.js';
import { closeHome, lockOutput, openHome } from '../src/output/kept-output.js';
import { project, recordSync, audienceSync } from './fixtures/warehouse/dialects.js';

let dir: string;
let out: string;
const io = (): Io => ({ out: () => {}, err: () => {}, colour: false, cwd: process.cwd() });
let compiles = 0;
/** A whole compile, even of an unchanged project: a file of comments changes each time, so the output is never found unchanged (test/emit-incremental covers that). */
const compile = () => {
  writeFileSync(join(dir, 'src', 'compile.sync'), `# compile ${++compiles}\n`);
  return main(['compile', join(dir, 'src'), '--out', out], io());
};
const source = (syncs: string) => writeFileSync(join(dir, 'src', 'users.sync'), project('postgres', syncs));
const inode = (path: string) => statSync(join(out, path)).ino;
const home = () => join(dir, '.build.syncwright');
const kept = () => join(home(), 'previous');
/** What the outputs' folder holds, the output's own folder named `output`. */
const homeEntries = () =>
  readdirSync(home())
    .map((f) => (f === basename(readlinkSync(out)) ? 'output' : f))
    .sort();
/** Every folder and file of the output by inode. */
const inodes = () => Object.fromEntries(['.', ...readdirSync(out, { recursive: true }).map(String)].sort().map((p) => [p, inode(p)]));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncwright-tree-'));
  out = join(dir, 'build');
  mkdirSync(join(dir, 'src'));
  source(`${recordSync('mirror')}\n${audienceSync('add')}`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('recompiling into a previous output', () => {
  it('keeps unchanged files (the same file) and writes changed ones afresh', async () => {
    expect(await compile()).toBe(0);
    // Nothing to keep yet but the formatted statements and the record of the output's files, for the next compile.
    expect(readdirSync(kept()).sort()).toEqual(['.syncwright-formatted.json', '.syncwright-syncs.json']);
    const before = { plan: inode('users_mirror/plan.json'), sql: inode('users_mirror/apply.sql'), manifest: inode('manifest.json') };
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    // A new sync changes the manifest only.
    source(`${recordSync('mirror')}\n${audienceSync('add')}\n${recordSync('upsert').replace('crm.users', 'crm.users_copy')}`);
    expect(await compile()).toBe(0);
    expect(inode('users_mirror/plan.json')).toBe(before.plan);
    expect(inode('users_mirror/apply.sql')).toBe(before.sql);
    // Linked between the output and the kept previous output, nowhere else.
    expect(statSync(join(out, 'users_mirror/apply.sql')).nlink).toBe(2);
    expect(statSync(join(kept(), 'users_mirror/apply.sql')).ino).toBe(before.sql);
    expect(inode('manifest.json')).not.toBe(before.manifest);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).not.toBe(manifest);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'users_mirror', 'users_upsert', 'whales_add']);
    // The output is a link to a folder of the outputs' folder, which keeps the replaced one too, marked so that git skips them.
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    expect(readlinkSync(out)).toMatch(/^\.build\.syncwright\/output-\d+-[0-9a-f]{8}$/);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
    expect(readFileSync(join(kept(), 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readFileSync(join(home(), '.gitignore'), 'utf8')).toMatch(/^# .*\n\*\n$/);
  });

  it('makes no file or folder when nothing changed: folders come from the output before last, files from the last', async () => {
    expect(await compile()).toBe(0);
    const first = inodes();
    expect(await compile()).toBe(0);
    const second = inodes();
    expect(await compile()).toBe(0);
    const third = inodes();
    for (const [path, ino] of Object.entries(third)) {
      // The output is a link: its folder (.) and the sync folders alike.
      const isFolder = statSync(join(out, path)).isDirectory();
      expect([path, ino]).toEqual([path, isFolder ? first[path] : second[path]]);
      if (!isFolder) expect([path, statSync(join(out, path)).nlink]).toEqual([path, 2]);
    }
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'users_mirror', 'whales_add']);
    // The formatted statements and the record of the output's files are carried in the kept folder, never in the output.
    expect(readdirSync(kept()).sort()).toEqual(['.syncwright-formatted.json', '.syncwright-syncs.json', 'manifest.json', 'users_mirror', 'whales_add']);
  });

  it('removes from the reused folder the syncs and files that are gone, and anything else in it', async () => {
    source(`${recordSync('mirror')}\n${audienceSync('add')}\n${recordSync('upsert').replace('crm.users', 'crm.users_copy')}`);
    expect(await compile()).toBe(0);
    expect(await compile()).toBe(0);
    writeFileSync(join(kept(), 'users_mirror', 'notes.txt'), 'mine');
    mkdirSync(join(kept(), 'users_mirror', 'more'));
    writeFileSync(join(kept(), 'stray.sql'), 'select 1');
    source(`${recordSync('mirror')}\n${audienceSync('add')}`);
    expect(await compile()).toBe(0);
    expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual([
      'manifest.json',
      'users_mirror',
      'users_mirror/apply.sql',
      'users_mirror/plan.json',
      'whales_add',
      'whales_add/apply.sql',
      'whales_add/plan.json',
    ]);
    expect(readdirSync(kept()).sort()).toEqual([
      '.syncwright-formatted.json',
      '.syncwright-syncs.json',
      'manifest.json',
      'users_mirror',
      'users_upsert',
      'whales_add',
    ]);
  });

  it('writes nothing through a link in the kept folder, and leaves a folder of that name that is not its own', async () => {
    expect(await compile()).toBe(0);
    expect(await compile()).toBe(0);
    const outside = join(dir, 'outside.sql');
    writeFileSync(outside, 'mine');
    unlinkSync(join(kept(), 'users_mirror', 'apply.sql'));
    symlinkSync(outside, join(kept(), 'users_mirror', 'apply.sql'));
    rmSync(join(kept(), 'whales_add'), { recursive: true });
    symlinkSync(dir, join(kept(), 'whales_add'));
    expect(await compile()).toBe(0);
    expect(readFileSync(outside, 'utf8')).toBe('mine');
    expect(lstatSync(join(out, 'users_mirror', 'apply.sql')).isFile()).toBe(true);
    expect(lstatSync(join(out, 'whales_add')).isDirectory()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'outside.sql', 'src']);
  });

  it('uses no outputs folder that is not its own, nor one that is a link: the compile is refused and touches nothing', async () => {
    const errors: string[] = [];
    const refused = () => main(['compile', join(dir, 'src'), '--out', out], { ...io(), err: (t) => errors.push(t) });
    mkdirSync(home());
    writeFileSync(join(home(), 'notes.txt'), 'mine');
    expect(await refused()).toBe(2);
    expect(errors.pop()).toMatch(/refusing to use .*\.build\.syncwright: it holds files that are not syncwright's/);
    expect(readdirSync(home())).toEqual(['notes.txt']);
    rmSync(home(), { recursive: true });
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'elsewhere'), home());
    expect(await refused()).toBe(2);
    expect(errors.pop()).toMatch(/refusing to use .*\.build\.syncwright: it is not a folder/);
    expect(readdirSync(join(dir, 'elsewhere'))).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'elsewhere', 'src']);
  });

  it('rewrites a file that was edited, and one that something else also links to', async () => {
    expect(await compile()).toBe(0);
    const sql = readFileSync(join(out, 'users_mirror/apply.sql'), 'utf8');
    writeFileSync(join(out, 'users_mirror/apply.sql'), 'edited');
    const outside = join(dir, 'kept.json');
    linkSync(join(out, 'whales_add/plan.json'), outside);
    const linked = statSync(outside).ino;
    expect(await compile()).toBe(0);
    expect(readFileSync(join(out, 'users_mirror/apply.sql'), 'utf8')).toBe(sql);
    expect(inode('whales_add/plan.json')).not.toBe(linked);
    // Its partner is now in the kept folder, which the next compile does not reuse it from.
    expect(await compile()).toBe(0);
    expect(inode('whales_add/plan.json')).not.toBe(linked);
    expect(statSync(outside).nlink).toBe(1);
  });

  it('writes a regular file where the previous output had a symbolic link', async () => {
    expect(await compile()).toBe(0);
    const path = join(out, 'users_mirror/plan.json');
    const copy = join(dir, 'plan-copy.json');
    writeFileSync(copy, readFileSync(path));
    unlinkSync(path);
    symlinkSync(copy, path);
    expect(await compile()).toBe(0);
    expect(statSync(path).isFile()).toBe(true);
    expect(inode('users_mirror/plan.json')).not.toBe(statSync(copy).ino);
  });
});

describe('many syncs', () => {
  // Enough syncs that the helper thread usually takes folders from the end while the writer is still busy.
  const syncs = Array.from({ length: 400 }, (_, i) => recordSync('upsert').replace('sync users_upsert', `sync users_${i}`)).join('\n');

  it('writes the same tree, whichever thread writes which folder, and leaves nothing beside it', async () => {
    source(syncs);
    expect(await compile()).toBe(0);
    const first = readdirSync(out, { recursive: true }).sort();
    const files = first.filter((f) => String(f).includes('.')).map((f) => [f, readFileSync(join(out, String(f)), 'utf8')]);
    expect(first).toHaveLength(1 + 400 * 3);
    expect(await compile()).toBe(0);
    expect(readdirSync(out, { recursive: true }).sort()).toEqual(first);
    for (const [f, text] of files) expect(readFileSync(join(out, String(f)), 'utf8')).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
  });
});

describe('links in the previous output', () => {
  it('replaces an output that is a link to a folder, and leaves that folder and its files alone', async () => {
    expect(await compile()).toBe(0);
    const elsewhere = join(dir, 'elsewhere');
    cpSync(out, elsewhere, { recursive: true, dereference: true });
    unlinkSync(out);
    symlinkSync(elsewhere, out);
    const files = readdirSync(elsewhere, { recursive: true }).sort();
    expect(await compile()).toBe(0);
    expect(readlinkSync(out)).toMatch(/^\.build\.syncwright\/output-/);
    expect(readdirSync(elsewhere, { recursive: true }).sort()).toEqual(files);
    expect(inode('users_mirror/apply.sql')).not.toBe(statSync(join(elsewhere, 'users_mirror/apply.sql')).ino);
  });

  it('does not reuse files through a sync folder that is a link', async () => {
    expect(await compile()).toBe(0);
    const elsewhere = join(dir, 'elsewhere');
    renameSync(join(out, 'users_mirror'), elsewhere);
    symlinkSync(elsewhere, join(out, 'users_mirror'));
    expect(await compile()).toBe(0);
    expect(lstatSync(join(out, 'users_mirror')).isDirectory()).toBe(true);
    expect(inode('users_mirror/apply.sql')).not.toBe(statSync(join(elsewhere, 'apply.sql')).ino);
    expect(readdirSync(elsewhere).sort()).toEqual(['apply.sql', 'plan.json']);
  });
});

describe('beside the output', () => {
  const lock = () => join(home(), 'lock');

  it('holds a lock while it compiles: a running compile of the same output stops another, a dead one does not', async () => {
    expect(await compile()).toBe(0);
    const before = homeEntries();
    writeFileSync(lock(), `${process.pid}\n`);
    const errors: string[] = [];
    expect(await main(['compile', join(dir, 'src'), '--out', out], { ...io(), err: (t) => errors.push(t) })).toBe(2);
    expect(errors.join('\n')).toContain(`another compile (process ${process.pid}) is writing build`);
    expect(homeEntries()).toEqual([...before, 'lock'].sort());
    // The process of a killed compile is gone: its lock is taken over.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock(), `${gone}\n`);
    expect(await compile()).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
  });

  it('takes a lock over only when its process is gone, and only the very file it found so', async () => {
    expect(await compile()).toBe(0);
    // A lock with no id yet is one another compile has just made.
    writeFileSync(lock(), '');
    const errors: string[] = [];
    expect(await main(['compile', join(dir, 'src'), '--out', out], { ...io(), err: (t) => errors.push(t) })).toBe(2);
    expect(errors.join('\n')).toContain('another compile (a process that has not yet written its id) is writing build');
    expect(readFileSync(lock(), 'utf8')).toBe('');
    // A dead process's lock, which another compile takes over between this one's reading it and moving it aside.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock(), `${gone}\n`);
    await hooked(
      'renameSync',
      (from) => from === lock(),
      (rename, from, to) => {
        rmSync(lock());
        writeFileSync(lock(), `${process.pid}\n`, { flag: 'wx' });
        return rename(from, to);
      },
      () => expect(() => lockOutput(home(), 'build')).toThrow(/another compile \(another process\) is writing build/),
    );
    expect(readFileSync(lock(), 'utf8')).toBe(`${process.pid}\n`);
    expect(homeEntries()).toEqual(['.gitignore', 'lock', 'output', 'previous']);
    rmSync(lock());
  });

  it.each([
    ['this one makes it again', false],
    ['a third compile makes it again first', true],
  ])("goes on when a first compile that failed removes the outputs' folder just before this one locks it: %s", async (_, third) => {
    // The other compile lets its lock go and removes the folder (closeHome) after this one opened it.
    let removed = false;
    const status = await hooked(
      'writeFileSync',
      (path) => typeof path === 'string' && basename(path).startsWith(`lock-${process.pid}-`),
      (write, ...args) => {
        closeHome(out, home());
        removed = true;
        try {
          return write(...args);
        } finally {
          if (third) openHome(out);
        }
      },
      compile,
    );
    expect(status).toBe(0);
    expect(removed).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
  });

  it("writes the outputs' folder's marker again when a first compile that failed removed it and was killed", async () => {
    // That compile removed the marker (closeHome) after this one opened the folder, and was killed before putting it back.
    let markedWhileCompiling = false;
    const status = await hooked(
      'linkSync',
      (_, to) => to === lock(),
      (link, ...args) => {
        rmSync(join(home(), '.gitignore'));
        return link(...args);
      },
      // Written again as soon as the lock is taken: there while the output is swapped in.
      () =>
        hooked(
          'symlinkSync',
          () => true,
          (symlink, ...args) => {
            markedWhileCompiling = existsSync(join(home(), '.gitignore'));
            return symlink(...args);
          },
          compile,
        ),
    );
    expect(status).toBe(0);
    expect(markedWhileCompiling).toBe(true);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
    expect(await compile()).toBe(0);
    // Removed later, while the output is swapped in: written again before the lock is let go.
    const swapped = await hooked(
      'symlinkSync',
      () => true,
      (symlink, ...args) => {
        rmSync(join(home(), '.gitignore'));
        return symlink(...args);
      },
      compile,
    );
    expect(swapped).toBe(0);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
  });

  it("takes the outputs' folder for its own when its marker is gone and it holds only another compile's lock", async () => {
    // A first compile that failed removed the marker, and another compile has made its lock there since (closeHome puts the marker back).
    mkdirSync(home());
    writeFileSync(join(home(), `lock-${process.pid}-0123abcd`), `${process.pid}\n`);
    writeFileSync(lock(), `${process.pid}\n`);
    const errors: string[] = [];
    expect(await main(['compile', join(dir, 'src'), '--out', out], { ...io(), err: (t) => errors.push(t) })).toBe(2);
    expect(errors.join('\n')).toContain(`another compile (process ${process.pid}) is writing build`);
    expect(readdirSync(home()).sort()).toEqual(['.gitignore', 'lock', `lock-${process.pid}-0123abcd`]);
  });

  it("makes the outputs' folder again when a first compile that failed removes it while this one opens it", async () => {
    openHome(out);
    // This compile finds the folder there (mkdir: EEXIST), and it is removed (closeHome) before it looks at it.
    const status = await hooked(
      'mkdirSync',
      (path) => path === home(),
      (mkdir, ...args) => {
        try {
          return mkdir(...args);
        } finally {
          closeHome(out, home());
        }
      },
      compile,
    );
    expect(status).toBe(0);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
  });

  it("removes the outputs' folder of a first compile that failed only while it is empty", async () => {
    const marker = readFileSync(join(openHome(out), '.gitignore'), 'utf8');
    closeHome(out, home());
    expect(readdirSync(dir).sort()).toEqual(['src']);
    // Another compile makes its lock there between this one's look and its removal.
    openHome(out);
    await hooked(
      'readdirSync',
      (path) => path === home(),
      (read, ...args) => {
        const names = read(...args);
        writeFileSync(lock(), `${process.pid}\n`);
        return names;
      },
      () => closeHome(out, home()),
    );
    expect(readdirSync(home()).sort()).toEqual(['.gitignore', 'lock']);
    expect(readFileSync(join(home(), '.gitignore'), 'utf8')).toBe(marker);
  });

  it('lets go of its lock only while it is the lock it made', async () => {
    mkdirSync(home(), { recursive: true });
    const release = lockOutput(home(), 'build');
    expect(readFileSync(lock(), 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(home())).toEqual(['lock']);
    // Another compile's, in its place (this one's was taken over by mistake).
    rmSync(lock());
    writeFileSync(lock(), '4242\n');
    release();
    expect(readFileSync(lock(), 'utf8')).toBe('4242\n');
    rmSync(lock());
  });

  it('makes its lock where files cannot be linked, and leaves the lock files other compiles are at work on', async () => {
    mkdirSync(home(), { recursive: true });
    const link = fs.linkSync;
    // As Windows reports a hard link on FAT.
    fs.linkSync = ((from: PathLike, to: PathLike) => {
      if (to === lock()) throw Object.assign(new Error('EISDIR: illegal operation on a directory, link'), { code: 'EISDIR' });
      return link(from, to);
    }) as typeof link;
    syncBuiltinESMExports();
    try {
      lockOutput(home(), 'build')();
    } finally {
      fs.linkSync = link;
      syncBuiltinESMExports();
    }
    expect(readdirSync(home())).toEqual([]);
    expect(await compile()).toBe(0);
    // A lock a running compile moved aside, which it may yet put back, stays; a killed one's goes.
    const atWork = `lock-${process.pid}-0a1b2c3d4e5f6071`;
    writeFileSync(join(home(), atWork), '4242\n');
    writeFileSync(join(home(), `lock-${spawnSync(process.execPath, ['-e', '0']).pid!}-0a1b2c3d4e5f6071`), '4242\n');
    expect(await compile()).toBe(0);
    expect(homeEntries()).toEqual(['.gitignore', atWork, 'output', 'previous']);
    rmSync(join(home(), atWork));
  });

  it('removes what an interrupted compile of the output left, and nothing of another output', async () => {
    expect(await compile()).toBe(0);
    const left = ['output-4242-0a1b2c3d', '4242-0a1b2c3d-staging', '4242-0a1b2c3d-link'].map((f) => join(home(), f));
    const other = join(dir, '.other.syncwright', 'output-4242-0a1b2c3d');
    for (const folder of [...left, other]) {
      mkdirSync(join(folder, 'users_mirror'), { recursive: true });
      writeFileSync(join(folder, 'users_mirror', 'apply.sql'), 'x');
    }
    expect(await compile()).toBe(0);
    expect(homeEntries()).toEqual(['.gitignore', 'output', 'previous']);
    expect(readdirSync(join(dir, '.other.syncwright'))).toEqual(['output-4242-0a1b2c3d']);
  });

  it('takes a named pipe for manifest.json as a folder it did not write, without waiting on it', async () => {
    mkdirSync(out);
    execFileSync('mkfifo', [join(out, 'manifest.json')]);
    expect(await main(['compile', join(dir, 'src'), '--out', out], io())).toBe(2);
  });

  it('does not trip over folders in the output named like its own', async () => {
    expect(await compile()).toBe(0);
    mkdirSync(join(out, '.syncwright-discarded-1'));
    for (let i = 0; i < 3; i++) expect(await compile()).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'users_mirror', 'whales_add']);
  });
});

describe('writeTreeAtomically', () => {
  it('refuses two sync folders that differ only in case, or a name that is not one folder', async () => {
    expect(await compile()).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, 'users_mirror/plan.json'), 'utf8'));
    const named = (name: string) => ({ plan: { ...plan, sync: { ...plan.sync, name } }, files: [] });
    await expect(writeTreeAtomically(out, (tree) => [named('users_mirror'), named('Users_Mirror')].forEach((a) => tree.addSync(a)))).rejects.toThrow(
      'but for case',
    );
    for (const name of ['..', 'a/b', '.hidden'])
      await expect(writeTreeAtomically(out, (tree) => tree.addSync(named(name)))).rejects.toThrow('cannot be a folder');
    expect(readdirSync(out).sort()).toEqual(['manifest.json', 'users_mirror', 'whales_add']);
  });

  it('leaves the previous output and nothing else when filling fails', async () => {
    expect(await compile()).toBe(0);
    const files = readdirSync(out, { recursive: true }).sort();
    await expect(
      writeTreeAtomically(out, () => {
        throw new Error('planning failed');
      }),
    ).rejects.toThrow('planning failed');
    expect(readdirSync(out, { recursive: true }).sort()).toEqual(files);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    // The output and nothing else: the kept folder it was filling is gone with it.
    expect(homeEntries()).toEqual(['.gitignore', 'output']);
  });

  // The files' bytes go through a ring of 4 MB that the threads free as they write: more than it holds, and one file bigger than it.
  it('writes every byte in place when the files are more than the ring holds, and a file bigger than the ring', async () => {
    expect(await compile()).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, 'users_mirror/plan.json'), 'utf8'));
    // Each file's text says where it belongs, all through, and the sizes vary so that batches end anywhere in the ring.
    const text = (i: number, size: number) => `-- sync_${i} ${'é'.repeat(i % 7)}\n`.repeat(Math.ceil(size / 20)).slice(0, size);
    const sizes = Array.from({ length: 120 }, (_, i) => (i === 77 ? (17 << 20) + 3 : 300_000 + i * 997));
    await writeTreeAtomically(out, (tree) => {
      sizes.forEach((size, i) =>
        tree.addSync({ plan: { ...plan, sync: { ...plan.sync, name: `sync_${i}` } }, files: [{ name: 'a.sql', content: text(i, size) }] }),
      );
    });
    expect(readdirSync(out).length).toBe(sizes.length);
    sizes.forEach((size, i) => expect(readFileSync(join(out, `sync_${i}/a.sql`), 'utf8') === text(i, size), `sync_${i}/a.sql`).toBe(true));
  });

  it('writes a manifest too big to be compared from its parts, the entries taken from the output as they are', async () => {
    expect(await compile()).toBe(0);
    const { syncs, ...head } = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    // 1,000 entries of some 1.2 KB, names in the manifest's order; the last 250 as a recompile takes them, their text the output's bytes.
    const entries = Array.from({ length: 1000 }, (_, i) => ({ ...syncs[0]!, name: `sync_${String(i).padStart(3, '0')}`, line: i + 1 }));
    const taken: KeptEntry[] = entries.slice(750).map((e) => ({
      sync: {
        name: e.name,
        kind: e.kind,
        mode: e.mode,
        destination: { name: e.destination.name, type: e.destination.type },
        files: e.files,
        inputHash: e.inputHash,
        file: e.file,
        line: e.line,
      },
      text: Buffer.from(JSON.stringify(e, null, 2).split('\n').join('\n    ')),
    }));
    // The folder reused holds what it may: a file named as a process's temporary manifest was.
    writeFileSync(join(kept(), `.manifest-${process.pid}.json`), 'stray');
    await writeTreeAtomically(out, (tree) => tree.addManifest({ ...head, syncs: entries.slice(0, 750) } as Manifest, taken));
    const text = readFileSync(join(out, 'manifest.json'), 'utf8');
    expect(text.length).toBeGreaterThan(comparedBelow);
    expect(text).toBe(`${JSON.stringify({ ...head, syncs: entries }, null, 2)}\n`);
    expect(readdirSync(out)).toEqual(['manifest.json']);
  });

  it('reports a file it cannot write while more are queued than the ring holds, and leaves the previous output', async () => {
    expect(await compile()).toBe(0);
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    const plan = JSON.parse(readFileSync(join(out, 'users_mirror/plan.json'), 'utf8'));
    const refused = writeTreeAtomically(out, (tree) => {
      tree.addSync({ plan, files: [{ name: `${'x'.repeat(300)}.sql`, content: 'x' }] });
      // 48 MB after it: were the failed thread's folders waited for, this would never return.
      for (let i = 0; i < 48; i++)
        tree.addSync({ plan: { ...plan, sync: { ...plan.sync, name: `s${i}` } }, files: [{ name: 'a.sql', content: 'x'.repeat(1 << 20) }] });
    });
    await expect(refused).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    expect(homeEntries()).toEqual(['.gitignore', 'output']);
  });

  // A thread that died without saying so (it never started, or was aborted) cannot be heard by a main thread waiting for ring space.
  it('does not wait for ever for ring space when a file system thread died without saying so', async () => {
    expect(await compile()).toBe(0);
    const plan = JSON.parse(readFileSync(join(out, 'users_mirror/plan.json'), 'utf8'));
    const temp = mkdtempSync(join(tmpdir(), 'syncwright-dead-thread-'));
    const flow = new SharedArrayBuffer(8);
    const writer = new FileSystemThread({ temp, previous: undefined, reused: undefined, keptNames: [], tag: 'dead', flow });
    await writer.stop();
    try {
      // A stall of 20 ms: each folder past the ring waits that long for a thread that is gone.
      const tree = new ArtifactTree(temp, writer, undefined, new KeptSyncs(), flow, 20);
      // 24 MB: past the 4 MB ring, which nothing frees. Before, this blocked in Atomics.wait for ever.
      for (let i = 0; i < 24; i++)
        tree.addSync({ plan: { ...plan, sync: { ...plan.sync, name: `s${i}` } }, files: [{ name: 'a.sql', content: 'x'.repeat(1 << 20) }] });
      tree.flush();
      await expect(writer.ask({ end: true })).rejects.toThrow(/stopped/);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });

  it('reports a file it cannot write, and leaves the previous output', async () => {
    expect(await compile()).toBe(0);
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    // A file that cannot be made: its name is longer than the file system allows.
    const refused = writeTreeAtomically(out, (tree) => {
      const plan = JSON.parse(readFileSync(join(out, 'users_mirror/plan.json'), 'utf8'));
      tree.addSync({ plan, files: [{ name: `${'x'.repeat(300)}.sql`, content: 'x' }] });
    });
    await expect(refused).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build', 'src']);
    expect(homeEntries()).toEqual(['.gitignore', 'output']);
  });
});
