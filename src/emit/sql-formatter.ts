/**
 * sql-formatter, with its syntax tree built by sql-formatter-parse.ts instead of its nearley
 * parser, which costs a compile most of its formatting time and allocations. The tokenizer
 * and the layout are sql-formatter's own, so the text is the same. They are loaded from the
 * package's CommonJS files on the first statement a compile formats: a compile that takes
 * every statement from the previous compile's output never loads them. The package's entry
 * point offers no other parser, hence the paths into it, as pinned as its version.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DialectSpec } from '../dialect/index.js';
import { parseStatements, type SfNode, type SfToken } from './sql-formatter-parse.js';

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

interface Dialect {
  tokenizer: { tokenize(sql: string, paramTypes: object): SfToken[] };
}
interface FormatterClass {
  new (dialect: Dialect, cfg: typeof formatOptions): { format(sql: string): string; parse(sql: string): SfNode[] };
}
interface Internals {
  Formatter: FormatterClass;
  createDialect(options: object): Dialect;
  disambiguateTokens(tokens: SfToken[]): SfToken[];
  createEofToken(index: number): SfToken;
  dialects: Record<Language, object>;
}

const require = createRequire(import.meta.url);
let internals: Internals | undefined;

function load(): Internals {
  const root = join(dirname(require.resolve('sql-formatter/package.json')), 'dist', 'cjs');
  const file = <T>(path: string): T => require(join(root, path)) as T;
  const language = (name: Language): object => file<Record<Language, object>>(`languages/${name}/${name}.formatter.js`)[name];
  return {
    Formatter: file<{ default: FormatterClass }>('formatter/Formatter.js').default,
    createDialect: file<Pick<Internals, 'createDialect'>>('dialect.js').createDialect,
    disambiguateTokens: file<Pick<Internals, 'disambiguateTokens'>>('lexer/disambiguateTokens.js').disambiguateTokens,
    createEofToken: file<Pick<Internals, 'createEofToken'>>('lexer/token.js').createEofToken,
    dialects: { postgresql: language('postgresql'), snowflake: language('snowflake'), bigquery: language('bigquery') },
  };
}

type Formatter = InstanceType<FormatterClass>;
const formatters = new Map<Language, Formatter>();

/** sql-formatter's tokens of `sql`, as its parser reads them. */
function tokensOf(sf: Internals, dialect: Dialect, sql: string): SfToken[] {
  return [...sf.disambiguateTokens(dialect.tokenizer.tokenize(sql, {})), sf.createEofToken(sql.length)];
}

/** The formatter of a language: sql-formatter's, whose `parse` is this module's where it can be. */
function formatterOf(language: Language): Formatter {
  let formatter = formatters.get(language);
  if (formatter) return formatter;
  const sf = (internals ??= load());
  const dialect = sf.createDialect(sf.dialects[language]);
  class HandParsed extends sf.Formatter {
    override parse(sql: string): SfNode[] {
      return parseStatements(tokensOf(sf, dialect, sql)) ?? super.parse(sql);
    }
  }
  formatter = new HandParsed(dialect, formatOptions);
  formatters.set(language, formatter);
  return formatter;
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
  const sf = (internals ??= load());
  const dialect = sf.createDialect(sf.dialects[language]);
  const hand = parseStatements(tokensOf(sf, dialect, sql));
  try {
    return { hand, nearley: new sf.Formatter(dialect, formatOptions).parse(sql) };
  } catch (e) {
    return { hand, nearley: e as Error };
  }
}
