/**
 * Collects what varies between syncs of one shape: quoted names, literals, numbers and raw
 * SQL. Each goes through the dialect's one quoting or literal function and is written into
 * the shape as a numbered placeholder of the same token kind, so the shape can be formatted
 * once and reused (see format.ts).
 */
import type { Ident } from '../syntax/ast.js';
import { storedName, type DialectSpec } from '../dialect/index.js';
import { quoteIdent, quoteLiteral } from '../dialect/quote.js';

/** A number as SQL, once it is checked to be a plain numeric literal. */
export function sqlNumber(text: string | number | bigint): string {
  const t = String(text);
  if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw new Error(`not a number: ${t}`);
  return t;
}

/** Placeholders as a dialect writes them, by number: the same for every file, so made once. */
interface Written {
  names: string[];
  literals: string[];
  plain: string[];
}

const written = new WeakMap<DialectSpec, Written>();

function writtenBy(spec: DialectSpec): Written {
  let w = written.get(spec);
  if (!w) written.set(spec, (w = { names: [], literals: [], plain: [] }));
  return w;
}

export class SqlWriter {
  /** Placeholder number -> the real SQL text. */
  readonly values: string[] = [];
  /** Placeholders of SQL laid out over several lines here: their lines, indented as the line they are put on. */
  readonly blocks = new Map<number, readonly string[]>();

  private readonly written: Written;

  constructor(readonly spec: DialectSpec) {
    this.written = writtenBy(spec);
  }

  /**
   * Takes the placeholders another writer wrote (the names every file of a kind begins with),
   * as this writer's first ones: a fresh writer only.
   */
  start(values: readonly string[]): void {
    if (this.values.length > 0) throw new Error('internal: a writer starts with no placeholders');
    this.values.push(...values);
  }

  /** The next placeholder, as a token of its kind, standing for `real`. */
  private hole(real: string, kind: keyof Written): string {
    const n = this.values.length;
    this.values.push(real);
    const made = this.written[kind];
    return (made[n] ??= kind === 'names' ? quoteIdent(this.spec, `swph${n}`) : kind === 'literals' ? quoteLiteral(this.spec, `swph${n}`) : `swph${n}`);
  }

  /** An exact name, quoted. */
  name(exact: string): string {
    return this.hole(quoteIdent(this.spec, exact), 'names');
  }

  /** A name from a .sync file, folded by the dialect's rule unless it was quoted there. */
  ident(ident: Pick<Ident, 'text' | 'quoted'>): string {
    return this.name(storedName(this.spec, ident));
  }

  /** `a.b.c`, each part quoted. */
  path(parts: readonly Pick<Ident, 'text' | 'quoted'>[]): string {
    return parts.map((p) => this.ident(p)).join('.');
  }

  literal(value: string): string {
    return this.hole(quoteLiteral(this.spec, value), 'literals');
  }

  /** A number already validated as a SQL numeric literal. */
  number(text: string | number | bigint): string {
    return this.hole(sqlNumber(text), 'plain');
  }

  /** SQL kept exactly as written: a model's query, or a dialect's clause the formatter would split. */
  raw(sql: string): string {
    return this.hole(sql, 'plain');
  }

  /**
   * SQL laid out by the compiler (a `where` condition, src/emit/where.ts), too large to hand
   * to the formatter: its lines after the first are indented as the line it is put on (a line
   * break inside a string literal is part of the string, and stays as it is).
   */
  block(lines: readonly string[]): string {
    this.blocks.set(this.values.length, lines);
    return this.hole(lines.join('\n'), 'plain');
  }
}
