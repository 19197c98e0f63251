// `syncwright lsp` on the generated project of 10,000 syncs (bench/project.js): the time from
// an editor's keystroke (one incremental didChange of one file) to the diagnostics of that
// file, over the protocol as an editor sees it, against the target of 100 ms. Three kinds of
// keystroke, alternately typed and deleted: a character in a valid place (a schedule), one
// that makes a name unknown (the slowest: its hints are chosen among every definition), and
// one that breaks the syntax. Also the start-up: initialize to the first diagnostics.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { median, root } from './cli-timer.js';
import { FILES, SYNCS, generateFile } from './project.js';

if (!existsSync(join(root, 'dist', 'bin', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 40);
const target = 100;

const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-lsp-'));
const texts = [];
for (let f = 0; f < FILES; f++) {
  const text = generateFile(f);
  texts.push(text);
  writeFileSync(join(dir, `project_${String(f).padStart(3, '0')}.sync`), text);
}
const file = 'project_050.sync';
const uri = pathToFileURL(join(dir, file)).href;
const text = texts[50];

const child = spawn(process.execPath, [join(root, 'bin', 'syncwright.js'), 'lsp', '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
let waiting;
connection.onNotification(PublishDiagnosticsNotification.type, (p) => {
  if (waiting && waiting.uri === p.uri) {
    const w = waiting;
    waiting = undefined;
    w.resolve(p.diagnostics);
  }
});
connection.listen();
const published = (u) => new Promise((resolve) => (waiting = { uri: u, resolve }));

const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const ms = (x) => `${x.toFixed(1).padStart(6)} ms`;

try {
  console.log(`generated ${SYNCS.toLocaleString('en-US')} syncs, ${FILES} files in ${dir}`);
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ${KEYSTROKES} keystrokes of each kind\n`,
  );
  const t0 = performance.now();
  await connection.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(dir).href,
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'bench' }],
    capabilities: {},
  });
  await connection.sendNotification(InitializedNotification.type, {});
  const opened = published(uri);
  await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'sync', version: 1, text } });
  const first = await opened;
  if (first.length !== 0) throw new Error(`the generated project should check clean; got ${JSON.stringify(first[0])}`);
  console.log(`${'start: initialize to the first diagnostics'.padEnd(46)}${ms(performance.now() - t0)}`);

  let version = 1;
  const position = (offset) => {
    const before = text.slice(0, offset);
    return { line: before.split('\n').length - 1, character: offset - (before.lastIndexOf('\n') + 1) };
  };
  /** Type `ch` at `offset` then delete it, KEYSTROKES times: the time of each to its diagnostics. */
  async function keystrokes(offset, ch, expect) {
    const at = position(offset);
    const times = [];
    for (let i = 0; i < KEYSTROKES; i++) {
      const typed = i % 2 === 0;
      const change = typed
        ? { range: { start: at, end: at }, text: ch }
        : { range: { start: at, end: { line: at.line, character: at.character + ch.length } }, text: '' };
      const done = published(uri);
      const t = performance.now();
      await connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: ++version }, contentChanges: [change] });
      const ds = await done;
      times.push(performance.now() - t);
      const codes = ds.map((d) => d.code);
      if (typed ? !expect(codes) : codes.length !== 0) throw new Error(`unexpected diagnostics after keystroke ${i}: ${JSON.stringify(codes)}`);
    }
    return times;
  }
  const kinds = [
    ['a character in a schedule (valid)', text.indexOf('"0 * * * *"') + 1, '1', (c) => c.length === 0],
    ['a name made unknown (`from users_50_1x`)', text.indexOf('from       users_50_1') + 'from       users_50_1'.length, 'x', (c) => c.includes('SW0102')],
    ['a syntax error (a `{` more)', text.indexOf('mode       upsert') + 'mode       upsert'.length, ' {', (c) => c.length > 0],
  ];
  const all = [];
  for (const [label, offset, ch, expect] of kinds) {
    const times = await keystrokes(offset, ch, expect);
    all.push(...times);
    const m = median(times);
    console.log(
      `${`keystroke to diagnostics: ${label}`.padEnd(72)}median ${ms(m)}, p95 ${ms(p95(times))}, max ${ms(Math.max(...times))}   ${m <= target ? 'ok' : 'MISSED'} (target ${target} ms)`,
    );
  }
  console.log(`${'keystroke to diagnostics: all kinds'.padEnd(72)}median ${ms(median(all))}, p95 ${ms(p95(all))}`);
  await connection.sendRequest(ShutdownRequest.type);
  await connection.sendNotification(ExitNotification.type);
} finally {
  connection.dispose();
  child.kill();
  rmSync(dir, { recursive: true, force: true });
}
