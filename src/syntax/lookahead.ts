/**
 * How the parser chooses between alternatives: Chevrotain's LL(k) lookahead, with the
 * lookahead paths read from the build rather than computed on every run.
 *
 * Computing the paths (which token sequences select each alternative, each optional part) is
 * half of building the parser, and every CLI run builds it. The paths depend on the grammar
 * alone, so `npm run build` writes them to dist/syntax/lookahead.json
 * (scripts/write-lookahead.js), stamped with a fingerprint of the grammar. A parser whose grammar
 * has that fingerprint builds its lookahead functions from the file; otherwise (no file, or a
 * grammar changed since the build) it computes the paths exactly as Chevrotain does.
 * The functions built from paths are those of Chevrotain's LLkLookaheadStrategy.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  ILookaheadStrategy,
  ILookaheadValidationError,
  IOrAlt,
  LookaheadProductionType,
  LookaheadSequence,
  OptionalProductionType,
  Rule,
  TokenType,
} from 'chevrotain';
import { EOF, getLookaheadPaths, LLkLookaheadStrategy, serializeGrammar, tokenMatcher } from './chevrotain.js';

/** The paths of every decision, by `rule/production/occurrence`, as token type names. */
export interface LookaheadFile {
  grammar: string;
  paths: Record<string, string[][][]>;
}

// Beside dist/syntax/parser.js, named so that a module of the bundled CLI (dist/<folder>/) finds it too.
export const lookaheadFile = fileURLToPath(new URL('../syntax/lookahead.json', import.meta.url));

type Matcher = (this: { LA(i: number): { tokenTypeIdx: number } }) => boolean;
type Chooser = (this: { LA(i: number): { tokenTypeIdx: number } }, orAlts?: IOrAlt<unknown>[]) => number | undefined;

export class CachedLookahead implements ILookaheadStrategy {
  private grammar = '';
  private readonly used: Record<string, string[][][]> = {};
  private cached: Record<string, string[][][]> | undefined;
  private readonly llk: ILookaheadStrategy;
  private readonly byName: Map<string, TokenType>;

  constructor(
    private readonly maxLookahead: number,
    tokens: readonly TokenType[],
  ) {
    this.llk = new LLkLookaheadStrategy({ maxLookahead });
    this.byName = new Map([...tokens, EOF].map((t) => [t.name, t]));
  }

  validate(options: { rules: Rule[]; tokenTypes: TokenType[]; grammarName: string }): ILookaheadValidationError[] {
    return this.llk.validate(options);
  }

  /** Reads the build's paths when they were computed from this grammar (its productions and the lookahead depth). */
  initialize({ rules }: { rules: Rule[] }): void {
    this.grammar = createHash('sha256')
      .update(`${this.maxLookahead}\n${JSON.stringify(serializeGrammar(rules))}`)
      .digest('hex');
    if (!existsSync(lookaheadFile)) return;
    const file = JSON.parse(readFileSync(lookaheadFile, 'utf8')) as LookaheadFile;
    if (file.grammar === this.grammar) this.cached = file.paths;
  }

  /** What the build writes: the fingerprint of the grammar and the paths this parser used. */
  toFile(): LookaheadFile {
    return { grammar: this.grammar, paths: this.used };
  }

  buildLookaheadForAlternation(options: { prodOccurrence: number; rule: Rule; hasPredicates: boolean; dynamicTokensEnabled: boolean }): Chooser {
    const alts = this.paths(options.rule, 'Alternation', options.prodOccurrence);
    return options.dynamicTokensEnabled
      ? this.llk.buildLookaheadForAlternation({ ...options, maxLookahead: this.maxLookahead })
      : chooser(alts, options.hasPredicates);
  }

  buildLookaheadForOptional(options: { prodOccurrence: number; prodType: OptionalProductionType; rule: Rule; dynamicTokensEnabled: boolean }): Matcher {
    const paths = this.paths(options.rule, options.prodType, options.prodOccurrence)[0] ?? [];
    return options.dynamicTokensEnabled ? this.llk.buildLookaheadForOptional({ ...options, maxLookahead: this.maxLookahead }) : matcher(paths);
  }

  private paths(rule: Rule, prodType: LookaheadProductionType, occurrence: number): LookaheadSequence[] {
    const key = `${rule.name}/${prodType}/${occurrence}`;
    const names = this.cached?.[key];
    const paths = names
      ? names.map((alt) => alt.map((path) => path.map((name) => this.token(name))))
      : getLookaheadPaths({ occurrence, rule, prodType, maxLookahead: this.maxLookahead });
    this.used[key] = names ?? paths.map((alt) => alt.map((path) => path.map((t) => t.name)));
    return paths;
  }

  private token(name: string): TokenType {
    const t = this.byName.get(name);
    if (!t) throw new Error(`internal: lookahead names an unknown token ${name}`);
    return t;
  }
}

/** The alternative the next tokens select: the first whose gate is open and one of whose paths they start with. */
function chooser(alts: LookaheadSequence[], hasPredicates: boolean): Chooser {
  if (!hasPredicates && alts.every((alt) => alt.every((path) => path.length === 1))) {
    // One token decides: a table from token type (and each type its category covers) to alternative.
    const choice: Record<number, number> = {};
    alts.forEach((alt, i) => {
      for (const path of alt) for (const t of [path[0]!.tokenTypeIdx!, ...(path[0]!.categoryMatches ?? [])]) if (!(t in choice)) choice[t] = i;
    });
    return function () {
      return choice[this.LA(1).tokenTypeIdx];
    };
  }
  return function (orAlts) {
    for (let i = 0; i < alts.length; i++) {
      if (hasPredicates && orAlts?.[i]?.GATE?.call(this) === false) continue;
      if (startsOne(this, alts[i]!)) return i;
    }
    return undefined;
  };
}

/** Whether the next tokens start one of the paths into an optional part. */
function matcher(paths: TokenType[][]): Matcher {
  if (paths.every((path) => path.length === 1)) {
    const enter: Record<number, true> = {};
    for (const path of paths) for (const t of [path[0]!.tokenTypeIdx!, ...(path[0]!.categoryMatches ?? [])]) enter[t] = true;
    return function () {
      return enter[this.LA(1).tokenTypeIdx] === true;
    };
  }
  return function () {
    return startsOne(this, paths);
  };
}

/** Whether the next tokens start one of `paths`: a loop, not `some` with a closure, as it runs at every choice the parser makes. */
function startsOne(parser: { LA(i: number): { tokenTypeIdx: number } }, paths: TokenType[][]): boolean {
  for (const path of paths) if (startsWith(parser, path)) return true;
  return false;
}

function startsWith(parser: { LA(i: number): { tokenTypeIdx: number } }, path: TokenType[]): boolean {
  for (let i = 0; i < path.length; i++) if (!tokenMatcher(parser.LA(i + 1) as never, path[i]!)) return false;
  return true;
}
