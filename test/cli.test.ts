/**
 * The `check` command through `main(argv, io)`: exit codes, the three output formats, colour,
 * --strict, and bad input that must end in a diagnostic or a usage error, never a stack trace.
 * The last block runs the built CLI (`node bin/syncwright.js`) as a user would.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { summaryTable } from '../src/cli/compile-command.js';
import type { SyncSummary } from '../src/contract/manifest.js';
import { processIo, type Io } from '../src/cli/output.js';
import { ensureBuilt } from './support/build.js';
// @ts-expect-error: the bench's generator is plain JavaScript
import { writeMixedProject } from '../bench/mixed-project.js';

const repo = join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const ansi = /\u001b\[[0-9;]*m/;
const stackTrace = /\n\s+at .+[(:]\d+/;

/** A project in a fresh temporary folder; `check` runs from inside it so paths print relative. */
function project(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'syncwright-cli-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const made: string[] = [];
const home = process.cwd();
afterEach(() => process.chdir(home));
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function run(files: Record<string, string | Buffer>, argv: string[], colour = false) {
  const dir = project(files);
  made.push(dir);
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), colour, cwd: dir };
  process.chdir(dir);
  const code = await main(argv, io);
  process.chdir(home);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

const clean = {
  'project.sync': `source wh : postgres { database "acme" }
model users { from wh  table analytics.users  columns { email string  plan string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync users_to_crm { from users  to crm object contacts  mode upsert  identifier email -> email }
`,
};
// One warning: the identifier column is nullable.
const warning = {
  'project.sync': `source wh : postgres { database "acme" }
model users { from wh  table analytics.users  columns { email string?  plan string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync users_to_crm { from users  to crm object contacts  mode upsert  identifier email -> email }
`,
};
const error = {
  'crm.sync': `destination marketing : hubspt {
  token env("HUBSPOT_TOKEN")
}
`,
};

describe('exit codes', () => {
  it.each([
    ['a clean project', clean, ['check', '.'], 0, /^checked 1 file, 1 sync: ok$/],
    ['the current folder by default', clean, ['check'], 0, /^checked 1 file, 1 sync: ok$/],
    ['warnings only', warning, ['check'], 0, /0 errors, 1 warning\nchecked 1 file, 1 sync: ok$/],
    ['warnings under --strict', warning, ['check', '--strict'], 1, /^error\[SW0205\]/],
    ['errors', error, ['check', 'crm.sync'], 1, /^error\[SW0104\][\s\S]*1 error, 0 warnings$/],
    ['an unknown command', clean, ['frobnicate'], 2, /^syncwright: Unknown argument: frobnicate\nRun 'syncwright --help' for usage\.$/],
    ['no command', clean, [], 2, /^syncwright: name a command: check/],
    ['a missing path', clean, ['check', 'missing.sync'], 2, /^syncwright: no such file or folder: missing\.sync\n/],
    ['an unknown --format', clean, ['check', '--format', 'xml'], 2, /Given: "xml", Choices: "text", "json", "github"/],
    [
      'a folder with no .sync files: clean, and says it checked nothing',
      { 'README.md': '# nothing here' },
      ['check'],
      0,
      /^no \.sync file under the current folder\nchecked 0 files, 0 syncs: ok$/,
    ],
    ['an empty file', { 'empty.sync': '' }, ['check'], 0, /^checked 1 file, 0 syncs: ok$/],
    ['a file of comments only', { 'notes.sync': '# to do\n/* later */\n' }, ['check'], 0, /^checked 1 file, 0 syncs: ok$/],
    [
      'a binary file',
      { 'logo.sync': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) },
      ['check'],
      1,
      /^error\[SW0003\]: cannot read logo\.sync: it is a binary file, not text/,
    ],
    [
      'a file that is not UTF-8',
      { 'latin1.sync': Buffer.from('source caf\xe9 : postgres { database "a" }', 'latin1') },
      ['check'],
      1,
      /^error\[SW0003\]: cannot read latin1\.sync: it is not UTF-8 text \(an invalid byte at line 1, column 11\)/,
    ],
  ] as const)('%s', async (_, files, argv, code, stderr) => {
    const r = await run(files, [...argv]);
    expect(r.stderr).toMatch(stderr);
    expect(r.code).toBe(code);
    expect(r.stderr).not.toMatch(stackTrace);
  });

  it('reads folders recursively, those named build or dist too, but not node_modules, hidden folders or what a compile wrote', async () => {
    const other = 'destination hook : webhook { url "https://hooks.acme.io" }\n';
    const r = await run(
      {
        ...clean,
        'more/deeper/other.sync': other,
        'build/hooks.sync': other.replace('hook :', 'build_hook :'),
        'dist/hooks.sync': other.replace('hook :', 'dist_hook :'),
        'node_modules/pkg/bad.sync': 'not a sync file',
        '.cache/bad.sync': 'not a sync file',
        'notes.txt': 'not a sync file',
      },
      ['check'],
    );
    expect(r.stderr).toBe('checked 4 files, 1 sync: ok');
    expect(r.code).toBe(0);
  });

  it('skips the folders a compile wrote, whatever their name, and says what it skipped when it finds nothing', async () => {
    const r = await run(clean, ['compile', '--out', 'artifacts']);
    expect(r.code).toBe(0);
    const dir = made.at(-1)!;
    // A .sync file inside the output (say, copied there by hand) is not part of the project.
    writeFileSync(join(dir, 'artifacts', 'stray.sync'), 'not a sync file');
    rmSync(join(dir, 'project.sync'));
    mkdirSync(join(dir, 'node_modules'));
    const out: string[] = [];
    const err: string[] = [];
    expect(await main(['check'], { out: (t) => out.push(t), err: (t) => err.push(t), colour: false, cwd: dir })).toBe(0);
    expect(err).toEqual([
      "no .sync file under the current folder; not read: artifacts (a compile's output), node_modules (packages)",
      'checked 0 files, 0 syncs: ok',
    ]);
  });
  it('says a path given is a link in a loop, not that it is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncwright-loop-'));
    try {
      symlinkSync('loop.sync', join(dir, 'loop.sync'));
      const err: string[] = [];
      expect(await main(['check', 'loop.sync'], { out: () => undefined, err: (t) => err.push(t), colour: false, cwd: dir })).toBe(2);
      expect(err.join('\n')).toMatch(/^syncwright: cannot read loop\.sync: ELOOP\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which folder it cannot read, and stops, rather than leave its .sync files out or print a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncwright-unreadable-'));
    try {
      writeFileSync(join(dir, 'project.sync'), clean['project.sync']!);
      // A folder that cannot be listed, whoever runs this (root reads a folder of mode 000): 21
      // names of 200 bytes, a path longer than the system takes (PATH_MAX, 4096 bytes on Linux).
      const nest = "const fs = require('node:fs'); for (let i = 0; i < 21; i++) { fs.mkdirSync('d'.repeat(200)); process.chdir('d'.repeat(200)); }";
      expect(spawnSync(process.execPath, ['-e', nest], { cwd: dir }).status).toBe(0);
      const err: string[] = [];
      expect(await main(['check'], { out: () => undefined, err: (t) => err.push(t), colour: false, cwd: dir })).toBe(2);
      expect(err.join('\n')).toMatch(
        /^syncwright: cannot read folder (d{200}\/){19,}d{200}: ENAMETOOLONG; a \.sync file in it would be left out of the project: make it readable, or name the project's folders or files instead of a folder that holds it\n/,
      );
    } finally {
      // rm(1) removes a tree deeper than a path can name.
      spawnSync('rm', ['-rf', dir]);
    }
  });
});

describe("the heap of the CLI's own process", () => {
  it('is collected once a compile is checked, kept tight while planning, then let go; not when the check fails, nor by a library caller', async () => {
    // The CLI's process has the hook (src/cli/heap.ts); a caller of main() with its own Io does not.
    expect(processIo().checked).toBeTypeOf('function');
    const calls: string[] = [];
    // A compile in `dir` whose hook and lines go to `calls`.
    const compileIn = (dir: string, out = 'build') => {
      const io: Io = {
        out: () => undefined,
        err: (t) => calls.push(t.split('\n')[0]!),
        colour: false,
        cwd: dir,
        checked: () => {
          calls.push('checked');
          return () => calls.push('planned');
        },
      };
      return main(['compile', dir, '--out', join(dir, out)], io);
    };
    const compile = async (files: Record<string, string>, out = 'build') => {
      const dir = project(files);
      made.push(dir);
      return compileIn(dir, out);
    };
    expect(await compile(clean)).toBe(0);
    // Before the line that ends the compile: planning comes after the hook.
    expect(calls).toEqual(['checked', expect.stringMatching(/^compiled 1 sync into /), 'planned']);
    calls.length = 0;
    expect(await compile(error)).toBe(1);
    expect(calls).not.toContain('checked');
    // A compile that fails after its check (here: the output is a file of the user's) lets the heap go all the same.
    calls.length = 0;
    expect(await compile({ ...clean, 'notes.txt': 'mine' }, 'notes.txt')).toBe(2);
    expect(calls).toEqual(['checked', 'planned', expect.stringMatching(/refusing to replace .*notes\.txt/)]);
    // A recompile whose check resumed from the last one's read few trees: nothing to collect.
    const example = join(import.meta.dirname, '..', 'examples', 'b2b-saas');
    const names = ['sources.sync', 'destinations.sync', 'models.sync', 'audiences.sync', 'syncs/hubspot.sync', 'syncs/salesforce.sync', 'syncs/warehouse.sync'];
    const dir = project(Object.fromEntries(names.map((n) => [n, readFileSync(join(example, n), 'utf8')])));
    made.push(dir);
    calls.length = 0;
    expect(await compileIn(dir)).toBe(0);
    expect(calls).toEqual(['checked', expect.stringMatching(/^compiled 13 syncs/), 'planned']);
    writeFileSync(join(dir, 'syncs/hubspot.sync'), readFileSync(join(dir, 'syncs/hubspot.sync'), 'utf8').replace('  batch      100\n', '  batch      50\n'));
    calls.length = 0;
    expect(await compileIn(dir)).toBe(0);
    expect(calls).toEqual([expect.stringMatching(/^compiled 13 syncs/)]);
  });
});

describe("a compile's check", () => {
  it('holds no project, and so none of its trees, once it returns: planning keeps what it needs, not the trees', () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'syncwright-held-'));
    made.push(dir);
    writeMixedProject(join(dir, 'p'), { syncs: 100, files: 2 });
    // In a process of its own, on the build (the test runner's module transform keeps more alive than the build does): the projects
    // a heap snapshot finds while the check's result is held, beside one held on purpose (so that the count can see one).
    const script = `
      import { readFileSync } from 'node:fs';
      import { writeHeapSnapshot } from 'node:v8';
      const { checkForCompile } = await import(${JSON.stringify(join(repo, 'dist', 'cli', 'check-command.js'))});
      const { Project } = await import(${JSON.stringify(join(repo, 'dist', 'check', 'project.js'))});
      const { loadSources } = await import(${JSON.stringify(join(repo, 'dist', 'files.js'))});
      const io = { out() {}, err() {}, colour: false, cwd: ${JSON.stringify(dir)} };
      const opts = { paths: ['p'], format: 'json', strict: false };
      const checked = checkForCompile(opts, io, loadSources(opts, io));
      const held = new Project([]);
      const snapshot = JSON.parse(readFileSync(writeHeapSnapshot(${JSON.stringify(join(dir, 'heap.heapsnapshot'))}), 'utf8'));
      const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
      const [type, name] = [fields.indexOf('type'), fields.indexOf('name')];
      let projects = 0;
      for (let i = 0; i < snapshot.nodes.length; i += fields.length)
        if (types[snapshot.nodes[i + type]] === 'object' && snapshot.strings[snapshot.nodes[i + name]] === 'Project') projects++;
      console.log(JSON.stringify({ ok: checked.ok, syncs: checked.syncs.length, held: held.paths.length, projects }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // The one held on purpose, and not the check's (on c36f33c, a closure of checkForCompile that referred to the project: 2).
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, syncs: 101, held: 0, projects: 1 });
  });
});

describe('--format json', () => {
  it('prints exactly the documented shape, lines and columns 1-based, on stdout', async () => {
    const r = await run({ ...error, ...warning }, ['check', '--format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    // Compared as text so the key order is part of the contract.
    expect(r.stdout).toBe(
      JSON.stringify({
        diagnostics: [
          {
            code: 'SW0104',
            severity: 'error',
            message: 'unknown destination type `hubspt`',
            file: 'crm.sync',
            line: 1,
            column: 25,
            endLine: 1,
            endColumn: 31,
            hints: ['did you mean `hubspot`?'],
            fixes: [{ title: 'write `hubspot`', file: 'crm.sync', line: 1, column: 25, endLine: 1, endColumn: 31, replacement: 'hubspot' }],
          },
          {
            code: 'SW0205',
            severity: 'warning',
            message: 'identifier column `email` is nullable: rows where it is NULL are skipped',
            file: 'project.sync',
            line: 4,
            column: 81,
            endLine: 4,
            endColumn: 86,
            hints: ['declare the column non-null (drop the `?`) if it never is, or filter NULLs in the model'],
          },
        ],
      }),
    );
  });

  it('points at column 1 of line 1 as 1:1', async () => {
    const r = await run({ 'a.sync': 'sauce wh : postgres {}\n' }, ['check', '--format', 'json']);
    const d = (JSON.parse(r.stdout) as { diagnostics: { line: number; column: number; code: string }[] }).diagnostics;
    expect(d.map((x) => [x.code, x.line, x.column])).toEqual([['SW0012', 1, 1]]);
  });

  it('gives the places a diagnostic is also about as `related`', async () => {
    const r = await run({ ...clean, 'more.sync': 'model users { from wh  table b  columns { id int } }\n' }, ['check', '--format', 'json']);
    const d = (JSON.parse(r.stdout) as { diagnostics: unknown[] }).diagnostics;
    expect(d[0]).toEqual({
      code: 'SW0101',
      severity: 'error',
      message: 'model `users` is defined twice',
      file: 'project.sync',
      line: 2,
      column: 7,
      endLine: 2,
      endColumn: 12,
      hints: ['names are shared by every kind in the project: rename one of them'],
      related: [{ message: 'the first `users` is the model defined here', file: 'more.sync', line: 1, column: 7, endLine: 1, endColumn: 12 }],
    });
  });

  it('names related places and fixes by their path from the working folder, as the diagnostic', async () => {
    // The project is checked under names relative to its root (proj/); the user reaches its files as proj/...
    const files = {
      'proj/a.sync': 'source wh : postgres { database "acme" }\n',
      'proj/b.sync': 'destination wh : webhook { url "https://x.io" }\ndestination crm : hubspt { token env("T") }\n',
    };
    const r = await run(files, ['check', '--format', 'json', 'proj']);
    const d = (JSON.parse(r.stdout) as { diagnostics: { file: string; related?: { file: string }[]; fixes?: { file: string }[] }[] }).diagnostics;
    expect(d.map((x) => [x.file, x.related?.map((p) => p.file), x.fixes?.map((p) => p.file)])).toEqual([
      ['proj/b.sync', ['proj/a.sync'], undefined],
      ['proj/b.sync', undefined, ['proj/b.sync']],
    ]);
  });

  it('prints an empty list for a clean project, and nothing else', async () => {
    const r = await run(clean, ['check', '--format', 'json']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '{"diagnostics":[]}', '']);
  });

  it('marks warnings as errors under --strict', async () => {
    const r = await run(warning, ['check', '--format', 'json', '--strict']);
    const d = (JSON.parse(r.stdout) as { diagnostics: { code: string; severity: string }[] }).diagnostics;
    expect(d.map((x) => [x.code, x.severity])).toEqual([['SW0205', 'error']]);
    expect(r.code).toBe(1);
  });
});

describe('--format github', () => {
  it.each([
    [
      'an error and a warning',
      { ...error, ...warning },
      [],
      [
        '::error file=crm.sync,line=1,col=25,endLine=1,endColumn=31,title=SW0104::unknown destination type `hubspt`%0Ahint: did you mean `hubspot`?',
        '::warning file=project.sync,line=4,col=81,endLine=4,endColumn=86,title=SW0205::identifier column `email` is nullable: rows where it is NULL are skipped%0Ahint: declare the column non-null (drop the `?`) if it never is, or filter NULLs in the model',
      ],
    ],
    [
      'a related place, as a note',
      { 'a.sync': 'source wh : postgres { database "acme" }\n', 'b.sync': 'destination wh : webhook { url "https://x.io" }\n' },
      [],
      [
        '::error file=b.sync,line=1,col=13,endLine=1,endColumn=15,title=SW0101::destination `wh` is defined twice%0Ahint: names are shared by every kind in the project: rename one of them%0Anote: the first `wh` is the source defined here: a.sync:1:8',
      ],
    ],
    [
      'a warning under --strict',
      warning,
      ['--strict'],
      [
        '::error file=project.sync,line=4,col=81,endLine=4,endColumn=86,title=SW0205::identifier column `email` is nullable: rows where it is NULL are skipped%0Ahint: declare the column non-null (drop the `?`) if it never is, or filter NULLs in the model',
      ],
    ],
    [
      'escaping: `,` and `:` in a file name, `%` in a message',
      {
        'a,b:c.sync': `source wh : postgres { database "acme" }
model users { from wh  table analytics.users  columns { email string } }
sync s { from users  to wh table crm.users  mode mirror  identifier email  guard deletes <= 150% }
`,
      },
      [],
      [
        '::error file=a%2Cb%3Ac.sync,line=3,col=93,endLine=3,endColumn=96,title=SW0212::`150%25` is not a valid delete bound%0Ahint: a percentage is a whole number from 0 to 100',
      ],
    ],
  ] as const)('%s', async (_, files, flags, lines) => {
    const r = await run(files, ['check', '--format', 'github', ...flags]);
    expect(r.stderr.split('\n')).toEqual(lines);
  });
});

describe('text output', () => {
  it('shows related places as notes, with file:line:column', async () => {
    const r = await run({ 'a.sync': 'source wh : postgres { database "acme" }\n', 'b.sync': 'destination wh : webhook { url "https://x.io" }\n' }, ['check']);
    expect(r.stderr.split('\n')).toEqual([
      'error[SW0101]: destination `wh` is defined twice',
      '  --> b.sync:1:13',
      '  |',
      '1 | destination wh : webhook { url "https://x.io" }',
      '  |             ^^',
      '  = hint: names are shared by every kind in the project: rename one of them',
      '  = note: the first `wh` is the source defined here: a.sync:1:8',
      '',
      '1 error, 0 warnings',
    ]);
  });

  const expected = [
    'error[SW0104]: unknown destination type `hubspt`',
    '  --> crm.sync:1:25',
    '  |',
    '1 | destination marketing : hubspt {',
    '  |                         ^^^^^^',
    '  = hint: did you mean `hubspot`?',
    '',
    '1 error, 0 warnings',
  ].join('\n');

  it('shows the line, a caret under the span and the hints, without colour', async () => {
    const r = await run(error, ['check']);
    expect(r.stderr).toBe(expected);
    expect(r.stderr).not.toMatch(ansi);
  });

  it('colours the same text when the terminal takes colour', async () => {
    const r = await run(error, ['check'], true);
    expect(r.stderr).toMatch(ansi);
    expect(r.stderr.replace(/\u001b\[[0-9;]*m/g, '')).toBe(expected);
  });

  it('lines the caret up under text after tabs, and across a multi-line span marks the rest of the first line', async () => {
    const r = await run(
      {
        'tabs.sync': `source wh : postgres { database "acme" }
model users {
\tfrom wh
\ttable analytics.users
\tcolumns {
\t\temail\tstrng
\t}
}
`,
      },
      ['check'],
    );
    expect(r.stderr.split('\n').slice(3, 5)).toEqual(['6 |     email  strng', '  |            ^^^^^']);
  });

  it('never echoes a control character from the file', async () => {
    const r = await run({ 'ctl.sync': 'source wh : postgres { database "a\u0007b" }\u001b[2J\n' }, ['check']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
  });

  // A message quotes names and strings of the file, and those may hold line breaks: a """string""", a "\n" escape.
  it('keeps a message, a hint and a note on one line each when the text they quote has line breaks', async () => {
    const forged = 'error[SW0000]: forged';
    const files = {
      'lines.sync': `destination crm : hubspot { token env("""X\n${forged}""") }
source wh : postgres { database "acme" }
model m { from wh  table t  primary key "b\\n${forged}"  columns { "a\\n${forged}" int  "a\\n${forged}" int } }
`,
    };
    for (const format of ['text', 'github']) {
      const r = await run(files, ['check', '--format', format]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`\`X\\n${forged}\` is not an environment variable name`);
      expect(r.stderr).toContain(`the first, \`a\\n${forged}\`, is declared here`);
      expect(r.stderr.split('\n').filter((l) => l.startsWith(forged))).toEqual([]);
    }
    const text = await run(files, ['check']);
    expect(text.stderr).toContain(`hint: did you mean \`a\\n${forged}\`?`);
  });

  // Half of a surrogate pair cannot be written to a UTF-8 terminal: it would show as U+FFFD, hiding what the name holds.
  it('shows half of a surrogate pair in a message as its escape', async () => {
    const r = await run({ 'half.sync': 'source wh : postgres { database "acme" }\nmodel m { from wh  table "t\\ud800"  columns { id int } }\n' }, ['check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[SW0120]: `t\\ud800` cannot be a PostgreSQL name');
    expect(r.stderr).not.toMatch(/[\ud800-\udfff\ufffd]/);
  });

  // A file's name is data too: a project may hold `x\u001b[2J.sync`, or a manifest bytes that JSON.parse quotes in its message.
  const rawControl = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
  it('never echoes a control character of a file name, in any format or command', async () => {
    const name = 'a\u001b]0;owned\u0007\u009b2J\nerror[SW0000]: forged.sync';
    const files = { [name]: 'source wh : postgres { database "a" }\nsource wh : postgres { database "b" }\n' };
    for (const format of ['text', 'github']) {
      const r = await run(files, ['check', '--format', format]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('a\\x1b]0;owned\\x07\\u009b2J\\nerror[SW0000]: forged.sync');
      expect(r.stderr).not.toMatch(rawControl);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error[SW0000]'))).toEqual([]);
    }
    const fmt = await run({ [name]: 'source wh : postgres {  database "a" }\n' }, ['fmt', '--check']);
    expect(fmt.stdout).toBe('would reformat a\\x1b]0;owned\\x07\\u009b2J\\nerror[SW0000]: forged.sync');
    // JSON, which may be shown with `cat`: every control escaped (JSON.stringify leaves DEL and C1 raw), and read back as it was.
    const json = await run(files, ['check', '--format', 'json']);
    expect(json.stdout).not.toMatch(rawControl);
    expect((JSON.parse(json.stdout) as { diagnostics: { file: string }[] }).diagnostics[0]?.file).toBe(name);
  });

  it('never echoes a control character of a file it cannot read in a usage error', async () => {
    const r = await run({ 'manifest.json': '\u001b[2J\u009b31m\u0007' }, ['airflow', '--manifest', 'manifest.json', '--out', 'dags']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read manifest.json: ');
    expect(r.stderr).toContain('\\x1b[2J');
    expect(r.stderr).not.toMatch(rawControl);
  });

  it('fmt leaves a file that is not UTF-8 as it is, and says so', async () => {
    const bytes = Buffer.concat([Buffer.from('source w : postgres {\n  database "acme"   # caf'), Buffer.from([0xe9]), Buffer.from('\n}\n')]);
    const dir = project({ 'latin1.sync': bytes });
    made.push(dir);
    const err: string[] = [];
    const code = await main(['fmt', 'latin1.sync'], { out: () => {}, err: (t) => err.push(t), colour: false, cwd: dir });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('error[SW0003]: cannot read latin1.sync: it is not UTF-8 text (an invalid byte at line 2, column 26)');
    expect(readFileSync(join(dir, 'latin1.sync')).equals(bytes)).toBe(true);
  });

  it('fmt reports a file of 240,000 syntax errors, and leaves it as it is', async () => {
    const text = `model m {\n  columns {\n${'    ! ! ! ! ! ! ! !\n'.repeat(30_000)}  }\n}\n`;
    const dir = project({ 'broken.sync': text });
    made.push(dir);
    const err: string[] = [];
    const code = await main(['fmt', 'broken.sync'], { out: () => {}, err: (t) => err.push(t), colour: false, cwd: dir });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('240,000 errors, 0 warnings');
    expect(readFileSync(join(dir, 'broken.sync'), 'utf8')).toBe(text);
  });

  it('fmt that cannot write a file says so, exits 2, and leaves the file whole', async () => {
    const messy = 'source w : postgres {\n  database    "acme"\n}\n';
    const dir = project({ 'messy.sync': messy });
    made.push(dir);
    // Where fmt writes the new text before it replaces the file: a folder there makes the write fail.
    mkdirSync(join(dir, `.messy.sync.${process.pid}.tmp`));
    const err: string[] = [];
    const code = await main(['fmt', 'messy.sync'], { out: () => {}, err: (t) => err.push(t), colour: false, cwd: dir });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/cannot write .*messy\.sync: EEXIST/);
    expect(err.join('\n')).not.toMatch(stackTrace);
    expect(readFileSync(join(dir, 'messy.sync'), 'utf8')).toBe(messy);
    rmSync(join(dir, `.messy.sync.${process.pid}.tmp`), { recursive: true });
    expect(await main(['fmt', 'messy.sync'], { out: () => {}, err: () => {}, colour: false, cwd: dir })).toBe(0);
    expect(readFileSync(join(dir, 'messy.sync'), 'utf8')).toBe('source w : postgres {\n  database "acme"\n}\n');
  });

  it('counts columns of a file that starts with a byte order mark as editors do, and fmt keeps the mark', async () => {
    const bom = '\ufeff';
    const r = await run({ 'a.sync': `${bom}source wh : postgres {\n  databse "acme"\n}\n` }, ['check']);
    expect(r.code).toBe(1);
    // `wh` is at column 8 of the line an editor shows; the mark is not shown in the code frame either.
    expect(r.stderr).toContain('a.sync:1:8\n');
    expect(r.stderr).toContain('1 | source wh : postgres {\n');
    const json = await run({ 'a.sync': `${bom}source wh : postgres {\n  databse "acme"\n}\n` }, ['check', '--format', 'json']);
    expect(json.stdout).toContain('"column":8');

    const dir = project({ 'messy.sync': `${bom}source w : postgres {\n      database "acme"\n}\n` });
    made.push(dir);
    const io: Io = { out: () => {}, err: () => {}, colour: false, cwd: dir };
    expect(await main(['fmt', 'messy.sync'], io)).toBe(0);
    expect(readFileSync(join(dir, 'messy.sync'), 'utf8')).toBe(`${bom}source w : postgres {\n  database "acme"\n}\n`);
    expect(await main(['fmt', '--check', 'messy.sync'], io)).toBe(0);
  });

  it('warns of a bidirectional control character, and shows its line unreordered', async () => {
    const r = await run({ 'bidi.sync': `source wh : postgres { database "acme" } # \u202e} "x" {\n` }, ['check']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning[SW0015]: a bidirectional control character, U+202E RIGHT-TO-LEFT OVERRIDE');
    expect(r.stderr).toContain('bidi.sync:1:44');
    expect(r.stderr).toContain('1 | source wh : postgres { database "acme" } # \ufffd} "x" {');
    expect(r.stderr).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('whether output is coloured', () => {
  const saved = { isTTY: process.stderr.isTTY, NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM };
  afterEach(() => {
    Object.defineProperty(process.stderr, 'isTTY', { value: saved.isTTY, configurable: true });
    for (const k of ['NO_COLOR', 'TERM'] as const) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it.each([
    ['a terminal', true, undefined, 'xterm-256color', true],
    ['a terminal with NO_COLOR set', true, '1', 'xterm-256color', false],
    ['a dumb terminal', true, undefined, 'dumb', false],
    ['a pipe', false, undefined, 'xterm-256color', false],
  ] as const)('%s', (_, tty, noColor, term, colour) => {
    Object.defineProperty(process.stderr, 'isTTY', { value: tty, configurable: true });
    if (noColor === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = noColor;
    process.env.TERM = term;
    expect(processIo().colour).toBe(colour);
  });
});

describe('bad input ends in a diagnostic, never a crash', () => {
  const header = 'source wh : postgres { database "acme" }\nmodel m { from wh  table t  columns { a int } }\n';
  it.each([
    [
      'conditions nested 100,000 deep',
      { 'deep.sync': `${header}audience x { from m  where ${'('.repeat(100_000)}a = 1${')'.repeat(100_000)} }\n` },
      1,
      'SW0013',
    ],
    ['a where clause of 20,000 terms', { 'long.sync': `${header}audience x { from m  where ${Array(20_000).fill('a = 1').join(' and ')} }\n` }, 0, undefined],
    [
      'a message nesting 65 blocks',
      {
        'tpl.sync': `${header}destination h : slack { token env("SLACK_TOKEN") }\nsync s { from m  to h  mode insert  identifier a  message "${'{{#if a}}'.repeat(65)}x${'{{/if}}'.repeat(65)}" }\n`,
      },
      1,
      'SW0501',
    ],
    [
      'a message nesting 64 blocks',
      {
        'tpl.sync': `${header}destination h : slack { token env("SLACK_TOKEN") }\nsync s { from m  to h  mode insert  identifier a  message "${'{{#if a}}'.repeat(64)}x${'{{/if}}'.repeat(64)}" }\n`,
      },
      0,
      undefined,
    ],
    ['random bytes', { 'noise.sync': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)) }, 1, 'SW0003'],
    ['only punctuation', { 'p.sync': '{{{ }}} ((( ))) -> -> ??? %%% ,,, ...' }, 1, 'SW0012'],
    ['a folder named like a .sync file', { 'odd.sync/inner.sync': clean['project.sync'] }, 0, undefined],
  ] as const)('%s', async (_, files, code, first) => {
    const r = await run(files, ['check', '--format', 'json']);
    expect(r.stderr).toBe('');
    const d = (JSON.parse(r.stdout) as { diagnostics: { code: string }[] }).diagnostics;
    expect(d[0]?.code).toBe(first);
    expect(r.code).toBe(code);
  });
});

describe('the README and the command line agree', () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  /** The commands of the README's table. */
  const commands = [...readme.matchAll(/^\| `syncwright (\w+)/gm)].map((m) => m[1]!);
  /** The backticked commands of the sentence "... take `--option`". */
  const said = (option: string) => {
    const sentence = new RegExp(`((?:\`\\w+\`(?:, | and )?)+)\\s+takes?\\s+\`${option}`).exec(readme.replace(/\s+/g, ' '));
    return [...(sentence?.[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]!);
  };
  /**
   * Whether the command takes an option: a usage error names it when it does not. Each command
   * is given folders that do not exist, as many as it takes and one for `lsp`, which takes none:
   * so none runs (the language server would read this process's stdin).
   */
  const takes = async (command: string, option: string) => {
    const err: string[] = [];
    await main([command, option, ...(command === 'diff' ? ['no-such-folder', 'no-such-folder'] : ['no-such-folder'])], {
      out: () => {},
      err: (t) => err.push(t),
      colour: false,
      cwd: tmpdir(),
    });
    const unknown = /Unknown arguments?: ([^\n]*)/.exec(err.join('\n'))?.[1]?.split(', ') ?? [];
    return !unknown.includes(option.replace(/^--/, ''));
  };

  it('on which commands take --strict, and every command --format', async () => {
    expect(commands).toEqual(['check', 'fmt', 'compile', 'run', 'dbt', 'airflow', 'diff', 'lsp', 'demo']);
    const strict = [];
    for (const c of commands) if (await takes(c, '--strict')) strict.push(c);
    expect(said('--strict')).toEqual(strict);
    expect(strict).toEqual(['check', 'compile', 'run', 'dbt']);
    for (const c of commands) expect(await takes(c, '--format=json'), c).toBe(true);
    expect(readme).toContain('Every command takes `--format text|json|github`');
  });
});

describe('huge input: check and compile give the same verdict, without a stack trace', () => {
  const header = 'source wh : postgres { database "acme" }\nmodel m { from wh  table t.m  primary key id  columns { id bigint  email string } }\n';
  const audience = (where: string) => ({
    'big.sync': `${header}audience x { from m  where ${where} }\nsync s { from x  to wh table t.members  mode add  identifier id -> id }\n`,
  });

  it.each([
    ['a 40 KB line of stray characters', 20_000],
    ['a 20 KB line of stray characters', 10_000],
  ])('%s: a few lines of each diagnostic, at most 50 of them, then how many more', async (_, n) => {
    const files = { 'noise.sync': `${header}${'@ '.repeat(n)}\n` };
    for (const argv of [['check'], ['compile', '--out', 'build']]) {
      const r = await run(files, argv);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(stackTrace);
      expect(r.stderr.length).toBeLessThan(25_000);
      expect(Math.max(...r.stderr.split('\n').map((l) => l.length))).toBeLessThanOrEqual(130);
      expect(r.stderr.match(/^error\[SW0002\]/gm)).toHaveLength(50);
      expect(r.stderr).toContain(
        `error[SW0006]: ${(n - 50).toLocaleString('en-US')} more diagnostics of this file, from here on, are not shown (${(n - 50).toLocaleString('en-US')} errors, 0 warnings)`,
      );
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`${n.toLocaleString('en-US')} errors, 0 warnings`);
      const json = await run(files, [...argv, '--format', 'json']);
      expect((JSON.parse(json.stdout) as { diagnostics: unknown[] }).diagnostics).toHaveLength(51);
    }
  });

  it('shows a window of a long line around the caret, marked where it is cut', async () => {
    const r = await run({ 'long.sync': `${header}# ${'x'.repeat(5_000)}\n${'y '.repeat(3_000)}@ ${'z '.repeat(3_000)}\n` }, ['check']);
    const lines = r.stderr.split('\n');
    const at = lines.indexOf('  --> long.sync:4:6001');
    expect(lines[at + 2]).toMatch(/^4 \| …(y ){15}@ (z ){34}…$/);
    expect(lines[at + 3]).toBe(`  | ${' '.repeat(31)}^`);
  });

  it.each([
    // Every term but the first on a line of its own; every value of a long list.
    ['10,000 `or` terms', Array.from({ length: 10_000 }, (_, i) => `id = ${i}`).join(' or '), 9_999],
    ['`in` with 10,000 values', `email in (${Array.from({ length: 10_000 }, (_, i) => `'u${i}'`).join(', ')})`, 10_000],
    ['`in` with 100,000 values', `email in (${Array.from({ length: 100_000 }, (_, i) => `'u${i}'`).join(', ')})`, 100_000],
  ])('a where with %s checks and compiles, every term in the SQL', async (_, where, lines) => {
    const files = audience(where);
    expect((await run(files, ['check'])).code).toBe(0);
    const r = await run(files, ['compile', '--out', 'build']);
    expect([r.code, r.stderr]).toEqual([0, 'compiled 1 sync into build']);
    const sql = readFileSync(join(made.at(-1)!, 'build', 's', 'apply.sql'), 'utf8');
    // The condition is in one statement, the rows read: the counts come from the change set's one pass.
    expect(sql.split('\n').filter((l) => /^\s+(OR "m"\."id" = \d+|'u\d+',?)$/.test(l)).length).toBe(lines);
  });
});

describe("compile's summary", () => {
  it('aligns the rows of 200,000 syncs', () => {
    // More rows than `Math.max(...widths)` takes as arguments (about 120,000): it overflowed the stack.
    const syncs = Array.from({ length: 200_000 }, (_, i) => ({
      name: `s${i}`,
      destination: { name: 'wh', type: 'postgres' },
      kind: 'table',
      mode: 'mirror',
      files: [`s${i}/apply.sql`],
    })) as unknown as SyncSummary[];
    const lines = summaryTable(syncs).split('\n');
    expect(lines).toHaveLength(200_001);
    expect(lines[1]).toBe(`s0${' '.repeat('s199999'.length - 2)}  wh (postgres)  table mirror  apply.sql`);
    expect(lines.at(-1)).toBe('s199999  wh (postgres)  table mirror  apply.sql');
  });
});

describe('the installed command', () => {
  beforeAll(ensureBuilt, 180_000);

  it('runs from a pipe: a code frame without colour, exit 1, no stack trace', () => {
    const dir = project(error);
    made.push(dir);
    const env = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), 'check', 'crm.sync'], { cwd: dir, encoding: 'utf8', env });
    expect(r.stderr).toContain('1 | destination marketing : hubspt {\n  |                         ^^^^^^\n');
    expect(r.stderr).not.toMatch(ansi);
    expect(r.stderr).not.toMatch(stackTrace);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });

  it('compile --out where the file system refuses a folder (a file in its path): exit 2 and a message, no stack trace', () => {
    const dir = project({ ...clean, taken: 'a file, not a folder\n' });
    made.push(dir);
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), 'compile', 'project.sync', '--out', 'taken/build'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.stderr).toMatch(/^syncwright: cannot write taken\/build: E[A-Z]+ \(mkdir\)\n/);
    expect(r.stderr).not.toMatch(stackTrace);
    expect(r.status).toBe(2);
  });

  it('check and fmt of a path that is a device (a .sync link to /dev/zero): exit 2 and a message, at once', () => {
    const dir = project(clean);
    made.push(dir);
    symlinkSync('/dev/zero', join(dir, 'zero.sync'));
    for (const command of ['check', 'fmt']) {
      // Reading /dev/zero never ends: the command must refuse it, not read it.
      const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), command, 'zero.sync'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe("syncwright: not a file or folder: zero.sync (a device or socket)\nRun 'syncwright --help' for usage.\n");
      expect(r.status).toBe(2);
    }
  });

  it('prints JSON on stdout and exits 2 on a usage error', () => {
    const ok = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), 'check', '--format', 'json', 'nowhere/'], { cwd: repo, encoding: 'utf8' });
    expect([ok.status, ok.stdout]).toEqual([2, '']);
    expect(ok.stderr).toBe("syncwright: no such file or folder: nowhere/\nRun 'syncwright --help' for usage.\n");
  });

  it('lays out --help in columns and runs no command', () => {
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), '--help'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '100' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Commands:\n {2}syncwright check \[paths\.\.\] +parse and check \.sync files/m);
    expect(r.stdout).toMatch(/^ {2}--format +how diagnostics are printed/m);
    const sub = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), 'compile', '--help'], { cwd: repo, encoding: 'utf8' });
    expect([sub.status, sub.stderr]).toEqual([0, '']);
    expect(sub.stdout).toMatch(/--out +output folder, replaced as a whole/);
  });

  it('prints its own version, not that of the project it runs in', () => {
    const dir = project({ 'package.json': '{"name": "analytics", "version": "9.9.9"}' });
    made.push(dir);
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'syncwright.js'), '--version'], { cwd: dir, encoding: 'utf8' });
    expect([r.status, r.stdout]).toEqual([0, `${version}\n`]);
  });
});
