/**
 * The tokens of the sync language. Order matters to the lexer: comments and multi-character
 * punctuation before their prefixes, triple-quoted strings before plain ones, a closed string
 * before an unclosed one.
 *
 * Keywords are not patterns of their own: the lexer reads every word as an Identifier and `lex`
 * then gives the words that are keywords their keyword's type (so `modeled` is a name, not
 * `mode` + `led`). One pattern and a table lookup per word, instead of trying each keyword
 * that starts with the word's letter, make lexing a large project a third faster.
 *
 * Keywords are reserved only where the grammar needs them: every keyword is also in the `Name`
 * category, so a column can be called `plan`, `mode` or `key`.
 */
import type { ILexingResult, TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';
import { selfChecks } from '../self-checks.js';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /(?:#|\/\/)[^\n\r]*/, group: 'comments' });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  group: 'comments',
  line_breaks: true,
});

/** Any token that may stand where a name is expected. */
export const Name = createToken({ name: 'Name', label: 'a name', pattern: Lexer.NA });
/** Keywords that start an item of a model, audience or sync. */
export const ItemKeyword = createToken({ name: 'ItemKeyword', pattern: Lexer.NA });
/** Keywords that start a sync item: a name after `to x` is an object kind unless it is one of these. */
export const SyncItemKeyword = createToken({ name: 'SyncItemKeyword', pattern: Lexer.NA, categories: [ItemKeyword] });

export const Identifier = createToken({ name: 'Identifier', label: 'a name', pattern: /[A-Za-z_][A-Za-z0-9_$]*/, categories: [Name] });

const keywordTypes = new Map<string, TokenType>();
function keyword(word: string, extra: TokenType[] = [], name = word[0]!.toUpperCase() + word.slice(1)): TokenType {
  const token = createToken({ name, pattern: Lexer.NA, categories: [Name, ...extra], label: `\`${word}\`` });
  keywordTypes.set(word, token);
  return token;
}

export const Source = keyword('source');
export const Model = keyword('model');
export const Audience = keyword('audience');
export const Destination = keyword('destination');
export const Sync = keyword('sync');
export const Env = keyword('env');
export const True = keyword('true');
export const False = keyword('false');
export const Null = keyword('null');
export const From = keyword('from', [SyncItemKeyword]);
export const To = keyword('to', [SyncItemKeyword]);
export const Table = keyword('table', [ItemKeyword]);
export const Sql = keyword('sql', [ItemKeyword]);
/** `dbt dim_users`: a model whose relation and columns come from a dbt project's artifacts. */
export const Dbt = keyword('dbt', [ItemKeyword]);
export const Primary = keyword('primary', [ItemKeyword]);
export const Key = keyword('key');
export const Order = keyword('order', [ItemKeyword]);
export const By = keyword('by');
export const Asc = keyword('asc');
export const Desc = keyword('desc');
export const Columns = keyword('columns', [ItemKeyword]);
export const Where = keyword('where', [ItemKeyword]);
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const In = keyword('in');
export const Is = keyword('is');
export const Like = keyword('like');
export const Between = keyword('between');
export const DateKw = keyword('date', [], 'DateKw');
export const TimestampKw = keyword('timestamp', [], 'TimestampKw');
export const Mode = keyword('mode', [SyncItemKeyword]);
export const IdentifierKw = keyword('identifier', [SyncItemKeyword], 'IdentifierKw');
export const MapKw = keyword('map', [SyncItemKeyword], 'MapKw');
export const Hashed = keyword('hashed');
export const Batch = keyword('batch', [SyncItemKeyword]);
export const Guard = keyword('guard', [SyncItemKeyword]);
export const Deletes = keyword('deletes');
export const Allow = keyword('allow');
export const Empty = keyword('empty');
export const Schedule = keyword('schedule', [SyncItemKeyword]);
export const Message = keyword('message', [SyncItemKeyword]);
export const Format = keyword('format', [SyncItemKeyword]);

export const TripleString = createToken({ name: 'TripleString', label: 'a """string"""', pattern: /"""[\s\S]*?"""/, line_breaks: true });
export const DqString = createToken({ name: 'DqString', label: 'a "string"', pattern: /"(?:[^"\\\n\r]|\\.)*"/ });
export const SqString = createToken({ name: 'SqString', label: "a 'string'", pattern: /'(?:[^'\\\n\r]|\\.)*'/ });
export const Backtick = createToken({ name: 'Backtick', label: 'a `quoted name`', pattern: /`[^`\n\r]+`/ });
export const NumberTok = createToken({ name: 'Number', label: 'a number', pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/ });

export const Arrow = createToken({ name: 'Arrow', label: '`->`', pattern: /->/ });
export const LBrace = createToken({ name: 'LBrace', label: '`{`', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', label: '`}`', pattern: /\}/ });
export const LParen = createToken({ name: 'LParen', label: '`(`', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', label: '`)`', pattern: /\)/ });
export const Comma = createToken({ name: 'Comma', label: '`,`', pattern: /,/ });
export const Dot = createToken({ name: 'Dot', label: '`.`', pattern: /\./ });
export const Colon = createToken({ name: 'Colon', label: '`:`', pattern: /:/ });
export const Question = createToken({ name: 'Question', label: '`?`', pattern: /\?/ });
export const Percent = createToken({ name: 'Percent', label: '`%`', pattern: /%/ });
export const NotEq = createToken({ name: 'NotEq', label: '`!=`', pattern: /!=|<>/ });
export const LtEq = createToken({ name: 'LtEq', label: '`<=`', pattern: /<=/ });
export const GtEq = createToken({ name: 'GtEq', label: '`>=`', pattern: />=/ });
export const Lt = createToken({ name: 'Lt', label: '`<`', pattern: /</ });
export const Gt = createToken({ name: 'Gt', label: '`>`', pattern: />/ });
export const Eq = createToken({ name: 'Eq', label: '`=`', pattern: /=/ });

/**
 * Slips: text often written for something the language spells otherwise (`&&` for `and`) or
 * left unfinished (a string never closed). The lexer puts them in a group of their own, so the
 * parser of a valid file never sees one; `parse` reports each and gives the parser the token it
 * stands for (or none, for a comment), so that a slip is one diagnostic and not a cascade.
 */
const slipMeanings = new Map<TokenType, TokenType | undefined>();
function slip(name: string, pattern: RegExp, meant: TokenType | undefined, line_breaks = false): TokenType {
  const token = createToken({ name, pattern, group: 'slips', line_breaks });
  slipMeanings.set(token, meant);
  return token;
}

export const AndAnd = slip('AndAnd', /&&/, And);
export const OrOr = slip('OrOr', /\|\|/, Or);
export const EqEq = slip('EqEq', /==/, Eq);
/** `=>` for `->` (or for `>=`). */
export const FatArrow = slip('FatArrow', /=>/, Arrow);
/** An SQL comment, which stands for nothing. */
export const DashComment = slip('DashComment', /--[^\n]*/, undefined);
/** A `"""` with no closing one: the rest of the file. */
export const OpenTripleString = slip('OpenTripleString', /"""[\s\S]*/, TripleString, true);
/** A quote with no closing one on its line: the rest of the line. */
export const OpenDqString = slip('OpenDqString', /"(?:[^"\\\n\r]|\\.)*/, DqString);
export const OpenSqString = slip('OpenSqString', /'(?:[^'\\\n\r]|\\.)*/, SqString);

/** The token a slip stands for, if any. */
export function slipMeaning(slip: TokenType): TokenType | undefined {
  return slipMeanings.get(slip);
}

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  TripleString,
  OpenTripleString,
  DqString,
  OpenDqString,
  SqString,
  OpenSqString,
  Backtick,
  Arrow,
  DashComment,
  NumberTok,
  ...keywordTypes.values(),
  Identifier,
  Name,
  ItemKeyword,
  SyncItemKeyword,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Dot,
  Colon,
  Question,
  Percent,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  EqEq,
  FatArrow,
  Eq,
  AndAnd,
  OrOr,
];

// Only \n ends a line, as in every other part of the project (code frames, spans); a lone \r is whitespace.
// Tokens keep only their offset: lines and columns are found from it where a span is made
// (`Lines` of src/span.ts), which leaves a token half the fields and spares the lexer counting lines.
const syncLexer = new Lexer(allTokens, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  skipValidations: !selfChecks,
  lineTerminatorsPattern: /\n/g,
  lineTerminatorCharacters: ['\n'],
});

/** The words the language reserves where its grammar needs them. */
export const keywords: readonly string[] = [...keywordTypes.keys()];

/** The tokens of a text, keywords told apart from other words. */
export function lex(text: string): ILexingResult {
  const lexed = syncLexer.tokenize(text);
  const tokens = lexed.tokens;
  // An index, not an iterator: this runs once per token of every file.
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType !== Identifier) continue;
    const k = keywordTypes.get(t.image);
    if (k) {
      t.tokenType = k;
      t.tokenTypeIdx = k.tokenTypeIdx!;
    }
  }
  return lexed;
}
