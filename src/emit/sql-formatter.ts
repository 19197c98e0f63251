/**
 * sql-formatter, with its syntax tree built by sql-formatter-parse.ts instead of its nearley
 * parser, which costs a compile most of its formatting time and allocations, and its reserved
 * words looked up by sql-formatter-words.ts. The tokenizer and the layout are sql-formatter's
 * own, so the text is the same. They are loaded from the package's CommonJS files on the first
 * statement a compile formats: a compile that takes every statement from the previous
 * compile's output never loads them. The package's entry point offers no other parser, hence
 * the paths into it: they are used only with the version the parser was written for
 * (`readVersion`); any other is used through its entry point, as it is.
 *
 * The tokenizers changed are those of sql-formatter's own dialect cache, in its CommonJS copy:
 * another user of that copy in the process gets the look-ups too, which match as the
 * expressions did.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DialectSpec } from '../dialect/index.js';
import { parseStatements, type SfNode, type SfToken } from './sql-formatter-parse.js';
import { type IdentChars, replacesExpression, reservedWords, type StickyMatcher } from './sql-formatter-words.js';

/** sql-formatter's defaults, with upper-case keywords and an indent of two spaces. */
export const formatOptions = {
  tabWidth: 2,
  useTabs: false,
  keywordCase: 'upper',
  identifierCase: 'preserve',
  dataTypeCase: 'preserve',
  functionCase: 'preserve',
  indentStyle: 'standard',
  logicalOperatorNewline: 'before',
  expressionWidth: 50,
  linesBetweenQueries: 1,
  denseOperators: false,
  newlineBeforeSemicolon: false,
} as const;

type Language = DialectSpec['formatter'];

interface Tokenizer {
  tokenize(sql: string, paramTypes: object): SfToken[];
}
/** The parts of sql-formatter's Tokenizer that `quickerWords` changes. */
export interface TokenizerParts {
  cfg: Record<string, unknown> & { identChars?: IdentChars };
  rulesBeforeParams: { type: string; regex: RegExp | StickyMatcher }[];
  rulesAfterParams: { type: string; regex: RegExp | StickyMatcher }[];
}
interface Dialect {
  tokenizer: Tokenizer;
}
interface FormatterClass {
  new (dialect: Dialect, cfg: typeof formatOptions): { format(sql: string): string; parse(sql: string): SfNode[] };
}
interface Internals {
  Formatter: FormatterClass;
  createDialect(options: object): Dialect;
  disambiguateTokens(tokens: SfToken[]): SfToken[];
  createEofToken(index: number): SfToken;
  Tokenizer: new (cfg: object, name: string) => Tokenizer;
  dialects: Record<Language, { name: string; tokenizerOptions: object }>;
}

const require = createRequire(import.meta.url);

/** The sql-formatter whose grammar sql-formatter-parse.ts reads and whose files `load` finds. */
export const readVersion = '15.6.12';
export const sqlFormatterVersion = (require('sql-formatter/package.json') as { version: string }).version;

/** sql-formatter's internals when `version` (the installed one) is `readVersion`; else undefined. */
export function internalsOf(version: string): Internals | undefined {
  return version === readVersion ? load() : undefined;
}

let loaded: Internals | null | undefined;
const internals = (): Internals | undefined => (loaded ??= internalsOf(sqlFormatterVersion) ?? null) ?? undefined;

/** The internals the tests compare with: there are none for another version than `readVersion`. */
function theInternals(): Internals {
  const sf = internals();
  if (!sf) throw new Error(`sql-formatter ${sqlFormatterVersion} is used through its entry point: its parser is not replaced`);
  return sf;
}

function load(): Internals {
  const root = join(dirname(require.resolve('sql-formatter/package.json')), 'dist', 'cjs');
  const file = <T>(path: string): T => require(join(root, path)) as T;
  const language = (name: Language) => file<Internals['dialects']>(`languages/${name}/${name}.formatter.js`)[name];
  return {
    Formatter: file<{ default: FormatterClass }>('formatter/Formatter.js').default,
    createDialect: file<Pick<Internals, 'createDialect'>>('dialect.js').createDialect,
    disambiguateTokens: file<Pick<Internals, 'disambiguateTokens'>>('lexer/disambiguateTokens.js').disambiguateTokens,
    createEofToken: file<Pick<Internals, 'createEofToken'>>('lexer/token.js').createEofToken,
    Tokenizer: file<{ default: Internals['Tokenizer'] }>('lexer/Tokenizer.js').default,
    dialects: { postgresql: language('postgresql'), snowflake: language('snowflake'), bigquery: language('bigquery') },
  };
}

/** Each kind of reserved word, and the list of the tokenizer's options its expression is made of. */
export const wordLists: Readonly<Record<string, string>> = {
  RESERVED_KEYWORD_PHRASE: 'reservedKeywordPhrases',
  RESERVED_DATA_TYPE_PHRASE: 'reservedDataTypePhrases',
  RESERVED_CLAUSE: 'reservedClauses',
  RESERVED_SELECT: 'reservedSelect',
  RESERVED_SET_OPERATION: 'reservedSetOperations',
  RESERVED_JOIN: 'reservedJoins',
  RESERVED_FUNCTION_NAME: 'reservedFunctionNames',
  RESERVED_DATA_TYPE: 'reservedDataTypes',
  RESERVED_KEYWORD: 'reservedKeywords',
};

/** The tokenizer with its reserved-word expressions replaced by set look-ups where they read as expected (sql-formatter-words.ts). */
function quickerWords(tokenizer: Tokenizer): void {
  const { cfg, rulesBeforeParams, rulesAfterParams } = tokenizer as unknown as TokenizerParts;
  for (const rule of [...rulesBeforeParams, ...rulesAfterParams]) {
    const list = wordLists[rule.type];
    const words = list === undefined ? undefined : cfg[list];
    if (Array.isArray(words) && replacesExpression(rule.regex, words, cfg.identChars ?? {})) rule.regex = reservedWords(words, cfg.identChars ?? {});
  }
}

/** sql-formatter's dialect of `language`, its tokenizer made quicker (once: a replaced expression is no longer one). */
function dialectOf(sf: Internals, language: Language): Dialect {
  const dialect = sf.createDialect(sf.dialects[language]);
  quickerWords(dialect.tokenizer);
  return dialect;
}

type Formatter = { format(sql: string): string };
const formatters = new Map<Language, Formatter>();

/** sql-formatter's tokens of `sql`, as its parser reads them. */
function tokensOf(sf: Internals, dialect: Dialect, sql: string): SfToken[] {
  return [...sf.disambiguateTokens(dialect.tokenizer.tokenize(sql, {})), sf.createEofToken(sql.length)];
}

/**
 * The formatter of a language: sql-formatter's, whose `parse` is this module's where it can be.
 * One per language serves every statement, as `formatDialect`'s new one each time would: a
 * Formatter keeps no state between statements but the `params` it is given, and it is given none.
 */
function formatterOf(language: Language): Formatter {
  let formatter = formatters.get(language);
  if (formatter) return formatter;
  const sf = internals();
  if (sf) {
    const dialect = dialectOf(sf, language);
    const tokens = (sql: string) => tokensOf(sf, dialect, sql);
    class HandParsed extends sf.Formatter {
      override parse(sql: string): SfNode[] {
        return parseStatements(tokens(sql)) ?? super.parse(sql);
      }
    }
    formatter = new HandParsed(dialect, formatOptions);
  } else formatter = { format: (sql) => publishedFormat(language, sql) };
  formatters.set(language, formatter);
  return formatter;
}

/** `sql` laid out by sql-formatter through its entry point, as it is: for a version other than `readVersion`. */
export function publishedFormat(language: Language, sql: string): string {
  const published = require('sql-formatter') as typeof import('sql-formatter');
  return published.formatDialect(sql, { dialect: published[language], ...formatOptions });
}

/** `sql` laid out by sql-formatter in `language`, as its `formatDialect` with `formatOptions` lays it out. */
export function formatSql(language: Language, sql: string): string {
  return formatterOf(language).format(sql);
}

/**
 * The syntax trees of `sql`, for the tests to compare: this module's (undefined where it leaves
 * the text to nearley) and nearley's (its error where it refuses the text).
 */
export function bothTrees(language: Language, sql: string): { hand: SfNode[] | undefined; nearley: SfNode[] | Error } {
  const sf = theInternals();
  const dialect = dialectOf(sf, language);
  const hand = parseStatements(tokensOf(sf, dialect, sql));
  try {
    return { hand, nearley: new sf.Formatter(dialect, formatOptions).parse(sql) };
  } catch (e) {
    return { hand, nearley: e as Error };
  }
}

const ownTokenizers = new Map<Language, Tokenizer & TokenizerParts>();

/** sql-formatter's own tokenizer of `language`, its expressions as it builds them: the tests' measure of `quickerWords`. */
export function ownTokenizer(language: Language): Tokenizer & TokenizerParts {
  let tokenizer = ownTokenizers.get(language);
  if (!tokenizer) {
    const { Tokenizer, dialects } = theInternals();
    tokenizer = new Tokenizer(dialects[language].tokenizerOptions, dialects[language].name) as Tokenizer & TokenizerParts;
    ownTokenizers.set(language, tokenizer);
  }
  return tokenizer;
}

/** The tokens of `sql` from the tokenizer `formatSql` uses and from sql-formatter's own (or their errors), for the tests to compare. */
export function bothTokens(language: Language, sql: string): { quick: SfToken[] | Error; own: SfToken[] | Error } {
  const tokens = (tokenizer: Tokenizer) => {
    try {
      return tokenizer.tokenize(sql, {});
    } catch (e) {
      return e as Error;
    }
  };
  return { quick: tokens(dialectOf(theInternals(), language).tokenizer), own: tokens(ownTokenizer(language)) };
}
