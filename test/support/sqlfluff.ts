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

/** Parses many files in one sqlfluff run; results in input order. */
export async function parseManyWithSqlfluff(inputs: readonly SqlfluffInput[]): Promise<SqlfluffResult[]> {
  if (inputs.length === 0) return [];
  if (!sqlfluffVersion()) throw new Error(missing);
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
    const trees = await parseTrees(dir);
    const results = inputs.map((inp, i) => {
      const path = paths[i]!;
      if (!trees.has(path)) throw new Error(`sqlfluff returned nothing for ${path}`);
      const tree = trees.get(path) ?? null;
      return tree === null ? { unparsable: [], statements: [], raw: null } : { ...readParseTree(tree, inp.sql, `${inp.dialect} input #${i}`), raw: tree };
    });
    await explainFailures(dir, paths, results);
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
