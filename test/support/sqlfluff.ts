// Parses SQL with the sqlfluff CLI (Debian's package, 1.4.x) to check generated Snowflake and
// BigQuery SQL we cannot execute. sqlfluff takes about a second to start, so calls made
// together (Promise.all) share one invocation, dialects included.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { inCi, warnOnce } from './env.js';
import { readParseTree, type SqlfluffTree } from './sqlfluff-tree.js';

export type SqlfluffDialect = 'snowflake' | 'bigquery' | 'postgres';
export type { SqlfluffTree } from './sqlfluff-tree.js';

export interface SqlfluffResult {
  /** Sections sqlfluff could not parse (line is 1-based); empty when the whole file parsed. */
  unparsable: Array<{ line: number; text: string }>;
  /** Top-level statement kinds in order, e.g. ['merge_statement']. */
  statements: string[];
  /** sqlfluff's JSON parse tree for the file; null when it gave up on the whole file. */
  raw: SqlfluffTree | null;
}

export interface SqlfluffInput {
  sql: string;
  dialect: SqlfluffDialect;
}

const run = promisify(execFile);
const BIN = 'sqlfluff';
// Generated SQL is literal: no Jinja; and utf-8 always, sqlfluff would guess per file.
const COMMON = ['--templater', 'raw', '--encoding', 'utf-8', '--nofail', '--nocolor'];

let version: string | null | undefined;

/**
 * Runs sqlfluff's own CLI inside a function whose frame reserves about 2 MB of Python's frame
 * stack. CPython 3.11 (Debian 12's) allocates that stack in 16 KB chunks and unmaps a chunk as
 * soon as the frames in it return; the parser's deep recursion crosses chunk boundaries back
 * and forth, about 80,000 mmap/munmap pairs per 5 KB script, which made a third of sqlfluff's
 * CPU time system time. The big frame gets a chunk of 4 MB, whose other half holds the parser's
 * frames. The output is sqlfluff's own, byte for byte; on another Python it is at worst a frame
 * with unused slots.
 */
const RUN_IN_BIG_FRAME = `
def run():
    from sqlfluff.cli.commands import cli
    cli(prog_name="sqlfluff")
slots = 262144
code = run.__code__
run.__code__ = code.replace(co_varnames=code.co_varnames + tuple(f"_{i}" for i in range(slots)), co_nlocals=code.co_nlocals + slots)
run()
`;

let command: [string, string[]] | undefined;

/** The interpreter of the sqlfluff script on PATH (its #! line) with RUN_IN_BIG_FRAME; else the script itself. */
function sqlfluffCommand(): [string, string[]] {
  if (command) return command;
  command = [BIN, []];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let head: string;
    try {
      head = readFileSync(join(dir, BIN), 'utf8').slice(0, 200);
    } catch {
      continue;
    }
    const [, interpreter = '', arg] = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(head) ?? [];
    // `#!/usr/bin/python3` or `#!/usr/bin/env python3`.
    const python = basename(interpreter) === 'env' ? arg : interpreter;
    if (python && /^python[\d.]*$/.test(basename(python))) command = [python, ['-c', RUN_IN_BIG_FRAME]];
    break;
  }
  return command;
}

/** Runs `sqlfluff <args>` (see sqlfluffCommand). */
function sqlfluff(args: string[], options: { cwd: string; maxBuffer?: number }) {
  const [file, prefix] = sqlfluffCommand();
  return run(file, [...prefix, ...args], options);
}

/** `sqlfluff --version` output, or null when it is not installed. */
export function sqlfluffVersion(): string | null {
  if (version === undefined) {
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
    version = r.status === 0 ? r.stdout.trim() : null;
  }
  return version;
}

const missing = 'sqlfluff is not installed (Debian: apt-get install sqlfluff)';

/** A suite that needs sqlfluff: skipped loudly outside CI when missing, failed in CI. */
export function describeWithSqlfluff(title: string, fn: () => void): void {
  if (sqlfluffVersion()) {
    describe(title, fn);
  } else if (inCi()) {
    describe(title, () => {
      it('has sqlfluff to run', () => {
        throw new Error(`CI must run the sqlfluff suites: ${missing}`);
      });
    });
  } else {
    warnOnce(`SKIPPING sqlfluff suite "${title}": ${missing}`);
    describe.skip(title, fn);
  }
}

/**
 * Parses many files with sqlfluff; results in input order. The scripts repeat statements
 * (BEGIN, COMMIT, the same CREATE TEMP TABLE in many modes), so each is cut after its
 * top-level semicolons (sqlPieces) and each distinct piece parsed once per dialect, in one run.
 * sqlfluff's file grammar is statements between `;` (and BigQuery's IF/LOOP blocks, which span
 * several): a script whose pieces all parse is its pieces' trees side by side. Where pieces
 * have unparsable sections (a block cut in the middle, or SQL that does not parse), the part
 * from the first such piece to the last is parsed whole, in a second run. A script with a piece
 * (or such a part) sqlfluff builds no tree of is parsed whole, as before, and its lint says why.
 * readParseTree checks each tree spells out its script, and places unparsable sections by line.
 */
export async function parseManyWithSqlfluff(inputs: readonly SqlfluffInput[]): Promise<SqlfluffResult[]> {
  if (inputs.length === 0) return [];
  if (!sqlfluffVersion()) throw new Error(missing);
  const layouts = inputs.map((inp) => sqlPieces(inp.sql));
  const pieces = await parseDistinct(layouts.flatMap((texts, i) => texts.map((sql) => ({ sql, dialect: inputs[i]!.dialect }))));
  let at = 0;
  const parts = layouts.map((texts) => pieces.slice(at, (at += texts.length)));
  // Where a piece gives sqlfluff no tree at all, the script is parsed whole (and linted) at once;
  // else the part of it to parse whole, from its first piece that does not parse alone to its last.
  const whole = parts.flatMap((ps, i) => (ps.length === 0 || ps.some((p) => p.tree === null) ? [i] : []));
  const spans = parts.map((ps, i) => {
    const bad = whole.includes(i) ? [] : ps.flatMap((p, k) => (p.unparsable ? [k] : []));
    return bad.length ? ([bad[0]!, bad.at(-1)! + 1] as const) : null;
  });
  const [spanTrees, wholeResults] = await Promise.all([
    parseDistinct(spans.flatMap((span, i) => (span ? [{ sql: layouts[i]!.slice(...span).join(''), dialect: inputs[i]!.dialect }] : []))),
    parseWholeFiles(whole.map((i) => inputs[i]!)),
  ]);
  const results = inputs.map((inp, i): SqlfluffResult | undefined => {
    const k = whole.indexOf(i);
    if (k !== -1) return wholeResults[k];
    const span = spans[i];
    const trees = parts[i]!.map((p) => p.tree);
    if (span) trees.splice(span[0], span[1] - span[0], spanTrees.shift()!.tree);
    // A part whose pieces parsed gave no tree whole: parsed whole below, which says why.
    if (trees.includes(null)) return undefined;
    const raw: SqlfluffTree = { file: trees.flatMap((t) => fileChildren(t!)) };
    return { ...readParseTree(raw, inp.sql, `${inp.dialect} input #${i}`), raw };
  });
  const late = results.flatMap((r, i) => (r ? [] : [i]));
  if (late.length > 0) {
    const parsed = await parseWholeFiles(late.map((i) => inputs[i]!));
    late.forEach((i, k) => (results[i] = parsed[k]!));
  }
  return results as SqlfluffResult[];
}

/** Each distinct input parsed once, in one sqlfluff run: per input, its tree and whether it has an unparsable section. */
async function parseDistinct(inputs: readonly SqlfluffInput[]): Promise<Array<{ tree: SqlfluffTree | null; unparsable: boolean }>> {
  if (inputs.length === 0) return [];
  const distinct: SqlfluffInput[] = [];
  const seen = new Map<string, number>();
  const index = inputs.map((inp) => {
    const key = `${inp.dialect}\0${inp.sql}`;
    let k = seen.get(key);
    if (k === undefined) {
      k = distinct.push(inp) - 1;
      seen.set(key, k);
    }
    return k;
  });
  const trees = await parseFiles(distinct, async (_, trees) => trees);
  const parsed = trees.map((tree, k) => ({
    tree,
    unparsable: tree !== null && readParseTree(tree, distinct[k]!.sql, `${distinct[k]!.dialect} piece`).unparsable.length > 0,
  }));
  return index.map((k) => parsed[k]!);
}

/** The children of a file's tree, as a list of one-key segments. */
function fileChildren(tree: SqlfluffTree): SqlfluffTree[] {
  const file = typeof tree === 'object' && !Array.isArray(tree) ? tree.file : undefined;
  if (file === undefined) throw new Error(`sqlfluff's tree is not a file's: ${JSON.stringify(tree).slice(0, 200)}`);
  if (Array.isArray(file)) return file;
  if (typeof file === 'string') return [file];
  return Object.entries(file).map(([type, child]) => ({ [type]: child }));
}

/**
 * SQL cut into pieces that concatenate back to it: runs of whitespace and comments, and
 * statements up to and including their `;` (one outside quotes, comments and dollar-quoted
 * bodies). A cut in the wrong place can only make a piece fail to parse, never hide a failure.
 */
export function sqlPieces(sql: string): string[] {
  const pieces: string[] = [];
  let i = 0;
  const comment = (): boolean => {
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      return true;
    }
    if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      return true;
    }
    return false;
  };
  while (i < sql.length) {
    const trivia = i;
    while (i < sql.length) {
      if (/\s/.test(sql[i]!)) i++;
      else if (!comment()) break;
    }
    if (i > trivia) pieces.push(sql.slice(trivia, i));
    if (i >= sql.length) break;
    const statement = i;
    while (i < sql.length) {
      const c = sql[i]!;
      if (comment()) continue;
      if (c === "'" || c === '"' || c === '`') {
        for (i++; i < sql.length && sql[i] !== c; i++) if (sql[i] === '\\') i++;
        i++;
        continue;
      }
      const tag = c === '$' ? /^\$(?:[A-Za-z_]\w*)?\$/.exec(sql.slice(i, i + 64))?.[0] : undefined;
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
        continue;
      }
      i++;
      if (c === ';') break;
    }
    pieces.push(sql.slice(statement, Math.min(i, sql.length)));
  }
  return pieces;
}

/** Each input parsed as a file of its own, in one sqlfluff run: trees in input order (null where sqlfluff built none). */
async function parseFiles<T>(
  inputs: readonly SqlfluffInput[],
  then: (dir: string, trees: Array<SqlfluffTree | null>, paths: string[]) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'syncwright-sqlfluff-'));
  try {
    // One folder per dialect, each with its own .sqlfluff: sqlfluff applies nested
    // config per file, so every dialect goes through the same invocation.
    const paths = inputs.map((inp, i) => join(inp.dialect, `${i}.sql`));
    for (const dialect of new Set(inputs.map((i) => i.dialect))) {
      await mkdir(join(dir, dialect));
      await writeFile(join(dir, dialect, '.sqlfluff'), `[sqlfluff]\ndialect = ${dialect}\n`);
    }
    await Promise.all(inputs.map((inp, i) => writeFile(join(dir, paths[i]!), inp.sql)));
    const byPath = await parseTrees(dir);
    const trees = paths.map((path) => {
      if (!byPath.has(path)) throw new Error(`sqlfluff returned nothing for ${path}`);
      return byPath.get(path) ?? null;
    });
    return await then(dir, trees, paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each input parsed whole; where sqlfluff builds no tree, its lint says why. */
async function parseWholeFiles(inputs: readonly SqlfluffInput[]): Promise<SqlfluffResult[]> {
  if (inputs.length === 0) return [];
  return parseFiles(inputs, async (dir, trees, paths) => {
    const results = inputs.map((inp, i): SqlfluffResult => {
      const tree = trees[i] ?? null;
      return tree === null ? { unparsable: [], statements: [], raw: null } : { ...readParseTree(tree, inp.sql, `${inp.dialect} input #${i}`), raw: tree };
    });
    await explainFailures(dir, paths, results);
    return results;
  });
}

async function parseTrees(dir: string): Promise<Map<string, SqlfluffTree | null>> {
  const { stdout } = await sqlfluff(['parse', ...COMMON, '--format', 'json', '.'], {
    cwd: dir,
    maxBuffer: 512 * 1024 * 1024,
  });
  const files = JSON.parse(stdout) as Array<{ filepath: string; segments: SqlfluffTree | null }>;
  return new Map(files.map((f) => [normalize(f.filepath), f.segments]));
}

/**
 * `parse` gives no tree and no reason when a file fails outright (unbalanced brackets,
 * unlexable text); `lint` reports those as PRS/LXR violations with a position.
 */
async function explainFailures(dir: string, paths: string[], results: SqlfluffResult[]): Promise<void> {
  const failed = paths.filter((_, i) => results[i]!.raw === null);
  if (failed.length === 0) return;
  // L001 stands in for "no rules": lint needs one, and its findings are filtered out.
  const { stdout } = await sqlfluff(['lint', ...COMMON, '--format', 'json', '--rules', 'L001', ...failed], {
    cwd: dir,
  });
  const files = JSON.parse(stdout) as Array<{
    filepath: string;
    violations: Array<{ line_no: number; code: string; description: string }>;
  }>;
  const byPath = new Map(files.map((f) => [normalize(f.filepath), f.violations]));
  paths.forEach((path, i) => {
    const r = results[i]!;
    if (r.raw !== null) return;
    const errors = (byPath.get(path) ?? []).filter((v) => !/^L\d+$/.test(v.code));
    r.unparsable = errors.map((v) => ({ line: v.line_no, text: `${v.code}: ${v.description}` }));
    if (r.unparsable.length === 0) r.unparsable.push({ line: 1, text: 'sqlfluff built no parse tree' });
  });
}

let pending: Array<{ input: SqlfluffInput; resolve: (r: SqlfluffResult) => void; reject: (e: unknown) => void }> = [];

/**
 * Parses one script. Calls made in the same tick (e.g. under one Promise.all) are sent to
 * sqlfluff together.
 */
export function parseWithSqlfluff(sql: string, dialect: SqlfluffDialect): Promise<SqlfluffResult> {
  return new Promise((resolve, reject) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({ input: { sql, dialect }, resolve, reject });
  });
}

function flush(): void {
  const batch = pending;
  pending = [];
  parseManyWithSqlfluff(batch.map((b) => b.input)).then(
    (results) => batch.forEach((b, i) => b.resolve(results[i]!)),
    (err: unknown) => batch.forEach((b) => b.reject(err)),
  );
}
