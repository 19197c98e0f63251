/**
 * The Chevrotain parser of the sync language. It produces a CST; `build.ts` turns it into the
 * AST. Recovery is on, so one run reports every syntax error it can, and a file with errors
 * still has a tree.
 */
import type { CstNode, IOrAlt, IParserErrorMessageProvider, IToken, OrMethodOpts, TokenType } from 'chevrotain';
import { createTokenInstance, CstParser, tokenMatcher } from './chevrotain.js';
import * as T from './tokens.js';
import { selfChecks } from '../self-checks.js';
import { CachedLookahead } from './lookahead.js';

const maxLookahead = 3;
/** The lookahead paths the parser used, written by the build (src/syntax/lookahead.ts). */
export const lookaheadStrategy = new CachedLookahead(maxLookahead, T.allTokens);

/**
 * A mismatch's message is the name of the token type it expected: `parse.ts` words each
 * diagnostic from that, the rule and the tokens around; the other errors need no message.
 */
const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected }) => expected.name,
  buildNotAllInputParsedMessage: () => '',
  buildNoViableAltMessage: () => '',
  buildEarlyExitMessage: () => '',
};

/** Chevrotain's own way to record an error before throwing it, which its public typings leave out. */
interface ErrorRecorder {
  SAVE_ERROR(error: Error): Error;
}

/** Chevrotain's own CST building state, which its public typings leave out. */
interface CstBuilding {
  CST_STACK: CstNode[];
  setInitialNodeLocation(node: CstNode): void;
}

/**
 * Reading a file stops after this many syntax errors (as clang's -ferror-limit does): the
 * first ones are what to fix, and recovering from thousands costs time that grows with their
 * square.
 */
export const syntaxErrorLimit = 50;

class SyncParser extends CstParser {
  /** Where reading stopped once the file had `syntaxErrorLimit` errors; undefined when it was read to the end. */
  stoppedAt: IToken | undefined;

  /**
   * The alternatives of each choice (`OR`), by rule, made on its first run: a rule runs for
   * every node of every file, and the array of closures it would make on each run was a fifth
   * of what a parse allocates (as Chevrotain's performance guide says: cache the arrays of
   * alternatives). The closures refer to nothing but the parser.
   */
  private readonly choices: Record<string, IOrAlt<unknown>[] | OrMethodOpts<unknown>> = {};

  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead,
      lookaheadStrategy,
      // Offsets only: the builder reads lines and columns off the text (build.ts), which costs
      // less than Chevrotain copying six fields into every node for every token it takes.
      nodeLocationTracking: 'onlyOffset',
      skipValidations: !selfChecks,
      errorMessageProvider: errorMessages,
    });
    this.performSelfAnalysis();
  }

  /**
   * Where a name is wanted: fails if the next word starts the next item instead, that is if it
   * is a keyword that starts an item (`columns`, `mode`) and the token after it could not
   * follow a name here (`columns {`, `mode upsert`), which happens in no valid file. The name
   * is then missing: the error is recorded as a failed choice there, and recovery resumes at
   * that item instead of taking the keyword as the name and failing on its argument.
   * `follows`: what may follow the name besides the next item, `}` or the end.
   * Called in an ACTION, which grammar recording skips; a plain check costs a valid file less
   * than a gated choice would.
   */
  private refuseNextItem(...follows: TokenType[]): void {
    if (!tokenMatcher(this.LA(1), T.ItemKeyword)) return;
    const after = this.LA(2);
    if (after.tokenType.name === 'EOF' || tokenMatcher(after, T.ItemKeyword) || tokenMatcher(after, T.RBrace)) return;
    if (follows.some((t) => tokenMatcher(after, t))) return;
    const error = Object.assign(new Error(''), { name: 'NoViableAltException', token: this.LA(1), previousToken: this.LA(0), resyncedTokens: [] });
    throw (this as unknown as ErrorRecorder).SAVE_ERROR(error);
  }

  /**
   * A new CST node. Chevrotain makes its `children` with `Object.create(null)`: an object in
   * dictionary mode, which costs the parse and the builder's reads of it a quarter of their
   * time (and the garbage collector more). A plain object literal holds the few keys a node
   * has in place. No key can meet a property of Object.prototype: keys are the names of rules,
   * of token types (capitalised) and the labels given above. Chevrotain 11's method of the same
   * name, replaced here (test/parse.test.ts checks that it still is).
   */
  cstInvocationStateUpdate(fullRuleName: string): void {
    const self = this as unknown as CstBuilding;
    const node: CstNode = { name: fullRuleName, children: {} };
    self.setInitialNodeLocation(node);
    self.CST_STACK.push(node);
  }

  override reset(): void {
    super.reset();
    this.stoppedAt = undefined;
  }

  /**
   * A token that recovery inserts stands for text that is missing. It is placed with no
   * width right after the token before it (as Langium places it), so that the placeholder
   * the builder makes of it points where the text is missing.
   */
  protected override getTokenToInsert(tokType: TokenType): IToken {
    const before = this.LA(0);
    const known = !Number.isNaN(before.startOffset);
    // After a token that ends with a line break (a `"""` string left open), the next line starts.
    const broken = known && before.image.endsWith('\n');
    const end = known ? before.endOffset! : -1;
    const line = known ? before.endLine! + (broken ? 1 : 0) : 1;
    const column = known && !broken ? before.endColumn! : 0;
    const t = createTokenInstance(tokType, '', end + 1, end, line, line, column + 1, column);
    t.isInsertedInRecovery = true;
    return t;
  }

  project = this.RULE('project', () => {
    // The definitions read before the error limit make the tree; the rest of the file is skipped.
    this.MANY({ GATE: () => this.errors.length < syntaxErrorLimit || ((this.stoppedAt ??= this.LA(1)), false), DEF: () => this.SUBRULE(this.definition) });
  });

  definition = this.RULE('definition', () => {
    this.OR(
      (this.choices.definition ??= [
        { ALT: () => this.SUBRULE(this.sourceDef) },
        { ALT: () => this.SUBRULE(this.destinationDef) },
        { ALT: () => this.SUBRULE(this.modelDef) },
        { ALT: () => this.SUBRULE(this.audienceDef) },
        { ALT: () => this.SUBRULE(this.syncDef) },
      ]),
    );
  });

  sourceDef = this.RULE('sourceDef', () => {
    this.CONSUME(T.Source);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Name, { LABEL: 'dialect' });
    this.SUBRULE(this.settingsBlock);
  });

  destinationDef = this.RULE('destinationDef', () => {
    this.CONSUME(T.Destination);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Name, { LABEL: 'type' });
    this.SUBRULE(this.settingsBlock);
  });

  settingsBlock = this.RULE('settingsBlock', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RBrace);
  });

  setting = this.RULE('setting', () => {
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.SUBRULE(this.value);
  });

  value = this.RULE('value', () => {
    this.OR(
      (this.choices.value ??= {
        // `true` and `env` are names too; the literal readings win.
        IGNORE_AMBIGUITIES: true,
        DEF: [
          { ALT: () => this.CONSUME(T.NumberTok) },
          { ALT: () => this.CONSUME(T.True) },
          { ALT: () => this.CONSUME(T.False) },
          { ALT: () => this.SUBRULE(this.envRef) },
          { ALT: () => this.CONSUME(T.SqString) },
          { ALT: () => this.CONSUME(T.TripleString) },
          // A lone "double-quoted" value is a string; followed by a dot it starts a path.
          { ALT: () => this.SUBRULE(this.path) },
        ],
      }),
    );
  });

  envRef = this.RULE('envRef', () => {
    this.CONSUME(T.Env);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.stringLit);
    this.CONSUME(T.RParen);
  });

  path = this.RULE('path', () => {
    this.SUBRULE(this.ident);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.SUBRULE2(this.ident);
    });
  });

  /** A table's path: a part may be given by the environment where the sync runs, `env("DW_SCHEMA").users`. */
  tablePath = this.RULE('tablePath', () => {
    this.SUBRULE(this.tablePart);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.SUBRULE2(this.tablePart);
    });
  });

  tablePart = this.RULE('tablePart', () => {
    this.OR((this.choices.tablePart ??= [{ ALT: () => this.SUBRULE(this.envRef) }, { ALT: () => this.SUBRULE(this.ident) }]));
  });

  /** A bare name, or an exact one in backticks or double quotes. */
  ident = this.RULE('ident', () => {
    this.OR((this.choices.ident ??= [{ ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Backtick) }, { ALT: () => this.CONSUME(T.DqString) }]));
  });

  stringLit = this.RULE('stringLit', () => {
    this.OR(
      (this.choices.stringLit ??= [
        { ALT: () => this.CONSUME(T.DqString) },
        { ALT: () => this.CONSUME(T.SqString) },
        { ALT: () => this.CONSUME(T.TripleString) },
      ]),
    );
  });

  modelDef = this.RULE('modelDef', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.modelItem));
    this.CONSUME(T.RBrace);
  });

  modelItem = this.RULE('modelItem', () => {
    this.OR(
      (this.choices.modelItem ??= [
        { ALT: () => this.SUBRULE(this.fromItem) },
        {
          ALT: () => {
            this.CONSUME(T.Table);
            this.ACTION(() => this.refuseNextItem(T.Dot));
            this.SUBRULE(this.tablePath);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Sql);
            this.SUBRULE(this.stringLit);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Dbt);
            this.ACTION(() => this.refuseNextItem());
            this.SUBRULE2(this.ident);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Primary);
            this.CONSUME(T.Key);
            this.ACTION(() => this.refuseNextItem());
            this.SUBRULE(this.ident);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Order);
            this.CONSUME(T.By);
            this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.orderKey) });
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Columns);
            this.CONSUME(T.LBrace);
            this.MANY(() => this.SUBRULE(this.columnDef));
            this.CONSUME(T.RBrace);
          },
        },
      ]),
    );
  });

  fromItem = this.RULE('fromItem', () => {
    this.CONSUME(T.From);
    this.ACTION(() => this.refuseNextItem());
    this.CONSUME(T.Name, { LABEL: 'name' });
  });

  orderKey = this.RULE('orderKey', () => {
    this.ACTION(() => this.refuseNextItem(T.Asc, T.Desc, T.Comma));
    this.SUBRULE(this.ident);
    this.OPTION(() => this.OR((this.choices.orderKey ??= [{ ALT: () => this.CONSUME(T.Asc) }, { ALT: () => this.CONSUME(T.Desc) }])));
  });

  columnDef = this.RULE('columnDef', () => {
    this.SUBRULE(this.ident);
    this.SUBRULE(this.typeRef);
    this.OPTION(() => this.CONSUME(T.Question));
  });

  typeRef = this.RULE('typeRef', () => {
    this.CONSUME(T.Name);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.CONSUME(T.NumberTok, { LABEL: 'precision' });
      this.OPTION2(() => {
        this.CONSUME(T.Comma);
        this.CONSUME2(T.NumberTok, { LABEL: 'scale' });
      });
      this.CONSUME(T.RParen);
    });
  });

  audienceDef = this.RULE('audienceDef', () => {
    this.CONSUME(T.Audience);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.OR((this.choices.audienceDef ??= [{ ALT: () => this.SUBRULE(this.fromItem) }, { ALT: () => this.SUBRULE(this.whereItem) }])));
    this.CONSUME(T.RBrace);
  });

  whereItem = this.RULE('whereItem', () => {
    this.CONSUME(T.Where);
    this.SUBRULE(this.expr);
  });

  expr = this.RULE('expr', () => {
    this.SUBRULE(this.andExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.andExpr, { LABEL: 'operands' });
    });
  });

  andExpr = this.RULE('andExpr', () => {
    this.SUBRULE(this.notExpr, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.notExpr, { LABEL: 'operands' });
    });
  });

  notExpr = this.RULE('notExpr', () => {
    this.OR(
      (this.choices.notExpr ??= {
        IGNORE_AMBIGUITIES: true,
        DEF: [
          {
            // `not` before a condition negates; lookahead still reads `not > 3` as a column called `not`.
            ALT: () => {
              this.CONSUME(T.Not);
              this.SUBRULE(this.notExpr);
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.LParen);
              this.SUBRULE(this.expr);
              this.CONSUME(T.RParen);
            },
          },
          { ALT: () => this.SUBRULE(this.predicate) },
        ],
      }),
    );
  });

  predicate = this.RULE('predicate', () => {
    this.SUBRULE(this.operand, { LABEL: 'subject' });
    this.OPTION(() =>
      this.OR(
        (this.choices.predicate ??= [
          {
            ALT: () => {
              this.SUBRULE(this.compareOp);
              this.SUBRULE2(this.operand, { LABEL: 'right' });
            },
          },
          {
            ALT: () => {
              this.OPTION2(() => this.CONSUME(T.Not));
              this.CONSUME(T.In);
              this.CONSUME(T.LParen);
              this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.literal) });
              this.CONSUME(T.RParen);
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Is);
              this.OPTION3(() => this.CONSUME2(T.Not));
              this.CONSUME(T.Null);
            },
          },
          {
            ALT: () => {
              this.OPTION4(() => this.CONSUME3(T.Not));
              this.CONSUME(T.Like);
              this.SUBRULE(this.stringLit);
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Between);
              this.SUBRULE3(this.operand, { LABEL: 'low' });
              this.CONSUME(T.And);
              this.SUBRULE4(this.operand, { LABEL: 'high' });
            },
          },
        ]),
      ),
    );
  });

  compareOp = this.RULE('compareOp', () => {
    this.OR(
      (this.choices.compareOp ??= [
        { ALT: () => this.CONSUME(T.Eq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]),
    );
  });

  operand = this.RULE('operand', () => {
    this.OR(
      (this.choices.operand ??= {
        // `true`, `null` and `date '...'` are literals even though the words are names too.
        IGNORE_AMBIGUITIES: true,
        DEF: [{ ALT: () => this.SUBRULE(this.literal) }, { ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Backtick) }],
      }),
    );
  });

  literal = this.RULE('literal', () => {
    this.OR(
      (this.choices.literal ??= {
        IGNORE_AMBIGUITIES: true,
        DEF: [
          { ALT: () => this.CONSUME(T.SqString) },
          { ALT: () => this.CONSUME(T.DqString) },
          { ALT: () => this.CONSUME(T.NumberTok) },
          { ALT: () => this.CONSUME(T.True) },
          { ALT: () => this.CONSUME(T.False) },
          { ALT: () => this.CONSUME(T.Null) },
          {
            ALT: () => {
              this.CONSUME(T.DateKw);
              this.SUBRULE(this.stringLit, { LABEL: 'dateValue' });
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.TimestampKw);
              this.SUBRULE2(this.stringLit, { LABEL: 'timestampValue' });
            },
          },
        ],
      }),
    );
  });

  syncDef = this.RULE('syncDef', () => {
    this.CONSUME(T.Sync);
    this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.syncItem));
    this.CONSUME(T.RBrace);
  });

  syncItem = this.RULE('syncItem', () => {
    this.OR(
      (this.choices.syncItem ??= [
        { ALT: () => this.SUBRULE(this.fromItem) },
        { ALT: () => this.SUBRULE(this.toItem) },
        {
          ALT: () => {
            this.CONSUME(T.Mode);
            this.ACTION(() => this.refuseNextItem());
            this.CONSUME(T.Name, { LABEL: 'mode' });
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.IdentifierKw);
            this.ACTION(() => this.refuseNextItem(T.Arrow, T.Hashed));
            this.SUBRULE(this.mapping);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.MapKw);
            this.CONSUME(T.LBrace);
            this.MANY(() => this.SUBRULE2(this.mapping));
            this.CONSUME(T.RBrace);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Batch);
            this.CONSUME(T.NumberTok);
          },
        },
        { ALT: () => this.SUBRULE(this.guardItem) },
        {
          ALT: () => {
            this.CONSUME(T.Schedule);
            this.SUBRULE(this.stringLit);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Message);
            this.SUBRULE2(this.stringLit);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Format);
            this.ACTION(() => this.refuseNextItem());
            this.CONSUME2(T.Name, { LABEL: 'format' });
          },
        },
      ]),
    );
  });

  toItem = this.RULE('toItem', () => {
    this.CONSUME(T.To);
    this.CONSUME(T.Name, { LABEL: 'destination' });
    // The next word is an object kind unless it starts the next sync item.
    this.OPTION({
      GATE: () => !tokenMatcher(this.LA(1), T.SyncItemKeyword),
      DEF: () => {
        this.CONSUME2(T.Name, { LABEL: 'objectKind' });
        this.ACTION(() => this.refuseNextItem(T.Dot));
        this.OR((this.choices.toItem ??= [{ ALT: () => this.SUBRULE(this.tablePath) }, { ALT: () => this.CONSUME(T.SqString) }]));
      },
    });
  });

  guardItem = this.RULE('guardItem', () => {
    this.CONSUME(T.Guard);
    this.OR(
      (this.choices.guardItem ??= [
        {
          ALT: () => {
            this.CONSUME(T.Deletes);
            this.CONSUME(T.LtEq);
            this.CONSUME(T.NumberTok);
            this.OPTION(() => this.CONSUME(T.Percent));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Allow);
            this.CONSUME(T.Empty);
          },
        },
      ]),
    );
  });

  mapping = this.RULE('mapping', () => {
    this.SUBRULE(this.ident, { LABEL: 'column' });
    this.OPTION(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE(this.field);
    });
    this.OPTION2(() => this.CONSUME(T.Hashed));
  });

  field = this.RULE('field', () => {
    this.OR(
      (this.choices.field ??= [
        { ALT: () => this.CONSUME(T.Name) },
        { ALT: () => this.CONSUME(T.DqString) },
        { ALT: () => this.CONSUME(T.SqString) },
        { ALT: () => this.CONSUME(T.Backtick) },
      ]),
    );
  });
}

/** One parser instance, reused: Chevrotain parsers are built once and reset per input. */
export const parser = new SyncParser();

export interface ParseOutput {
  cst: CstNode;
  tokens: IToken[];
}

export type { TokenType };
