/** Type checking of audience `where` conditions. */
import type { Expr, Literal, Operand, StringLit } from '../syntax/ast.js';
import type { ColumnType } from '../catalog/types.js';
import type { CheckedColumn, CheckedModel } from './model.js';
import type { Reporter } from './report.js';
import { getDialect, nameKey } from '../dialect/index.js';
import { bareName, nameHints } from '../diagnostics/suggest.js';
import { checkLiteralText } from './names.js';
import { exactNumberLiteral } from '../dialect/quote.js';
import { insertBefore, replaceWith, type Advice, type Fix } from '../diagnostics/diagnostic.js';
import type { Span } from '../span.js';
import { maxOffsetMinutes, timestampAtUtc } from '../syntax/timestamp.js';

/** The kinds of value a condition can compare; two operands compare when their kinds are equal. */
type Kind = 'number' | 'string' | 'bool' | 'temporal' | 'json' | 'null' | 'unknown';

const kindOfColumn: Record<ColumnType, Kind> = {
  int: 'number',
  bigint: 'number',
  float: 'number',
  decimal: 'number',
  string: 'string',
  bool: 'bool',
  date: 'temporal',
  timestamp: 'temporal',
  json: 'json',
};

const kindOfLiteral: Record<Literal['type'], Kind> = {
  number: 'number',
  string: 'string',
  bool: 'bool',
  date: 'temporal',
  timestamp: 'temporal',
  null: 'null',
};

const describeKind: Record<Kind, string> = {
  number: 'a number',
  string: 'a string',
  bool: 'a boolean',
  temporal: 'a date/timestamp',
  json: 'json',
  null: 'null',
  unknown: 'an unknown value',
};

// A model's columns by the name the warehouse reads (the first of a name wins), built on first lookup.
const columnIndex = new WeakMap<CheckedModel, Map<string, CheckedColumn>>();

export function findColumn(model: CheckedModel, name: { text: string; quoted: boolean }): CheckedColumn | undefined {
  let index = columnIndex.get(model);
  if (!index) {
    index = new Map();
    for (const c of model.columns) {
      const key = nameKey(model.source.dialect, c.name);
      if (!index.has(key)) index.set(key, c);
    }
    columnIndex.set(model, index);
  }
  return index.get(nameKey(model.source.dialect, name));
}

export function unknownColumn(model: CheckedModel, name: { text: string; quoted?: boolean; span: Span }, r: Reporter): void {
  r.report('unknown-column', name.span, { name: name.text, model: model.name }, unknownColumnHints(model, name));
}

/** A column's name as a `.sync` file writes it: bare, or exact in double quotes. */
export function written(n: { text: string; quoted?: boolean }): string {
  return n.quoted ? JSON.stringify(n.text) : n.text;
}

/**
 * "did you mean", or, when only case or quoting differs, how the warehouse reads each name;
 * with the declared name as a fix where the reference has a place in the file.
 */
export function unknownColumnHints(model: CheckedModel, name: { text: string; quoted?: boolean; span?: Span }): Advice {
  const dialect = model.source.dialect;
  const sameLetters = model.columns.find((c) => c.name.text.toLowerCase() === name.text.toLowerCase());
  if (!sameLetters) {
    const declared = new Map(model.columns.map((c) => [c.name.text, c.name]));
    // An exact name (a dbt column) that a bare name reads as the same is written bare.
    const spell = (text: string) => {
      const n = declared.get(text)!;
      return n.quoted && bareName(n.text) && nameKey(dialect, { text: n.text, quoted: false }) === nameKey(dialect, n) ? n.text : written(n);
    };
    return nameHints(name, [...declared.keys()], 'columns', spell);
  }
  const read = nameKey(dialect, { text: name.text, quoted: name.quoted ?? false });
  return {
    hints: [
      `\`${written(name)}\` is read as \`${read}\`, but the column is declared as ${written(sameLetters.name)}, read as \`${nameKey(dialect, sameLetters.name)}\``,
      `${getDialect(dialect).identifiers.why}, and a quoted name is exact: write ${written(sameLetters.name)} as the model declares it`,
    ],
    fixes: name.span ? [replaceWith(name.span, written(sameLetters.name))] : [],
  };
}

const datePattern = /^\d{4}-\d{2}-\d{2}$/;
const timestampPattern = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function checkLiteral(l: Literal, model: CheckedModel, r: Reporter): void {
  if (l.type === 'string') checkLiteralText(model.source.dialect, String(l.value), l.span, r);
  if ((l.type !== 'date' && l.type !== 'timestamp') || l.missing) return;
  const text = String(l.value);
  const shapeOk = l.type === 'date' ? datePattern.test(text) : timestampPattern.test(text);
  const day = text.slice(0, 10);
  // A real day (the warehouses have no year 0), and a real time of day: 25:00 was taken, to be refused or rolled over where the sync ran.
  const time = /^.{10}[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
  const clock = !time || (Number(time[1]) <= 23 && Number(time[2]) <= 59 && Number(time[3] ?? 0) <= 59);
  const real =
    shapeOk &&
    clock &&
    !day.startsWith('0000') &&
    !Number.isNaN(Date.parse(`${day}T00:00:00Z`)) &&
    new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
  if (!real) {
    r.report('invalid-literal', l.span, { detail: `\`${text}\` is not a valid ${l.type}` }, [
      l.type === 'date' ? "write dates as date 'YYYY-MM-DD'" : "write timestamps as timestamp 'YYYY-MM-DD HH:MM:SS'",
    ]);
  } else if (l.type === 'timestamp' && timestampAtUtc(text) === undefined) {
    // The SQL holds the instant as its wall clock at UTC (src/emit/where.ts): the compiler applies the offset.
    r.report('invalid-literal', l.span, { detail: `\`${text}\` is not a valid timestamp` }, [
      `an offset from UTC runs from -${maxOffsetMinutes / 60}:00 to +${maxOffsetMinutes / 60}:00, its minutes up to 59, and the instant at UTC falls between 0001-01-01 and 9999-12-31`,
    ]);
  }
}

function operandKind(o: Operand, model: CheckedModel, r: Reporter): Kind {
  // What is missing has a syntax error of its own, and no kind.
  if (o.kind === 'literal' ? o.missing : o.name.missing) return 'unknown';
  if (o.kind === 'literal') {
    checkLiteral(o, model, r);
    return kindOfLiteral[o.type];
  }
  const col = findColumn(model, o.name);
  if (!col) {
    unknownColumn(model, o.name, r);
    return 'unknown';
  }
  return kindOfColumn[col.type];
}

/**
 * A number compared exactly (no float column takes part, as src/emit/where.ts writes it) that
 * the model's warehouse holds in no exact type: it would be rounded there, or not read at all.
 */
function checkExactNumbers(operands: readonly Operand[], model: CheckedModel, r: Reporter): void {
  const float = operands.some((o) => o.kind === 'column' && !o.name.missing && findColumn(model, o.name)?.type === 'float');
  const spec = getDialect(model.source.dialect);
  for (const o of operands) {
    if (o.kind !== 'literal' || o.type !== 'number' || o.missing) continue;
    if (float && /[.eE]/.test(o.raw)) {
      // Read as a float where it is compared: one beyond a double's range fails every run (overflow, or underflow to 0).
      const value = Number(o.raw);
      if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(o.raw.replace(/[eE].*$/, '')))) {
        r.report('invalid-literal', o.span, { detail: `\`${o.raw}\` is beyond the range of a float` }, [
          'a float holds magnitudes from about 2.2e-308 to 1.8e308, and 0',
        ]);
      }
      continue;
    }
    if (exactNumberLiteral(spec, o.raw) !== undefined) continue;
    const most = (key: 'integerDigits' | 'scale') => Math.max(...spec.conditions.exactNumbers.map((f) => f[key] ?? Infinity));
    r.report('invalid-literal', o.span, { detail: `\`${o.raw}\` has more digits than ${spec.name} compares exactly` }, [
      `${spec.name} holds an exact number of at most ${most('integerDigits')} digits before the point and ${most('scale')} after`,
    ]);
  }
}

function compatible(a: Kind, b: Kind): boolean {
  return a === 'unknown' || b === 'unknown' || (a === b && a !== 'json' && a !== 'null');
}

function mismatch(left: Kind, right: Kind, span: Span, r: Reporter, model: CheckedModel, operands: readonly Operand[] = [], like = false): void {
  const hints: string[] = [];
  const fixes: Fix[] = [];
  const kinds = [left, right];
  const quotedNumber = operands.find((o): o is Literal => o.kind === 'literal' && o.type === 'string' && /^-?\d+(\.\d+)?$/.test(String(o.value)));
  if (kinds.includes('null')) hints.push('compare with NULL using `is null` or `is not null`');
  else if (kinds.includes('json')) hints.push('json columns can only be tested with `is null` / `is not null`');
  else if (like) hints.push('`like` matches text; compare numbers and dates with `=`, `<`, `between`');
  else if (kinds.includes('temporal') && kinds.includes('string')) hints.push("write a typed literal: date '2024-01-31' or timestamp '2024-01-31 12:00:00'");
  else if (kinds.includes('number') && quotedNumber) {
    hints.push(`write the number without quotes: ${String(quotedNumber.value)}`);
    fixes.push(replaceWith(quotedNumber.span, String(quotedNumber.value)));
  }
  for (const o of operands) {
    if (o.kind !== 'column') continue;
    const col = findColumn(model, o.name);
    if (col) hints.push(`\`${o.name.text}\` is a ${col.type} column`);
  }
  r.report('incompatible-comparison', span, { left: describeKind[left], right: describeKind[right] }, { hints, fixes });
}

/**
 * A `like` pattern: `%` and `_` are wildcards and a backslash makes the next character itself
 * (the compiled SQL says so on every warehouse), so a pattern cannot end in a lone backslash.
 */
function checkPattern(pattern: StringLit, model: CheckedModel, r: Reporter): void {
  const { value, raw, span } = pattern;
  if (pattern.missing || !checkLiteralText(model.source.dialect, value, span, r)) return;
  if (/(^|[^\\])(\\\\)*\\$/.test(value)) {
    // The backslash doubled, before the closing quote: one more written `\\` in a quoted string, `\` in a `"""` one (no escapes there).
    const triple = raw.startsWith('"""');
    const close = triple ? 3 : 1;
    const at: Span = { ...span, line: span.endLine, column: span.endColumn - close, offset: span.endOffset - close };
    r.report(
      'invalid-literal',
      span,
      { detail: 'a `like` pattern cannot end with a backslash, which escapes the character after it' },
      {
        hints: ["to match a backslash the pattern holds two, written `\\\\\\\\` in a quoted string: `like '%\\\\\\\\'` matches text that ends in one"],
        fixes: [insertBefore(at, triple ? '\\' : '\\\\')],
      },
    );
  }
}

/** Check a condition; returns the kind of value it produces. */
export function checkCondition(e: Expr, model: CheckedModel, r: Reporter, source: string): Kind {
  switch (e.kind) {
    case 'logical':
      checkBool(e.left, model, r, source);
      checkBool(e.right, model, r, source);
      return 'bool';
    case 'not':
      checkBool(e.expr, model, r, source);
      return 'bool';
    case 'paren':
      return checkCondition(e.expr, model, r, source);
    case 'compare': {
      const left = operandKind(e.left, model, r);
      const right = operandKind(e.right, model, r);
      if (!compatible(left, right)) mismatch(left, right, e.span, r, model, [e.left, e.right]);
      else checkExactNumbers([e.left, e.right], model, r);
      return 'bool';
    }
    case 'in': {
      const kind = operandKind(e.operand, model, r);
      for (const item of e.list) {
        const k = operandKind(item, model, r);
        if (!compatible(kind, k)) mismatch(kind, k, item.span, r, model, [e.operand, item]);
      }
      checkExactNumbers([e.operand, ...e.list], model, r);
      return 'bool';
    }
    case 'isNull':
      operandKind(e.operand, model, r);
      return 'bool';
    case 'like': {
      const kind = operandKind(e.operand, model, r);
      if (!compatible(kind, 'string')) mismatch(kind, 'string', e.span, r, model, [e.operand], true);
      checkPattern(e.pattern, model, r);
      return 'bool';
    }
    case 'between': {
      const kind = operandKind(e.operand, model, r);
      for (const bound of [e.low, e.high]) {
        const k = operandKind(bound, model, r);
        if (!compatible(kind, k)) mismatch(kind, k, bound.span, r, model, [e.operand, bound]);
      }
      checkExactNumbers([e.operand, e.low, e.high], model, r);
      return 'bool';
    }
    case 'column':
    case 'literal':
      return operandKind(e, model, r);
  }
}

/**
 * A condition in a boolean position: a bare column or literal must be boolean. `and`, `or`,
 * `not` and parentheses are walked with an explicit stack, so a generated condition of
 * thousands of terms cannot exhaust the call stack.
 */
export function checkBool(e: Expr, model: CheckedModel, r: Reporter, source: string): void {
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (x.kind === 'logical') stack.push(x.right, x.left);
    else if (x.kind === 'not' || x.kind === 'paren') stack.push(x.expr);
    else {
      const kind = checkCondition(x, model, r, source);
      if (kind !== 'bool' && kind !== 'unknown') {
        r.report('non-boolean-condition', x.span, { text: source.slice(x.span.offset, x.span.endOffset), type: describeKind[kind] }, [
          'compare it with something: `ltv >= 1000`, `email is not null`',
        ]);
      }
    }
  }
}
