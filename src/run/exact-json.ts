/**
 * JSON read and written without changing a number. JSON.parse makes every number a double, so
 * a bigint above 2^53 or a decimal(30, 2) arrives changed (9007199254740993 becomes
 * 9007199254740992, 1e400 Infinity and then null), and Node 20 has neither a reviver's source
 * text nor JSON.rawJSON. Here a number whose value a double does not keep becomes an
 * `ExactNumber` holding its text, written back as that text; every other number stays a plain
 * number, so JSON that holds none reads and writes exactly as JSON.parse and JSON.stringify do.
 */
export class ExactNumber {
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
    anyExact = true;
  }

  /** The number as the source wrote it: what templates, CSV cells and URLs put in text. */
  toString(): string {
    return this.#text;
  }

  /** Only for a JSON.stringify that should have been `stringifyJson`: the digits, quoted, rather than `{}`. */
  toJSON(): string {
    return this.#text;
  }
}

/**
 * Whether an ExactNumber was ever made in this process: until one is, no value holds one, and
 * `stringifyJson` skips its walk of each value (a share of a large batch's time, where numbers
 * are rarely beyond a double).
 */
let anyExact = false;

/** A JSON number's decimal value in one spelling (`-12345e-2`), sign kept, so `5.00` and `5` compare equal and `-0` and `0` do not. */
function decimal(text: string): string | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const fraction = m[3] ?? '';
  const digits = `${m[2]}${fraction}`.replace(/^0+/, '');
  if (digits === '') return `${m[1]}0`;
  const significant = digits.replace(/0+$/, '');
  // BigInt: an exponent of more digits than a double holds exactly still compares exactly.
  const exponent = BigInt(m[4] ?? 0) - BigInt(fraction.length) + BigInt(digits.length - significant.length);
  return `${m[1]}${significant}e${exponent}`;
}

/** A JSON number token: a plain number where the double has its value, else an ExactNumber. */
function jsonNumber(text: string): number | ExactNumber {
  const n = Number(text);
  // Up to 15 digits and no exponent always survive a double (but a negative zero's sign).
  if (text.length <= 15 && !/[eE]/.test(text) && !(n === 0 && text.startsWith('-'))) return n;
  return Number.isFinite(n) && decimal(String(n)) === decimal(text) ? n : new ExactNumber(text);
}

/**
 * Where a value starts (after `:`, `,` or `[`), a number a double may change: 16 digits or
 * dots in a row, an exponent, or `-0`. Only a number of 15 digits or fewer, without an
 * exponent and not a negative zero, passes: a double always keeps it. A string may match too,
 * which costs only the slower parse. Scanning from the separators takes about a third of
 * JSON.parse's time; scanning every run of digits took as long as the parse itself.
 */
const mayLoseNumbers = /[:,[][ \t\n\r]*(?:-0|-?[\d.]{16}|-?[\d.]+[eE])/;
/** A document that is a number, which no separator precedes. */
const startsWithNumber = /^[ \t\n\r]*[-\d]/;

/** JSON text parsed as JSON.parse does, but for numbers a double changes (`jsonNumber`); throws SyntaxError as it does. */
export function parseJson(text: string): unknown {
  return (mayLoseNumbers.test(text) || startsWithNumber.test(text)) && changesNumber(text) ? new Parser(text).document() : JSON.parse(text);
}

/**
 * Deeper than any API's answer, and far short of what the readers of a document reach by
 * recursion: JSON.stringify and the walks of this module give up after a few thousand levels,
 * with a RangeError that ended the whole plan.
 */
const answerDepth = 256;

/** What `parseAnswer` gives for an answer nested deeper than `answerDepth`: JSON, but none its readers can take at its word. */
export const tooDeep: unique symbol = Symbol('an answer nested too deep');

/** What a message says of such an answer. */
export const tooDeepSaid = `the answer nests deeper than ${answerDepth} levels, as no API's does`;

/** How deep the text's arrays and objects nest, counted until it passes `limit`. */
function nesting(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return depth;
}

/** A server's answer as JSON (`parseJson`); undefined where it is not JSON; `tooDeep` where it nests deeper than any API's answer. */
export function parseAnswer(body: string): unknown {
  if (nesting(body, answerDepth) > answerDepth) return tooDeep;
  try {
    return parseJson(body);
  } catch {
    return undefined;
  }
}

/** A string token (skipped), or a run that may be a number: each number of a text, in one native pass. */
const tokens = /"(?:[^"\\]+|\\.)*"|-?\d[\d.eE+-]*/g;

/**
 * Whether some number of the text is one a double changes: the separators' scan also stops at
 * numbers a double keeps (`12.3000000000000000`, a numeric division's scale), and the parser of
 * this module costs several times JSON.parse. True where it cannot tell (a string too long for
 * the pattern): the parser then decides.
 */
function changesNumber(text: string): boolean {
  try {
    for (const m of text.matchAll(tokens)) if (m[0][0] !== '"' && jsonNumber(m[0]) instanceof ExactNumber) return true;
    return false;
  } catch {
    return true;
  }
}

const whitespace = /[ \t\n\r]*/y;
const numberToken = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const stringToken = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const literals = { t: ['true', true], f: ['false', false], n: ['null', null] } as const;

class Parser {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const v = this.value();
    this.space();
    if (this.at < this.text.length) this.fail();
    return v;
  }

  private fail(): never {
    throw new SyntaxError(`Unexpected ${this.at < this.text.length ? `token in JSON at position ${this.at}` : 'end of JSON input'}`);
  }

  private space(): void {
    whitespace.lastIndex = this.at;
    whitespace.test(this.text);
    this.at = whitespace.lastIndex;
  }

  private token(pattern: RegExp): string {
    pattern.lastIndex = this.at;
    const m = pattern.exec(this.text);
    if (!m) this.fail();
    this.at = pattern.lastIndex;
    return m[0];
  }

  /** Skips whitespace, then takes `c` if it comes next. */
  private take(c: string): boolean {
    this.space();
    if (this.text[this.at] !== c) return false;
    this.at++;
    return true;
  }

  private value(): unknown {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    // The string's escapes are JSON.parse's own to decode.
    if (c === '"') return JSON.parse(this.token(stringToken)) as string;
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return jsonNumber(this.token(numberToken));
    const literal = c === undefined ? undefined : literals[c as keyof typeof literals];
    if (!literal || !this.text.startsWith(literal[0], this.at)) this.fail();
    this.at += literal[0].length;
    return literal[1];
  }

  private array(): unknown[] {
    this.at++;
    const out: unknown[] = [];
    if (this.take(']')) return out;
    do out.push(this.value());
    while (this.take(','));
    if (!this.take(']')) this.fail();
    return out;
  }

  private object(): Record<string, unknown> {
    this.at++;
    const out: Record<string, unknown> = {};
    if (this.take('}')) return out;
    do {
      this.space();
      const key = JSON.parse(this.token(stringToken)) as string;
      if (!this.take(':')) this.fail();
      const v = this.value();
      // A `__proto__` member is a member, as JSON.parse makes it, not the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
      else out[key] = v;
    } while (this.take(','));
    if (!this.take('}')) this.fail();
    return out;
  }
}

function holdsExact(v: unknown): boolean {
  if (v instanceof ExactNumber) return true;
  if (v === null || typeof v !== 'object') return false;
  return (Array.isArray(v) ? v : Object.values(v)).some(holdsExact);
}

/**
 * A value as JSON text, as JSON.stringify writes it (`indent` its `space`), but an
 * ExactNumber as its own text. A value without one is JSON.stringify's to write.
 */
export function stringifyJson(value: unknown, indent?: number): string {
  if (!anyExact || !holdsExact(value)) return JSON.stringify(value, null, indent);
  return write(value, '', ' '.repeat(indent ?? 0), '') as string;
}

/** JSON.stringify's SerializeJSONProperty, an ExactNumber written as its text; undefined where it leaves a member out. */
function write(input: unknown, key: string, gap: string, indent: string): string | undefined {
  let v = input;
  if (v !== null && typeof v === 'object' && !(v instanceof ExactNumber) && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    v = (v as { toJSON(key: string): unknown }).toJSON(key);
  if (v instanceof ExactNumber) return v.toString();
  // Primitives and boxed ones are JSON.stringify's own (undefined for a function or a symbol).
  if (v === null || typeof v !== 'object' || v instanceof Number || v instanceof String || v instanceof Boolean) return JSON.stringify(v);
  const inner = indent + gap;
  const open = gap ? `\n${inner}` : '';
  const close = gap ? `\n${indent}` : '';
  const separator = gap ? `,\n${inner}` : ',';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${open}${v.map((x, i) => write(x, String(i), gap, inner) ?? 'null').join(separator)}${close}]`;
  }
  const members: string[] = [];
  for (const k of Object.keys(v)) {
    const text = write((v as Record<string, unknown>)[k], k, gap, inner);
    if (text !== undefined) members.push(`${JSON.stringify(k)}:${gap ? ' ' : ''}${text}`);
  }
  return members.length === 0 ? '{}' : `{${open}${members.join(separator)}${close}}`;
}
