/**
 * Syntax diagnostics: the lexer's and the parser's errors in the words of the language, each
 * where the mistake is: a keyword without its name (`primary key` before `columns {`), a block
 * left open and where it opens, `&&` written for `and`. Only a file with errors gets here.
 */
import type { ILexingResult, ILexingError, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { tokenMatcher } from './chevrotain.js';
import { parser } from './parser.js';
import * as T from './tokens.js';
import { tokenSpan } from './build.js';
import { insertAfter, insertBefore, remove, replaceWith, type Diagnostic, type Fix, type Related } from '../diagnostics/diagnostic.js';
import { diagnostic, type CodeName } from '../diagnostics/codes.js';
import { closest } from '../diagnostics/suggest.js';
import { joinSpans, type Lines, type Span } from '../span.js';

/** Readable name of a token: `}` rather than RBrace, and only the start of a long one. */
function describe(t: IToken | undefined): string {
  if (!t || t.tokenType.name === 'EOF') return 'the end of the file';
  const line = t.image.split('\n')[0]!;
  const shown = line.length > 30 ? line.slice(0, 27) : line;
  return `\`${shown}${shown === t.image ? '' : '...'}\``;
}

function is(t: IToken | undefined, type: TokenType): boolean {
  return t !== undefined && tokenMatcher(t, type);
}

/** The line a token starts on, and that of its last character: tokens carry only their offset (tokens.ts). */
const startLine = (lines: Lines, t: IToken): number => lines.line(t.startOffset);
const endLine = (lines: Lines, t: IToken): number => lines.line(t.startOffset + Math.max(0, t.image.length - 1));

const definitionWords = ['source', 'destination', 'model', 'audience', 'sync'];
/** A keyword is always its own word: `source` is the keyword wherever it is written. */
const startsDefinition = (t: IToken): boolean => definitionWords.includes(t.image);

const definitionHint = 'a file holds `source`, `model`, `audience`, `destination` and `sync` definitions';
const settingsHint = 'a setting is a name and a value: `database "acme"`, `token env("TOKEN")`';
const columnHint = 'a column is a name, a type and an optional `?`: `email string?`';
const mappingHint = 'a mapping is `column -> field`, optionally followed by `hashed`';
const conditionHint = "a condition compares a column: `ltv >= 1000`, `country in ('US')`, `email is not null`";
const guardHint = '`guard deletes <= 100`, `guard deletes <= 5%` or `guard allow empty`';
const operatorsHint = 'conditions are joined with `and`, `or` and `not`, and compare with `=`, `!=`, `<`, `<=`, `>` and `>=`';

/** A block: what it holds (for "expected ... or `}`"), its hint, and the keywords a misspelt word there may be. */
interface Block {
  items: string;
  hint: string;
  keywords: string[];
}
const modelBlock: Block = {
  items: 'a model item',
  hint: 'a model takes `from`, `table`, `sql`, `primary key`, `order by` and `columns { ... }`',
  keywords: ['from', 'table', 'sql', 'primary', 'order', 'columns'],
};
const syncBlock: Block = {
  items: 'a sync item',
  hint: 'a sync takes `from`, `to`, `mode`, `identifier`, `map { ... }`, `batch`, `guard`, `schedule`, `message` and `format`',
  keywords: ['from', 'to', 'mode', 'identifier', 'map', 'batch', 'guard', 'schedule', 'message', 'format'],
};
/** The block whose `}` each rule expects: `columns {` and `map {` are parts of an item. */
const blocks: Record<string, Block> = {
  modelDef: modelBlock,
  syncDef: syncBlock,
  // After a condition, a capitalised or misspelt operator lands here.
  audienceDef: {
    items: '`from`, `where`',
    hint: 'an audience takes `from` a model and a `where` condition',
    keywords: ['from', 'where', 'and', 'or', 'not', 'in', 'is', 'like', 'between', 'null'],
  },
  settingsBlock: { items: 'a setting', hint: settingsHint, keywords: [] },
  modelItem: { items: 'a column', hint: columnHint, keywords: [] },
  syncItem: { items: 'a mapping', hint: mappingHint, keywords: [] },
};

/** The hint of the rule an error happened in, when nothing more precise explains it. */
const ruleHints: Record<string, string> = {
  project: definitionHint,
  definition: definitionHint,
  modelItem: modelBlock.hint,
  syncItem: syncBlock.hint,
  setting: settingsHint,
  value: 'a value is a string, a number, true/false, env("VAR") or a dotted name',
  columnDef: columnHint,
  typeRef: 'types: string, int, bigint, float, bool, date, timestamp, json, decimal(p, s)',
  notExpr: conditionHint,
  predicate: conditionHint,
  guardItem: guardHint,
  mapping: mappingHint,
};

/** What a keyword or a name needs after it, with an example. */
interface Need {
  what: string;
  example: string;
  hint?: string;
  /** A definition's name is followed by `:` (`source w : postgres`): a `:` there is no slip. */
  definition?: true;
  /**
   * What is missing is read in a run of words the parser cannot tell apart from it: a name or
   * value after a name in a block of such pairs (columns, settings), or a part of a condition.
   * The parser may have read the words before it one off (a column's name as the type of the
   * column before), so its reading is not `exact`.
   */
  uncertain?: true;
}
/**
 * A keyword's need; `rules`: the rules in which an error right after the keyword is about it
 * (elsewhere the word may be a name: a column called `mode`).
 */
interface KeywordNeed extends Need {
  rules: string[];
  /** The keyword's first word, for the two-word ones (`primary key`). */
  first?: TokenType;
}
function definitionNeed(word: string, example: string): KeywordNeed {
  return { rules: [`${word}Def`], what: 'a name', example, definition: true };
}
const needs = new Map<TokenType, KeywordNeed>([
  [T.Source, definitionNeed('source', 'source warehouse : postgres { ... }')],
  [T.Destination, definitionNeed('destination', 'destination crm : hubspot { ... }')],
  [T.Model, definitionNeed('model', 'model users { ... }')],
  [T.Audience, definitionNeed('audience', 'audience whales { ... }')],
  [T.Sync, definitionNeed('sync', 'sync users_to_crm { ... }')],
  [T.Table, { rules: ['modelItem', 'tablePath', 'tablePart', 'ident'], what: 'a table name', example: 'table analytics.users' }],
  [T.Sql, { rules: ['modelItem', 'stringLit'], what: 'a query in quotes', example: 'sql """select ..."""' }],
  [T.Dbt, { rules: ['modelItem', 'ident'], what: 'a dbt model name', example: 'dbt dim_users' }],
  [T.Key, { rules: ['modelItem', 'ident'], what: 'a column name', example: 'primary key user_id', first: T.Primary }],
  [T.By, { rules: ['modelItem', 'orderKey', 'ident'], what: 'a column name', example: 'order by updated_at desc', first: T.Order }],
  [T.Where, { rules: ['whereItem', 'expr', 'andExpr', 'notExpr', 'predicate', 'operand', 'literal'], what: 'a condition', example: 'where ltv >= 1000' }],
  [T.To, { rules: ['toItem'], what: 'a destination', example: 'to crm object contacts' }],
  [T.Mode, { rules: ['syncItem'], what: 'a mode', example: 'mode upsert', hint: 'the modes are upsert, insert, update, mirror, add and remove' }],
  [T.IdentifierKw, { rules: ['syncItem', 'mapping', 'ident'], what: 'a column', example: 'identifier email' }],
  [T.Batch, { rules: ['syncItem'], what: 'a number of records', example: 'batch 500' }],
  [T.Schedule, { rules: ['syncItem', 'stringLit'], what: 'a cron expression in quotes', example: 'schedule "0 6 * * *"' }],
  [T.Message, { rules: ['syncItem', 'stringLit'], what: 'a template in quotes', example: 'message "New lead: {{email}}"' }],
  [T.Format, { rules: ['syncItem'], what: 'a file format', example: 'format csv', hint: 'the formats are csv, jsonl and parquet' }],
  [T.Arrow, { rules: ['mapping', 'field'], what: 'a field name', example: 'email -> Email' }],
  [T.Guard, { rules: ['guardItem'], what: 'a bound', example: 'guard deletes <= 5%', hint: guardHint }],
  [T.Deletes, { rules: ['guardItem'], what: '`<=` and a bound', example: 'guard deletes <= 5%', first: T.Guard }],
  [T.Allow, { rules: ['guardItem'], what: '`empty`', example: 'guard allow empty', first: T.Guard }],
  ...[T.Eq, T.NotEq, T.Lt, T.LtEq, T.Gt, T.GtEq].map((op): [TokenType, KeywordNeed] => [
    op,
    { rules: ['predicate', 'operand', 'literal'], what: 'a value to compare with', example: 'ltv >= 1000', uncertain: true },
  ]),
  [T.And, { rules: ['notExpr', 'predicate', 'operand', 'literal'], what: 'a condition after it', example: "plan = 'pro' and ltv >= 1000", uncertain: true }],
  [T.Or, { rules: ['notExpr', 'predicate', 'operand', 'literal'], what: 'a condition after it', example: "plan = 'pro' or ltv >= 1000", uncertain: true }],
  [T.Not, { rules: ['notExpr', 'predicate', 'operand', 'literal'], what: 'a condition after it', example: 'not is_active', uncertain: true }],
  [T.In, { rules: ['predicate'], what: 'a list in parentheses', example: "country in ('US', 'CA')", uncertain: true }],
  [T.Like, { rules: ['predicate', 'stringLit'], what: 'a pattern in quotes', example: "email like '%@acme.com'", uncertain: true }],
  [T.Is, { rules: ['predicate'], what: '`null` or `not null`', example: 'email is not null', uncertain: true }],
  [T.Between, { rules: ['predicate', 'operand', 'literal'], what: 'two bounds', example: 'ltv between 100 and 1000', uncertain: true }],
  [T.DateKw, { rules: ['literal', 'stringLit', 'audienceDef'], what: 'a date in quotes', example: "date '2024-01-31'", uncertain: true }],
  [
    T.TimestampKw,
    { rules: ['literal', 'stringLit', 'audienceDef'], what: 'a timestamp in quotes', example: "timestamp '2024-01-31 12:00:00'", uncertain: true },
  ],
]);

/** What `from` reads depends on the definition. */
function fromNeed(stack: string[]): KeywordNeed {
  const rules = ['fromItem'];
  if (stack.includes('modelDef')) return { rules, what: 'the name of a source', example: 'from warehouse' };
  if (stack.includes('audienceDef')) return { rules, what: 'the name of a model', example: 'from users' };
  return { rules, what: 'the name of a model or audience', example: 'from users' };
}

/** A diagnostic's family and words, where it points when that is not the error's own token, and what else it is about. */
interface Explained {
  code: CodeName;
  message: string;
  hints: string[];
  span?: Span;
  related?: Related[];
  fixes?: Fix[];
  /**
   * The parser's recovery read the text around as written: only what the message names is
   * missing (a keyword's argument at the end of its item, a `}` at the end) or extra (a
   * separator). Otherwise it may have read what comes before or after as something else.
   */
  exact?: true;
}

/** The position of the token `t` in `tokens` (sorted by offset); `tokens.length` for the end of the file. */
function indexOf(tokens: IToken[], t: IToken): number {
  if (Number.isNaN(t.startOffset)) return tokens.length;
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < t.startOffset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `mode: upsert`, `database = "acme"`: a separator where the language has none, after the token `before`. */
function separatorSlip(lines: Lines, name: string, before: IToken, found: IToken | undefined, after: IToken | undefined): Explained | undefined {
  if (!found || !(is(found, T.Colon) || is(found, T.Eq)) || !after || startLine(lines, after) !== startLine(lines, found)) return undefined;
  // The separator and the spaces around it become one space: `mode: upsert` -> `mode upsert`.
  const end = tokenSpan(lines, before);
  const start = tokenSpan(lines, after);
  const between = lines.span(end.endOffset, start.offset);
  return {
    code: 'wrong-separator',
    message: `write \`${name} ${after.image}\`, without ${describe(found)}`,
    hints: [],
    span: tokenSpan(lines, found),
    fixes: [{ ...remove(between, found.image), replacement: ' ' }],
    exact: true,
  };
}

/**
 * "`mode` needs a mode: `mode upsert`", at the keyword when what follows is not its argument
 * (it is on another line, or ends or starts something); else at that wrong argument.
 */
function needMessage(lines: Lines, keyword: IToken[], need: Need, found: IToken | undefined, after: IToken | undefined): Explained {
  const words = keyword.map((t) => t.image).join(' ');
  const hints = need.hint ? [need.hint] : [];
  const last = keyword.at(-1)!;
  const endsItem = !found || startLine(lines, found) > endLine(lines, last) || is(found, T.RBrace);
  if (endsItem || is(found, T.ItemKeyword)) {
    const span = joinSpans(tokenSpan(lines, keyword[0]!), tokenSpan(lines, last));
    const missing: Explained = { code: 'missing-argument', message: `\`${words}\` needs ${need.what}: \`${need.example}\``, hints, span };
    // An item keyword on the same line may be a word out of place (`from mode users`) rather than the next item.
    if (endsItem && !need.uncertain) missing.exact = true;
    return missing;
  }
  const slip = need.definition ? undefined : separatorSlip(lines, words, last, found, after);
  if (slip) return { ...slip, hints };
  return { code: 'missing-argument', message: `\`${words}\` needs ${need.what}, not ${describe(found)}: \`${need.example}\``, hints };
}

/**
 * The words of the catalog a syntax error's hint names: object kinds, in all and by
 * destination type. Given by the caller (the catalog's `syntaxWords`), so that syntax knows
 * nothing of destinations; without them, any word after `to x` may be an object kind.
 */
export interface SyntaxWords {
  /** Every object kind (`object`, `table`, `topic`...), sorted; undefined when not known. */
  objectKinds?: readonly string[];
  /** The object kinds a destination type takes; undefined for a type that does not exist. */
  objectKindsOf(type: string): readonly string[] | undefined;
}

export const noWords: SyntaxWords = { objectKindsOf: () => undefined };

const destinationKinds = new WeakMap<IToken[], Map<string, readonly string[]>>();

/** The object kinds `dest` takes, when it is defined in the same file: its type's, or `table` for a source. */
function kindsOf(tokens: IToken[], dest: string, words: SyntaxWords): readonly string[] | undefined {
  let byName = destinationKinds.get(tokens);
  if (!byName) {
    // One pass per file, however many errors it has.
    byName = new Map();
    for (let i = 0; i + 1 < tokens.length; i++) {
      const name = tokens[i + 1]!.image;
      if (is(tokens[i], T.Source)) byName.set(name, ['table']);
      else if (is(tokens[i], T.Destination) && is(tokens[i + 2], T.Colon)) {
        const kinds = words.objectKindsOf(tokens[i + 3]?.image ?? '') ?? [];
        if (kinds.length > 0) byName.set(name, [...new Set(kinds)]);
      }
    }
    destinationKinds.set(tokens, byName);
  }
  return byName.get(dest);
}

/** The keyword (one to three tokens) just before token `at` that lacks what it needs, if the error is that. */
function lackingKeyword(tokens: IToken[], at: number, stack: string[], words: SyntaxWords): { keyword: IToken[]; need: KeywordNeed } | undefined {
  const prev = tokens[at - 1];
  if (!prev) return undefined;
  const rule = stack.at(-1)!;
  // `to events topic`: an object kind without the name of what to write to.
  if (rule === 'toItem' && is(tokens[at - 3], T.To) && !is(prev, T.To)) {
    // `to crm contacts`: a name where the object kind should be.
    if (words.objectKinds && !words.objectKinds.includes(prev.image)) {
      const dest = tokens[at - 2]!.image;
      const kinds = kindsOf(tokens, dest, words);
      const hint = kinds
        ? `\`${dest}\` takes ${kinds.map((k) => `\`${k}\``).join(' or ')}`
        : `the object kinds are ${words.objectKinds.join(', ')}; which ones a destination takes depends on its type`;
      // Uncertain: `to` reads any word as the destination, the next item's keyword too (`to mode mirror`).
      const need = {
        rules: [rule],
        what: 'an object kind before the name',
        example: `to ${dest} ${kinds?.[0] ?? '<kind>'} ${prev.image}`,
        hint,
        uncertain: true as const,
      };
      return { keyword: [tokens[at - 3]!, tokens[at - 2]!, prev], need };
    }
    const example = `to ${tokens[at - 2]!.image} ${prev.image} <name>`;
    const hint = 'after the destination come an object kind and what to write to: `to crm object contacts`';
    return { keyword: [prev], need: { rules: [rule], what: 'a name', example, hint } };
  }
  const need = is(prev, T.From) ? fromNeed(stack) : needs.get(prev.tokenType);
  if (!need || !need.rules.includes(rule)) return undefined;
  if (!need.first) return { keyword: [prev], need };
  const first = tokens[at - 2];
  return first && is(first, need.first) ? { keyword: [first, prev], need } : undefined;
}

/** A misspelt or capitalised keyword, where one of `keywords` could stand: the hint, and the fix. */
function keywordHints(lines: Lines, found: IToken | undefined, keywords: string[]): { hints: string[]; fixes: Fix[] } {
  if (!found || !/^[A-Za-z_]+$/.test(found.image)) return { hints: [], fixes: [] };
  const near = closest(found.image, keywords);
  if (near === undefined || near === found.image) return { hints: [], fixes: [] };
  const hint = near === found.image.toLowerCase() ? `keywords are lower case: \`${near}\`` : `did you mean \`${near}\`?`;
  return { hints: [hint], fixes: [replaceWith(tokenSpan(lines, found), near)] };
}

/** How the block opened by the `{` at `i` is called: model `users`, `columns {`. */
function blockName(tokens: IToken[], i: number): string {
  const before = tokens[i - 1];
  if (before && (is(before, T.Columns) || is(before, T.MapKw))) return `\`${before.image} {\``;
  // `model users {`, `source warehouse : postgres {`
  for (const k of [i - 2, i - 4]) {
    const head = tokens[k];
    const name = tokens[k + 1];
    if (head && name && startsDefinition(head)) return `${head.image} \`${name.image}\``;
  }
  return 'the `{`';
}

/** The first token of the line on which token `i` starts, looking back at most `limit` tokens. */
function lineStart(lines: Lines, tokens: IToken[], i: number, limit = Infinity): number {
  let j = i;
  const line = startLine(lines, tokens[i]!);
  while (j > 0 && i - j < limit && endLine(lines, tokens[j - 1]!) === line) j--;
  return j;
}

/** The last few tokens of the line of token `i` up to it, as written: `model users`, `columns`. */
function lineHead(lines: Lines, tokens: IToken[], i: number): string {
  return tokens
    .slice(lineStart(lines, tokens, i, 5), i + 1)
    .map((t) => t.image)
    .join(' ');
}

function indentOf(lines: Lines, tokens: IToken[], i: number): number {
  return lines.column(tokens[lineStart(lines, tokens, i)]!.startOffset);
}

/**
 * What the explanations need to know of the text before each token (and before the end),
 * computed once per file, on the first error that needs it: how many `{` and `(` are open, and
 * where the definition around it starts. No explanation reads the file from its start.
 */
interface Outline {
  braces: Int32Array;
  parens: Int32Array;
  definition: Int32Array;
}
const outlines = new WeakMap<IToken[], Outline>();

function outline(lines: Lines, tokens: IToken[]): Outline {
  const known = outlines.get(tokens);
  if (known) return known;
  const n = tokens.length;
  const o: Outline = { braces: new Int32Array(n + 1), parens: new Int32Array(n + 1), definition: new Int32Array(n + 1) };
  for (let i = 0; i < n; i++) {
    const t = tokens[i]!;
    const before = tokens[i - 1];
    // `model users {`, `source w :` outside any block, after a `}` or first on its line (not a column called `model`).
    const head = startsDefinition(t) && (is(tokens[i + 2], T.LBrace) || is(tokens[i + 2], T.Colon));
    const starts = head && (!before || o.braces[i] === 0 || is(before, T.RBrace) || endLine(lines, before) !== startLine(lines, t));
    o.definition[i] = starts || i === 0 ? i : o.definition[i - 1]!;
    o.braces[i + 1] = o.braces[i]! + (is(t, T.LBrace) ? 1 : is(t, T.RBrace) ? -1 : 0);
    o.parens[i + 1] = o.parens[i]! + (is(t, T.LParen) ? 1 : is(t, T.RParen) ? -1 : 0);
  }
  outlines.set(tokens, o);
  return o;
}

/** The start of the definition that token `at` ends or is inside of, and how many `open` are unclosed from there. */
function openSince(lines: Lines, tokens: IToken[], at: number, counts: 'braces' | 'parens'): { start: number; open: number } {
  const o = outline(lines, tokens);
  const start = o.definition[Math.max(0, at - 1)]!;
  return { start, open: o[counts][at]! - o[counts][start]! };
}

/**
 * The `{` left open before token `at`, and the block's name. Braces pair as the parser pairs
 * them, except that a `}` that starts its line closes the open block whose line it lines up
 * with: after `model m {`, `columns {` and a `}` at the margin, the `columns {` is the one left open.
 */
function unclosedBlock(lines: Lines, tokens: IToken[], at: number): { name: string; brace: IToken } | undefined {
  const open: number[] = [];
  let leftOpen: number | undefined;
  for (let i = openSince(lines, tokens, at, 'braces').start; i < at; i++) {
    const t = tokens[i]!;
    if (is(t, T.LBrace)) {
      if (open.length === 0) leftOpen = undefined;
      open.push(i);
    } else if (is(t, T.RBrace)) {
      const column = lines.column(t.startOffset);
      if (i > 0 && endLine(lines, tokens[i - 1]!) !== startLine(lines, t)) {
        while (open.length > 1 && indentOf(lines, tokens, open.at(-1)!) > column && indentOf(lines, tokens, open.at(-2)!) <= column) {
          leftOpen ??= open.at(-1);
          open.pop();
        }
      }
      open.pop();
    }
  }
  const i = leftOpen ?? open.at(-1);
  return i === undefined ? undefined : { name: blockName(tokens, i), brace: tokens[i]! };
}

/** Where a `}` was expected: a block left open, or something that is not an item of the block. */
function braceMessage(lines: Lines, tokens: IToken[], at: number, rule: string): Explained {
  const found = tokens[at];
  if (!found || startsDefinition(found)) {
    const open = unclosedBlock(lines, tokens, at);
    const message = `expected \`}\`, found ${describe(found)}`;
    const explained: Explained = { code: 'unclosed-block', message, hints: [] };
    if (open)
      Object.assign(explained, {
        hints: [`${open.name} is not closed`],
        related: [{ message: `${open.name} opens here`, span: tokenSpan(lines, open.brace) }],
      });
    // Read as written when a `{` is missing its `}` in the file as a whole, and the block ends where the file does or where a
    // definition's head (`model users {`) starts; otherwise a keyword out of place may have ended it, the `}` still to come.
    const unbalanced = outline(lines, tokens).braces[tokens.length]! > 0;
    if (unbalanced && (!found || is(tokens[at + 2], T.LBrace) || is(tokens[at + 2], T.Colon))) explained.exact = true;
    return explained;
  }
  // `project` then `dataset "events"` on the next line: `dataset` was read as the value of `project`.
  const [name, value] = [tokens[at - 2], tokens[at - 1]];
  if (rule === 'settingsBlock' && name && value && endLine(lines, name) !== startLine(lines, value) && startLine(lines, value) === startLine(lines, found)) {
    const hints = [`\`${value.image}\`, on the next line, was read as its value`, settingsHint];
    return { code: 'missing-argument', message: `\`${name.image}\` needs a value`, hints, span: tokenSpan(lines, name) };
  }
  const block = blocks[rule];
  if (!block) return { code: 'unexpected-token', message: `expected \`}\`, found ${describe(found)}`, hints: [] };
  const message = `expected ${block.items} or \`}\`, found ${describe(found)}`;
  if (is(found, T.Comma)) {
    const hints = ['items are separated by spaces or line breaks, not commas', block.hint];
    return { code: 'wrong-separator', message, hints, fixes: [remove(tokenSpan(lines, found), ',')], exact: true };
  }
  const keyword = keywordHints(lines, found, block.keywords);
  return { code: 'unexpected-token', message, hints: [...keyword.hints, block.hint], fixes: keyword.fixes };
}

const tokensByName = new Map(T.allTokens.map((t) => [t.name, t]));

/**
 * The words for one parser error, from the rule it happened in and the tokens around it;
 * undefined for an error that only follows from an earlier one.
 */
function explain(lines: Lines, e: IRecognitionException, tokens: IToken[], at: number, words: SyntaxWords): Explained | undefined {
  const stack = e.context.ruleStack;
  const rule = stack.at(-1) ?? 'project';
  const found = tokens[at];
  const prev = tokens[at - 1];
  const after = tokens[at + 1];

  // `to table crm.users`: a path where the object kind should be.
  const to = tokens[at - 3];
  if (rule === 'toItem' && to && prev && is(to, T.To) && is(found, T.Dot)) {
    const span = joinSpans(tokenSpan(lines, to), tokenSpan(lines, prev));
    return { code: 'missing-argument', message: '`to` needs a destination, an object kind and a name: `to warehouse table crm.users`', hints: [], span };
  }
  // A keyword, a column or a setting without what it needs.
  const lacking = lackingKeyword(tokens, at, stack, words);
  if (lacking) {
    const explained = needMessage(lines, lacking.keyword, lacking.need, found, after);
    // A separator is read past only when recovery deleted it, the token after it being the one expected.
    const expected = e.name === 'MismatchedTokenException' ? tokensByName.get(e.message) : undefined;
    if (explained.code === 'wrong-separator' && !(after && expected && tokenMatcher(after, expected))) delete explained.exact;
    return explained;
  }
  if (rule === 'typeRef' && prev && e.message === 'Name') {
    return needMessage(lines, [prev], { what: 'a type', example: `${prev.image} string`, hint: ruleHints.typeRef, uncertain: true }, found, after);
  }
  if (rule === 'value' && prev) {
    if (is(prev, T.Env) && is(found, T.LParen)) {
      return {
        code: 'missing-argument',
        message: '`env(...)` needs the name of a setting before it: `token env("TOKEN")`',
        hints: [],
        span: tokenSpan(lines, prev),
      };
    }
    return needMessage(lines, [prev], { what: 'a value', example: `${prev.image} "..."`, hint: settingsHint, uncertain: true }, found, after);
  }

  // `in ('US', 'CA',)`, `order by a, b,`
  if (prev && is(prev, T.Comma) && (!found || is(found, T.RParen) || is(found, T.RBrace) || is(found, T.ItemKeyword))) {
    const comma = tokenSpan(lines, prev);
    return {
      code: 'wrong-separator',
      message: 'a list does not end with `,`',
      hints: ['remove this `,`'],
      span: comma,
      fixes: [remove(comma, ',')],
      exact: true,
    };
  }

  if (stack.includes('envRef') && rule !== 'envRef') {
    return {
      code: 'missing-argument',
      message: `\`env(...)\` needs the variable's name in quotes, not ${describe(found)}: \`env("HUBSPOT_TOKEN")\``,
      hints: [],
    };
  }
  if (found && is(found, T.Not) && is(after, T.Null)) {
    const span = joinSpans(tokenSpan(lines, found), tokenSpan(lines, after!));
    return { code: 'operator-spelling', message: 'write `is not null`', hints: [], span, fixes: [insertBefore(span, 'is ')] };
  }
  if (e.name === 'EarlyExitException' && rule === 'predicate') {
    return { code: 'missing-argument', message: "`in (...)` needs at least one value: `country in ('US', 'CA')`", hints: [] };
  }

  const mismatch = e.name === 'MismatchedTokenException';
  const expected = mismatch ? tokensByName.get(e.message) : undefined;
  if (expected === T.RBrace) return braceMessage(lines, tokens, at, rule);
  // The top level, which expects the end of the file once no definition starts.
  if ((mismatch && e.message === 'EOF') || e.name === 'NotAllInputParsedException') {
    if (is(found, T.RBrace)) {
      // A `}` that has its `{` in the text was left over by the recovery from an earlier error.
      if (openSince(lines, tokens, at, 'braces').open > 0) return undefined;
      return { code: 'unexpected-token', message: 'this `}` closes no block', hints: ['remove it, or add the `{` it was meant to close'], exact: true };
    }
    const keyword = keywordHints(lines, found, definitionWords);
    return {
      code: 'unexpected-token',
      message: `expected a definition, found ${describe(found)}`,
      hints: [...keyword.hints, definitionHint],
      fixes: keyword.fixes,
    };
  }
  // `destination crm hubspot {`
  if (expected === T.Colon && prev && found && is(found, T.Name) && (rule === 'sourceDef' || rule === 'destinationDef')) {
    const [definition, type] = rule === 'sourceDef' ? ['source', 'dialect'] : ['destination', 'type'];
    return {
      code: 'wrong-separator',
      message: `expected \`:\` between the ${definition}'s name and its ${type}: \`${definition} ${prev.image} : ${found.image} { ... }\``,
      hints: [],
      fixes: [insertAfter(tokenSpan(lines, prev), ' :')],
      exact: true,
    };
  }
  // `in 'US', 'CA'`: the `(` the recovery took for granted was reported missing.
  if (expected === T.RParen && openSince(lines, tokens, at, 'parens').open <= 0) return undefined;
  // `decimal(12 2)`, `in ('US' 'CA')`
  if (expected === T.RParen && found && prev && startLine(lines, found) === endLine(lines, prev) && !is(found, T.LBrace)) {
    const example = rule === 'typeRef' ? 'decimal(12, 2)' : "country in ('US', 'CA')";
    return {
      code: 'wrong-separator',
      message: `expected \`,\` or \`)\`, found ${describe(found)}`,
      hints: [`separate the values with commas: \`${example}\``],
      fixes: [insertAfter(tokenSpan(lines, prev), ',')],
    };
  }
  const ruleHint = ruleHints[rule];
  const hints = ruleHint ? [ruleHint] : [];
  const code = 'unexpected-token';
  if (expected === T.LBrace && prev) return { code, message: `expected \`{\` after \`${lineHead(lines, tokens, at - 1)}\`, found ${describe(found)}`, hints };
  if (expected) return { code, message: `expected ${expected.LABEL ?? expected.name}, found ${describe(found)}`, hints };
  if (e.name === 'EarlyExitException') return { code, message: `expected at least one item here, found ${describe(found)}`, hints };
  return { code, message: `unexpected ${describe(found)}`, hints };
}

/** Recovery may insert tokens with no position: fall back to the token before them. */
function errorSpan(lines: Lines, e: IRecognitionException, tokens: IToken[]): Span {
  const t = e.token;
  if (!Number.isNaN(t.startOffset) && t.tokenType.name !== 'EOF') return tokenSpan(lines, t);
  const prev = (e as { previousToken?: IToken }).previousToken;
  const last = prev && !Number.isNaN(prev.startOffset) ? prev : tokens[tokens.length - 1];
  const end = last ? last.startOffset + last.image.length : lines.text.length;
  return lines.span(end, end);
}

/**
 * The words for each slip (see tokens.ts), by its token type. `opening`: how many of its
 * characters the diagnostic points at (an unclosed string's or a comment's, on one line);
 * `fix`: what those characters are written as; `close`: the quote that ends the string at the
 * end of its line.
 */
const slipWords = new Map<TokenType, { code: CodeName; message: string; hint: string; opening?: number; fix?: string; close?: string }>([
  [T.AndAnd, { code: 'operator-spelling', message: '`&&` is written `and`', hint: operatorsHint, fix: 'and' }],
  [T.OrOr, { code: 'operator-spelling', message: '`||` is written `or`', hint: operatorsHint, fix: 'or' }],
  [T.EqEq, { code: 'operator-spelling', message: '`==` is written `=`', hint: operatorsHint, fix: '=' }],
  // In a condition `=>` may mean `>=`: no one edit is the fix.
  [T.FatArrow, { code: 'operator-spelling', message: '`=>` is written `->` in a mapping', hint: 'in a condition, greater or equal is written `>=`' }],
  [T.DashComment, { code: 'comment-syntax', message: '`--` does not start a comment', hint: 'comments start with `#` or `//`', opening: 2, fix: '#' }],
  [
    T.OpenTripleString,
    {
      code: 'unclosed-string',
      message: 'this `"""` string is never closed',
      hint: 'close it with `"""`; until then it runs to the end of the file',
      opening: 3,
    },
  ],
  [
    T.OpenDqString,
    {
      code: 'unclosed-string',
      message: 'this string is not closed on its line',
      hint: 'close it with `"` on the same line; text that spans lines goes in `"""`',
      opening: 1,
      close: '"',
    },
  ],
  [
    T.OpenSqString,
    {
      code: 'unclosed-string',
      message: 'this string is not closed on its line',
      hint: 'close it with `\'` on the same line; text that spans lines goes in `"""`',
      opening: 1,
      close: "'",
    },
  ],
]);

function slipDiagnostic(lines: Lines, t: IToken): Diagnostic {
  const words = slipWords.get(t.tokenType)!;
  const span = tokenSpan(lines, t);
  // An unclosed string or a comment is shown at its opening characters, which are on one line.
  const at = words.opening ? lines.span(span.offset, span.offset + words.opening) : span;
  const fixes = words.fix !== undefined ? [replaceWith(at, words.fix)] : words.close ? [insertAfter(span, words.close)] : [];
  return diagnostic(words.code, at, { detail: words.message }, { hints: [words.hint], fixes });
}

/** The usual stray characters: a hint, and what the character is written as where one edit fixes it. */
const characterHints: Record<string, { hint: string; fix?: string }> = {
  '“': { hint: 'use straight quotes: `"` or `\'`', fix: '"' },
  '”': { hint: 'use straight quotes: `"` or `\'`', fix: '"' },
  '‘': { hint: 'use straight quotes: `"` or `\'`', fix: "'" },
  '’': { hint: 'use straight quotes: `"` or `\'`', fix: "'" },
  ';': { hint: 'a `.sync` file needs no `;`: remove it', fix: '' },
  '!': { hint: "negation is written `not`: `not is_active`, `plan != 'free'`", fix: 'not ' },
  '`': { hint: 'a quoted name must close with a backtick on the same line' },
};

function characterDiagnostic(lines: Lines, e: ILexingError): Diagnostic {
  const length = Math.max(1, e.length);
  // A stray run never holds a line break (the lexer reads \n as space): it ends on its line.
  const span = lines.span(e.offset, e.offset + length);
  const ch = lines.text.slice(e.offset, e.offset + length);
  const known = characterHints[ch[0]!];
  // A run of stray characters is one error: only a single one has an obvious edit.
  const fix = length === 1 ? known?.fix : undefined;
  const fixes = fix === undefined ? [] : [fix === '' ? remove(span, ch) : replaceWith(span, fix)];
  return diagnostic('unexpected-character', span, { text: ch.replace(/\n/g, '\\n') }, { hints: [known?.hint ?? 'remove it, or put it in a string'], fixes });
}

/** The tokens the parser reads: each slip in its place, as the token it stands for. */
export function withSlips(tokens: IToken[], slips: IToken[]): IToken[] {
  const meant = slips.flatMap((t) => {
    const type = T.slipMeaning(t.tokenType);
    return type ? [{ ...t, tokenType: type, tokenTypeIdx: type.tokenTypeIdx! }] : [];
  });
  return [...tokens, ...meant].sort((a, b) => a.startOffset - b.startOffset);
}

/**
 * The parser's errors as diagnostics, but for those that follow from a slip or from an earlier
 * error; and where the tree may not read the text as written: the place of each error that is
 * not `exact`, or is left out as a consequence.
 */
function parserDiagnostics(lines: Lines, tokens: IToken[], slips: IToken[], words: SyntaxWords): { diagnostics: Diagnostic[]; unsure: number[] } {
  const diagnostics: Diagnostic[] = [];
  const unsure: number[] = [];
  const slipOffsets = new Set(slips.map((t) => t.startOffset));
  // A string left open runs to the end of the file: the blocks it leaves open are its doing.
  const openToEnd = slips.at(-1)?.tokenType === T.OpenTripleString;
  let last = -2;
  for (const e of parser.errors) {
    if (slipOffsets.has(e.token.startOffset) || (openToEnd && e.token.tokenType.name === 'EOF')) continue;
    // An error on the token after the last one is its consequence: `env(X)` fails at `X`, then at `)`.
    const at = indexOf(tokens, e.token);
    const consequence = at <= last + 1;
    if (!consequence) last = at;
    const explained = consequence ? undefined : explain(lines, e, tokens, at, words);
    const span = explained?.span ?? errorSpan(lines, e, tokens);
    if (explained) diagnostics.push(diagnostic(explained.code, span, { detail: explained.message }, explained));
    // Marked at the token before the error: what is misread is the block that token is in, which the error's token may already have left.
    if (!explained?.exact) unsure.push(Math.min(span.offset, tokens[at - 1]?.startOffset ?? Infinity));
  }
  return { diagnostics, unsure };
}

/**
 * Every syntax diagnostic of a file the lexer or the parser found errors in, in file order;
 * and the offsets where the parser's tree may not read the text as written (see `exact`).
 */
export function syntaxDiagnostics(lines: Lines, lexed: ILexingResult, tokens: IToken[], words: SyntaxWords): { diagnostics: Diagnostic[]; unsure: number[] } {
  const slips = lexed.groups.slips ?? [];
  const parsed = parser.errors.length > 0 ? parserDiagnostics(lines, tokens, slips, words) : { diagnostics: [], unsure: [] };
  const diagnostics = [...lexed.errors.map((e) => characterDiagnostic(lines, e)), ...slips.map((t) => slipDiagnostic(lines, t)), ...parsed.diagnostics];
  const first = parser.errors[0];
  // Errors are left out only as consequences of reported ones: a file with errors has a diagnostic.
  if (diagnostics.length === 0 && first) {
    diagnostics.push(diagnostic('unexpected-token', errorSpan(lines, first, tokens), { detail: `unexpected ${describe(first.token)}` }));
  }
  return { diagnostics: diagnostics.sort((a, b) => a.span.offset - b.span.offset), unsure: parsed.unsure };
}
