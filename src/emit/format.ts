/**
 * sql-formatter costs milliseconds per statement, so each statement shape (its text with
 * the placeholders of sql-writer.ts) is formatted once and reused; the real names, literals
 * and numbers are put back into the formatted text afterwards; the formatted shapes are also
 * carried to the next compile (`SqlFormatter` is the build folder's `Carry`). Every cache is
 * the compile's own (one `SqlFormatter` per `CompileContext`), so a long-running process
 * keeps nothing of the projects it compiled.
 */
import type { DialectSpec } from '../dialect/index.js';
import { formatOptions, formatSql, sqlFormatterVersion } from './sql-formatter.js';
import { laidOut, statementSeparator } from './templates.js';
import { textHash } from '../hash.js';

const placeholder = /["'`]swph(\d+)["'`]|\bswph(\d+)\b/g;

/**
 * Numbers a statement's placeholders from 0 in order of appearance, so a statement has one
 * shape wherever it sits in a script; `back` maps local numbers to the script's.
 */
function localise(statement: string): { local: string; back: string[] } {
  const back: string[] = [];
  const local = statement.replace(placeholder, (m, a: string | undefined, b: string | undefined) => {
    back.push(a ?? b ?? '');
    return m.replace(/swph\d+/, `swph${back.length - 1}`);
  });
  return { local, back };
}

function formatStatement(spec: DialectSpec, statement: string, formatted: Map<string, string>, earlier: ReadonlyMap<string, string>): string {
  // Laid out by its template: only blank lines (from optional parts), line-end spaces and the break before `;` go.
  if (statement.startsWith(laidOut))
    return statement
      .slice(laidOut.length)
      .replace(/[ \t]+$/gm, '')
      .replace(/\n{2,}/g, '\n')
      .replace(/\s+;$/, ';');
  const { local, back } = localise(statement);
  const key = `${spec.formatter}\n${local}`;
  let text = formatted.get(key);
  if (text === undefined) {
    // A carried text is the one its hash vouches for (`load`): what the formatter made of this statement.
    text = earlier.get(key) ?? formatSql(spec.formatter, local);
    formatted.set(key, text);
  }
  return text.replace(placeholder, (m, a: string | undefined, b: string | undefined) => m.replace(/swph\d+/, `swph${back[Number(a ?? b)]}`));
}

/** A placeholder of a formatted shape, with the indentation of its line. */
type Hole = { n: number; indent: string };

/** What fills a shape: the values of its placeholders, and which of them are blocks (SqlWriter). */
export type Filling = { values: readonly string[]; blocks?: ReadonlyMap<number, readonly string[]> };

/**
 * A file's text: `head`, then the formatted shape with each placeholder replaced by its value
 * (a block's lines indented as the line it lands on) and its trailing white space gone, then a
 * line break. Joined in one go: a flat string, where concatenation builds a rope that is copied
 * again when the file goes to the writer thread.
 */
function fillPlaceholders(compiled: Map<string, (string | Hole)[]>, head: string, shape: string, { values, blocks }: Filling): string {
  // Split once per shape into text and placeholders, then joined per use.
  let parts = compiled.get(shape);
  if (!parts) {
    parts = [];
    let last = 0;
    for (const m of shape.matchAll(placeholder)) {
      const lineStart = shape.lastIndexOf('\n', m.index) + 1;
      parts.push(shape.slice(last, m.index), { n: Number(m[1] ?? m[2]), indent: /^[ \t]*/.exec(shape.slice(lineStart, m.index))![0] });
      last = m.index + m[0].length;
    }
    parts.push(shape.slice(last));
    compiled.set(shape, parts);
  }
  // Sized once: grown piece by piece, the array was copied several times per file.
  const pieces = new Array<string>(parts.length + 2);
  pieces[0] = head;
  let at = 1;
  for (const part of parts) {
    if (typeof part === 'string') pieces[at++] = part;
    else {
      const v = values[part.n];
      if (v === undefined) throw new Error(`unfilled placeholder swph${part.n}`);
      const lines = blocks?.get(part.n);
      pieces[at++] = lines ? lines.join(`\n${part.indent}`) : v;
    }
  }
  // The end trimmed piece by piece, as the joined text would be (the head is not the shape's).
  while (at > 1) {
    const trimmed = pieces[at - 1]!.trimEnd();
    if (trimmed.length > 0) {
      pieces[at - 1] = trimmed;
      break;
    }
    at--;
  }
  pieces[at++] = '\n';
  pieces.length = at;
  return pieces.join('');
}

/**
 * A context's key: the number of its fixed part (`SqlFormatter.shaped`) and its JSON. A
 * property whose value is undefined is left out, as if absent: a template's contexts are each
 * made by one object literal.
 */
function contextKey(fixed: number, context: object): string {
  return `${fixed}\n${JSON.stringify(context)}`;
}

/** Whether a value is frozen, and every object it holds, all through. */
const frozenThrough = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(frozenThrough));

/** The fixed part of a context where a template has none. */
const noFixedPart = Object.freeze({});

// Saved statements are [statement, formatted text, hash of both]; a file of entries without the hash (an older compile's) is not read.
const stamp = `sql-formatter ${sqlFormatterVersion} ${JSON.stringify(formatOptions)} hashed`;

/**
 * The SQL formatting of one compile, with its caches. It is also what the compile carries to
 * the next in the kept previous output (src/output/artifact-tree.ts, a `Carry`): sql-formatter
 * costs milliseconds per statement shape, most of a recompile's time when nothing else
 * changed. Only a file of the same sql-formatter version and options is read; what is saved
 * is what this compile used, so it does not grow, and what the previous compile saved when
 * this one took syncs from its output unformatted (`keepEarlier`).
 */
export class SqlFormatter {
  readonly name = '.syncwright-formatted.json';
  /** Statements formatted by this compile: `${language}\n${statement}` -> formatted text. */
  private readonly formatted = new Map<string, string>();
  /** Statements formatted by the previous compile (`load`). */
  private earlier: ReadonlyMap<string, string> = new Map();
  private keepsEarlier = false;
  /** Formatted shapes split into text and placeholders. */
  private readonly compiled = new Map<string, (string | Hole)[]>();
  /** Formatted scripts by dialect and template, then context. */
  private readonly shapes = new Map<string, Map<string, string>>();
  /** The fixed parts of contexts (`shaped`), numbered by identity. */
  private readonly fixedParts = new WeakMap<object, number>();
  private fixedCount = 0;

  /** A rendered script, formatted statement by statement (where the template separated them). */
  formatScript(spec: DialectSpec, shape: string): string {
    return shape
      .split(statementSeparator)
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((statement) => formatStatement(spec, statement, this.formatted, this.earlier))
      .join('\n\n');
  }

  /**
   * The formatted script of a template's context. A context holds only placeholders (SqlWriter)
   * and flags, so syncs of one shape share a single render and format: the context's JSON is
   * the key (`contextKey`). `fixed`: a frozen part of the context that many contexts share as
   * one object (the names every API file of a dialect begins with, src/emit/api-sql.ts), keyed
   * by its identity rather than its JSON, and rendered with the context, whose properties come
   * last. `template` names the template, `render` renders it.
   */
  shaped(spec: DialectSpec, template: string, context: object, render: (context: object) => string, fixed: object = noFixedPart): string {
    const where = `${spec.name}/${template}`;
    let byContext = this.shapes.get(where);
    if (!byContext) this.shapes.set(where, (byContext = new Map()));
    let id = this.fixedParts.get(fixed);
    if (id === undefined) {
      // Keyed by identity: what it holds must never change, however deep.
      if (!frozenThrough(fixed)) throw new Error('internal: the fixed part of a context is frozen, all through');
      this.fixedParts.set(fixed, (id = this.fixedCount++));
    }
    const key = contextKey(id, context);
    let text = byContext.get(key);
    if (text === undefined) {
      text = this.formatScript(spec, render(fixed === noFixedPart ? context : { ...fixed, ...context }));
      byContext.set(key, text);
    }
    return text;
  }

  /** A file's text: `head`, then the formatted shape with each placeholder replaced by its value, without trailing white space, and a line break. */
  file(head: string, shape: string, filling: Filling): string {
    return fillPlaceholders(this.compiled, head, shape, filling);
  }

  load(text: string): void {
    try {
      const data = JSON.parse(text) as { stamp?: unknown; statements?: unknown };
      if (data.stamp === stamp && Array.isArray(data.statements)) {
        // A statement whose text was edited since it was saved (its hash no longer matches) is formatted afresh: the output is what a
        // first compile writes, byte for byte, whatever a hand did to the file.
        const entries = data.statements.filter(
          (e): e is [string, string, string] =>
            Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string' && e[2] === textHash(`${e[0]}\u0000${e[1]}`),
        );
        this.earlier = new Map(entries.map(([key, text]) => [key, text]));
      }
    } catch {
      // Not a file of ours: formatted afresh.
    }
  }

  /** Saves what the previous compile saved too: statements of syncs this one did not emit, still in the output. */
  keepEarlier(): void {
    this.keepsEarlier = true;
  }

  save(): string {
    const statements = this.keepsEarlier ? new Map([...this.earlier, ...this.formatted]) : this.formatted;
    return JSON.stringify({ stamp, statements: [...statements].map(([key, text]) => [key, text, textHash(`${key}\u0000${text}`)]) });
  }
}
