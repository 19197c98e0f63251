/**
 * A model's `sql`, read as its warehouse reads it (dialects/<name>.json `sqlText`), as far as
 * the compiler must: where its comments and strings are, so that the query can stand in
 * parentheses inside the generated SQL. A trailing `;` is dropped (never one inside a string
 * or a comment), and the closing parenthesis goes on a line of its own, where a final line
 * comment cannot swallow it.
 */
import type { DialectSpec } from './index.js';

export interface SqlTextSyntax {
  lineComments: string[];
  blockComments: { nested: boolean };
  /** Longest opening first. */
  quotes: { open: string; close: string; doubled: boolean; backslash: boolean }[];
  dollarQuotes: 'tagged' | 'plain' | 'none';
  why: string;
}

/** The query without its trailing semicolons, or why it cannot be a model's query (`index`: where in the text, -1 for all of it). */
export type QueryText = { body: string } | { problem: string; index: number };

// Non-ASCII letters continue a name as ASCII ones do (Postgres' ident_cont takes every byte
// from 0x80): `é$a$` is one name there, and no dollar quote opens in it.
const nameChar = /[A-Za-z0-9_$\u0080-\uffff]/;
const space = /\s/;
const escapeClass = (c: string) => c.replace(/[\\\]^-]/g, '\\$&');
const escapeText = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A dialect's runs of plain text: whitespace, or code that holds no character that may start a
 * comment or a quoted text (`/`, `$`, the first of each comment and quote), nor `;`; the letter
 * of a prefixed quote (`E'`) only where its quote follows. Read a run at a time rather than a
 * character at a time: every model's query is read by each check.
 */
const plainRuns = new WeakMap<SqlTextSyntax, RegExp>();
function plainRun(syntax: SqlTextSyntax): RegExp {
  let run = plainRuns.get(syntax);
  if (!run) {
    const stops = ['/', '$', ';', ...syntax.lineComments.map((s) => s[0]!), ...syntax.quotes.map((q) => q.open[0]!)];
    // A prefix letter is plain code unless the rest of its quote's opener follows.
    const letters = syntax.quotes
      .filter((q) => q.open.length > 1 && nameChar.test(q.open[0]!))
      .map((q) => `${escapeText(q.open[0]!)}(?!${escapeText(q.open.slice(1))})`);
    run = new RegExp(`\\s+|(?:${[`[^\\s${stops.map(escapeClass).join('')}]`, ...letters].join('|')})+`, 'y');
    plainRuns.set(syntax, run);
  }
  return run;
}

/** A comment (`code` false) or a quoted text starting at an index: where it ends, or -1 when it never does. */
type Skipped = { end: number; code: boolean; what: string };

/** What starts at `i` of `sql`, when it is a comment or a quoted text in the dialect. */
function skipper(syntax: SqlTextSyntax, sql: string): (i: number) => Skipped | undefined {
  // A tag is a name: non-ASCII letters are part of it, as in Postgres (`$é$ ... $é$` is a quote).
  const dollar = syntax.dollarQuotes === 'tagged' ? /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y : /\$\$/y;
  return (i) => {
    for (const start of syntax.lineComments) {
      if (sql.startsWith(start, i)) {
        // Ended by a carriage return too, as Postgres ends it: read to the line feed alone, a `;` after a lone CR was hidden.
        const lineEnd = /[\r\n]/g;
        lineEnd.lastIndex = i;
        const end = lineEnd.exec(sql)?.index ?? sql.length;
        return { end, code: false, what: '' };
      }
    }
    if (sql.startsWith('/*', i)) {
      let depth = 1;
      let j = i + 2;
      while (j < sql.length && depth > 0) {
        const step = sql.startsWith('*/', j) ? -1 : syntax.blockComments.nested && sql.startsWith('/*', j) ? 1 : 0;
        depth += step;
        j += step === 0 ? 1 : 2;
      }
      return { end: depth > 0 ? -1 : j, code: false, what: 'a `/*` comment' };
    }
    const before = sql[i - 1];
    const glued = before !== undefined && nameChar.test(before);
    if (sql[i] === '$' && syntax.dollarQuotes !== 'none' && !glued) {
      dollar.lastIndex = i;
      const open = dollar.exec(sql);
      if (open) {
        const close = sql.indexOf(open[0], i + open[0].length);
        return { end: close < 0 ? -1 : close + open[0].length, code: true, what: `a \`${open[0]}\` quoted text` };
      }
    }
    for (const q of syntax.quotes) {
      // A prefixed quote (E'...') only where a name does not run into it.
      if (!sql.startsWith(q.open, i) || (q.open.length > 1 && nameChar.test(q.open[0]!) && glued)) continue;
      for (let j = i + q.open.length; j < sql.length; ) {
        if (q.backslash && sql[j] === '\\') j += 2;
        else if (sql.startsWith(q.close, j)) {
          if (q.doubled && sql.startsWith(q.close, j + q.close.length)) j += 2 * q.close.length;
          else return { end: j + q.close.length, code: true, what: '' };
        } else j++;
      }
      return { end: -1, code: true, what: `a \`${q.open}\` quoted text` };
    }
    return undefined;
  };
}

/** A text's top-level semicolons and its last character of code (-1: none), or where a quoted text or comment is never closed. */
function scan(spec: DialectSpec, sql: string): { semicolons: number[]; lastCode: number; open?: { what: string; index: number } } {
  const syntax = spec.sqlText;
  const skip = skipper(syntax, sql);
  const semicolons: number[] = [];
  let lastCode = -1;
  let i = 0;
  const run = plainRun(syntax);
  while (i < sql.length) {
    run.lastIndex = i;
    const plain = run.exec(sql);
    if (plain) {
      if (!space.test(plain[0][0]!)) lastCode = i + plain[0].length - 1;
      i += plain[0].length;
      continue;
    }
    // A character that may start a comment or a quoted text, or a `;`.
    const c = sql[i]!;
    const skipped = skip(i);
    if (skipped) {
      if (skipped.end < 0) return { semicolons, lastCode, open: { what: skipped.what, index: i } };
      if (skipped.code) lastCode = skipped.end - 1;
      i = skipped.end;
      continue;
    }
    if (c === ';') semicolons.push(i);
    else lastCode = i;
    i++;
  }
  return { semicolons, lastCode };
}

/** Where each statement of a script ends: its semicolons outside quoted texts and comments, as the dialect reads them. */
export function statementEnds(spec: DialectSpec, sql: string): number[] {
  return scan(spec, sql).semicolons;
}

export function readQuery(spec: DialectSpec, sql: string): QueryText {
  const { semicolons, lastCode, open } = scan(spec, sql);
  if (open) return { problem: `${open.what} is never closed`, index: open.index };
  if (lastCode < 0) return { problem: 'the query is empty', index: -1 };
  const inside = semicolons.find((s) => s < lastCode);
  if (inside !== undefined) return { problem: 'a `;` ends the query before its end, and a model reads one query', index: inside };
  // Only the trailing semicolons are left; comments after them stay.
  let body = '';
  let from = 0;
  for (const s of semicolons) {
    body += sql.slice(from, s);
    from = s + 1;
  }
  return { body: (body + sql.slice(from)).trim() };
}

/** The model's query as it goes between parentheses: the closing one on a line of its own. */
export function queryInParentheses(spec: DialectSpec, sql: string): string {
  const read = readQuery(spec, sql);
  if ('problem' in read) throw new Error(`a model's sql cannot be used: ${read.problem}`);
  return `${read.body}\n`;
}

/**
 * The query as the warehouse reads it, for telling two versions apart: comments and runs of
 * whitespace made one space, a trailing `;` dropped, and every quoted text (strings, quoted
 * names, dollar quotes) exact, since a space inside `'Pro  Annual'` changes the rows.
 */
export function queryKey(spec: DialectSpec, sql: string): string {
  const read = readQuery(spec, sql);
  const text = 'body' in read ? read.body : sql;
  const skip = skipper(spec.sqlText, text);
  const run = plainRun(spec.sqlText);
  let out = '';
  let gap = false;
  const put = (code: string) => {
    out += gap && out !== '' ? ` ${code}` : code;
    gap = false;
  };
  for (let i = 0; i < text.length; ) {
    run.lastIndex = i;
    const plain = run.exec(text);
    if (plain) {
      if (space.test(plain[0][0]!)) gap = true;
      else put(plain[0]);
      i += plain[0].length;
      continue;
    }
    const skipped = skip(i);
    if (!skipped) {
      put(text[i]!);
      i++;
    } else if (skipped.end < 0) {
      // Never closed (the check refuses it): the rest as written.
      put(text.slice(i));
      break;
    } else {
      if (skipped.code) put(text.slice(i, skipped.end));
      else gap = true;
      i = skipped.end;
    }
  }
  return out;
}
