/**
 * The Chevrotain parser of the sync language. Its rules make the AST as they read (with
 * `build.ts`), not a concrete syntax tree to walk afterwards. Recovery is on, so one run
 * reports every syntax error it can, and a file with errors still has a tree.
 */
import type { IOrAlt, IParserErrorMessageProvider, IToken, OrMethodOpts, ParserMethod, TokenType } from 'chevrotain';
import { createTokenInstance, EmbeddedActionsParser, isRecognitionException, tokenMatcher } from './chevrotain.js';
import * as T from './tokens.js';
import { selfChecks } from '../self-checks.js';
import { CachedLookahead } from './lookahead.js';
import type * as A from './ast.js';
import {
  Frame,
  type Builder,
  type ColumnState,
  type DefinitionResult,
  type DefinitionState,
  type GuardState,
  type ItemState,
  type MappingState,
  type PredicateState,
  type TablePartResult,
  type ToState,
  type TypeState,
} from './build.js';

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

/**
 * Where Chevrotain tells a parser that builds a CST of each rule it enters and leaves and of
 * each token and subrule it takes (its public typings leave them out). A parser with embedded
 * actions has them do nothing; this one keeps the offsets each rule read there, and which
 * tokens the tree holds.
 */
interface TreeHooks {
  cstInvocationStateUpdate(ruleName: string): void;
  cstFinallyStateUpdate(): void;
  cstPostTerminal(key: string, token: IToken): void;
  cstPostNonTerminal(result: unknown, key: string): void;
  /** The index, in the input, of the token taken last. */
  currIdx: number;
}

/** The offsets a rule read take in those of a token or subrule (Chevrotain's `setNodeLocationOnlyOffset`). */
function extend(f: Frame, start: number, end: number): void {
  if (Number.isNaN(f.start)) {
    f.start = start;
    f.end = end;
  } else if (f.end < end) f.end = end;
}

/** The rules, each named as the builder's method that makes its result. */
type RuleName =
  | 'project'
  | 'definition'
  | 'sourceDef'
  | 'destinationDef'
  | 'settingsBlock'
  | 'setting'
  | 'value'
  | 'envRef'
  | 'path'
  | 'tablePath'
  | 'tablePart'
  | 'ident'
  | 'stringLit'
  | 'modelDef'
  | 'modelItem'
  | 'fromItem'
  | 'orderKey'
  | 'columnDef'
  | 'typeRef'
  | 'audienceDef'
  | 'whereItem'
  | 'expr'
  | 'andExpr'
  | 'notExpr'
  | 'predicate'
  | 'compareOp'
  | 'operand'
  | 'literal'
  | 'syncDef'
  | 'syncItem'
  | 'toItem'
  | 'guardItem'
  | 'mapping'
  | 'field';

/** Chevrotain runs each rule's body once to record the grammar, on no input: what the rule makes then is never read. */
const recordingBuilder = new Proxy({}, { get: () => () => undefined }) as Builder;

const item = (): ItemState => ({ kind: undefined, token: undefined, node: undefined, list: undefined });
const definitionState = (): DefinitionState => ({ name: undefined, second: undefined, settings: undefined, items: [] });

/**
 * Reading a file stops after this many syntax errors (as clang's -ferror-limit does): the
 * first ones are what to fix, and recovering from thousands costs time that grows with their
 * square.
 */
export const syntaxErrorLimit = 50;

class SyncParser extends EmbeddedActionsParser {
  /** Where reading stopped once the file had `syntaxErrorLimit` errors; undefined when it was read to the end. */
  stoppedAt: IToken | undefined;

  /** Per token of the input: 1 when the tree holds it (read by a rule, not skipped by recovery). */
  consumed = new Uint8Array(0);

  /**
   * The alternatives of each choice (`OR`), by rule, made on its first run: a rule runs for
   * every node of every file, and the array of closures it would make on each run was a fifth
   * of what a parse allocates (as Chevrotain's performance guide says: cache the arrays of
   * alternatives). The closures refer to nothing but the parser (a rule's state they reach
   * through `state()`).
   */
  private readonly choices: Record<string, IOrAlt<unknown>[] | OrMethodOpts<unknown>> = {};

  /** The frames of the rules being read, innermost last, reused from file to file (`depth` of them in use). */
  private readonly frames: Frame[] = [];
  private depth = 0;
  /** The frame rules write to while Chevrotain records the grammar (it runs each rule's body once, on no input). */
  private readonly recording = new Frame();
  /** What makes each rule's result: the file's builder, or while the grammar is recorded, one that makes nothing. */
  private b: Builder = recordingBuilder;

  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead,
      lookaheadStrategy,
      skipValidations: !selfChecks,
      errorMessageProvider: errorMessages,
    });
    const hooks = this as unknown as TreeHooks;
    hooks.cstInvocationStateUpdate = () => this.enter();
    hooks.cstFinallyStateUpdate = () => {
      this.depth--;
    };
    hooks.cstPostTerminal = (_key, token) => {
      if (!token.isInsertedInRecovery) this.consumed[hooks.currIdx] = 1;
      // The lexer keeps no end offset (tokens.ts): a token ends where its text does.
      extend(this.frames[this.depth - 1]!, token.startOffset, token.startOffset + token.image.length - 1);
    };
    hooks.cstPostNonTerminal = () => {
      const child = this.frames[this.depth]!;
      extend(this.frames[this.depth - 1]!, child.start, child.end);
    };
    this.performSelfAnalysis();
  }

  /** The definitions of a file's tokens, made by `builder` (which then makes the file's tree of them). */
  read(builder: Builder, tokens: IToken[]): DefinitionResult[] {
    this.b = builder;
    this.input = tokens;
    this.consumed = new Uint8Array(tokens.length);
    try {
      return this.project();
    } finally {
      // The tree is the caller's: the parser keeps nothing of it until the next file.
      this.b = recordingBuilder;
      for (const f of this.frames) f.state = f.failed = undefined;
    }
  }

  private enter(): void {
    const f = this.frames[this.depth];
    if (f === undefined) this.frames.push(new Frame());
    else {
      f.start = NaN;
      f.end = NaN;
      f.state = undefined;
      f.failedKey = undefined;
      f.failed = undefined;
    }
    this.depth++;
  }

  /** The frame of the rule being read. */
  private top(): Frame {
    return this.RECORDING_PHASE ? this.recording : this.frames[this.depth - 1]!;
  }

  /** The state of the rule being read (for the alternatives of a choice, made once for every run). */
  private state<S>(): S {
    return this.top().state as S;
  }

  /** A literal of one token. */
  private literalToken(t: IToken): void {
    this.state<ItemState>().token = t;
  }

  /**
   * A rule: its body reads, keeping in its frame's state what it read, and ends by making the
   * rule's result of the frame with the builder's method of the rule's name. That method also
   * makes a result when the rule ends on an error (of what it read so far): returned when the
   * rule recovers itself (Chevrotain's `recoveryValueFunc`), handed to the rule that called it
   * otherwise (`subruleInternalError`).
   */
  private rule<K extends RuleName>(name: K, body: () => ReturnType<Builder[K]>): ParserMethod<[], ReturnType<Builder[K]>> {
    return this.RULE(name, body, { recoveryValueFunc: () => this.make(name, this.frames[this.depth - 1]!) as ReturnType<Builder[K]> });
  }

  private make(rule: string, f: Frame): unknown {
    return (this.b as unknown as Record<string, (f: Frame) => unknown>)[rule]!(f);
  }

  /**
   * A subrule ended on an error that a rule further out recovers from: what it read is kept
   * in the rule that called it as if it had returned it, as Chevrotain keeps the partial node
   * when it builds a CST. Chevrotain 11's method of the same name, replaced here.
   */
  subruleInternalError(e: unknown, options: { LABEL?: string } | undefined, ruleName: string): never {
    if (e instanceof Error && isRecognitionException(e)) {
      const child = this.frames[this.depth]!;
      const f = this.frames[this.depth - 1]!;
      extend(f, child.start, child.end);
      f.failedKey = options?.LABEL ?? ruleName;
      f.failed = this.make(ruleName, child);
    }
    throw e;
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

  override reset(): void {
    super.reset();
    this.stoppedAt = undefined;
    this.depth = 0;
  }

  /**
   * A token that recovery inserts stands for text that is missing. It is placed with no
   * width right after the token before it (as Langium places it), so that the placeholder
   * the builder makes of it points where the text is missing.
   */
  protected override getTokenToInsert(tokType: TokenType): IToken {
    const before = this.LA(0);
    // Tokens carry only offsets (tokens.ts): the builder finds the line and column of this one's.
    const at = Number.isNaN(before.startOffset) ? 0 : before.startOffset + before.image.length;
    const t = createTokenInstance(tokType, '', at, at - 1, NaN, NaN, NaN, NaN);
    t.isInsertedInRecovery = true;
    return t;
  }

  project = this.rule('project', () => {
    const f = this.top();
    const all: DefinitionResult[] = [];
    f.state = all;
    // The definitions read before the error limit make the tree; the rest of the file is skipped.
    this.MANY({
      GATE: () => this.errors.length < syntaxErrorLimit || ((this.stoppedAt ??= this.LA(1)), false),
      DEF: () => {
        all.push(this.SUBRULE(this.definition));
      },
    });
    return this.b.project(f);
  });

  definition = this.rule('definition', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.definition ??= [
        { ALT: () => this.SUBRULE(this.sourceDef) },
        { ALT: () => this.SUBRULE(this.destinationDef) },
        { ALT: () => this.SUBRULE(this.modelDef) },
        { ALT: () => this.SUBRULE(this.audienceDef) },
        { ALT: () => this.SUBRULE(this.syncDef) },
      ]),
    );
    return this.b.definition(f);
  });

  sourceDef = this.rule('sourceDef', () => {
    const f = this.top();
    const s = (f.state = definitionState());
    this.CONSUME(T.Source);
    s.name = this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    s.second = this.CONSUME2(T.Name, { LABEL: 'dialect' });
    s.settings = this.SUBRULE(this.settingsBlock);
    return this.b.sourceDef(f);
  });

  destinationDef = this.rule('destinationDef', () => {
    const f = this.top();
    const s = (f.state = definitionState());
    this.CONSUME(T.Destination);
    s.name = this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    s.second = this.CONSUME2(T.Name, { LABEL: 'type' });
    s.settings = this.SUBRULE(this.settingsBlock);
    return this.b.destinationDef(f);
  });

  settingsBlock = this.rule('settingsBlock', () => {
    const f = this.top();
    const all: (A.Setting | undefined)[] = [];
    f.state = all;
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      all.push(this.SUBRULE(this.setting));
    });
    this.CONSUME(T.RBrace);
    return this.b.settingsBlock(f);
  });

  setting = this.rule('setting', () => {
    const f = this.top();
    const s = (f.state = item());
    s.token = this.CONSUME(T.Name, { LABEL: 'name' });
    s.node = this.SUBRULE(this.value);
    return this.b.setting(f);
  });

  value = this.rule('value', () => {
    const f = this.top();
    f.state = this.OR(
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
    return this.b.value(f);
  });

  envRef = this.rule('envRef', () => {
    const f = this.top();
    this.CONSUME(T.Env);
    this.CONSUME(T.LParen);
    f.state = this.SUBRULE(this.stringLit);
    this.CONSUME(T.RParen);
    return this.b.envRef(f);
  });

  path = this.rule('path', () => {
    const f = this.top();
    const parts: (IToken | undefined)[] = [];
    f.state = parts;
    parts.push(this.SUBRULE(this.ident));
    this.MANY(() => {
      this.CONSUME(T.Dot);
      parts.push(this.SUBRULE2(this.ident));
    });
    return this.b.path(f);
  });

  /** A table's path: a part may be given by the environment where the sync runs, `env("DW_SCHEMA").users`. */
  tablePath = this.rule('tablePath', () => {
    const f = this.top();
    const parts: TablePartResult[] = [];
    f.state = parts;
    parts.push(this.SUBRULE(this.tablePart));
    this.MANY(() => {
      this.CONSUME(T.Dot);
      parts.push(this.SUBRULE2(this.tablePart));
    });
    return this.b.tablePath(f);
  });

  tablePart = this.rule('tablePart', () => {
    const f = this.top();
    f.state = item();
    this.OR(
      (this.choices.tablePart ??= [
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'envRef';
            s.node = this.SUBRULE(this.envRef);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'ident';
            s.node = this.SUBRULE(this.ident);
          },
        },
      ]),
    );
    return this.b.tablePart(f);
  });

  /** A bare name, or an exact one in backticks or double quotes: the token. */
  ident = this.rule('ident', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.ident ??= [{ ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Backtick) }, { ALT: () => this.CONSUME(T.DqString) }]),
    );
    return this.b.ident(f);
  });

  stringLit = this.rule('stringLit', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.stringLit ??= [
        { ALT: () => this.CONSUME(T.DqString) },
        { ALT: () => this.CONSUME(T.SqString) },
        { ALT: () => this.CONSUME(T.TripleString) },
      ]),
    );
    return this.b.stringLit(f);
  });

  modelDef = this.rule('modelDef', () => {
    const f = this.top();
    const s = (f.state = definitionState());
    this.CONSUME(T.Model);
    s.name = this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      s.items.push(this.SUBRULE(this.modelItem));
    });
    this.CONSUME(T.RBrace);
    return this.b.modelDef(f);
  });

  modelItem = this.rule('modelItem', () => {
    const f = this.top();
    f.state = item();
    this.OR(
      (this.choices.modelItem ??= [
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'fromItem';
            s.node = this.SUBRULE(this.fromItem);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Table';
            this.CONSUME(T.Table);
            this.ACTION(() => this.refuseNextItem(T.Dot));
            s.node = this.SUBRULE(this.tablePath);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Sql';
            this.CONSUME(T.Sql);
            s.node = this.SUBRULE(this.stringLit);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Dbt';
            this.CONSUME(T.Dbt);
            this.ACTION(() => this.refuseNextItem());
            s.node = this.SUBRULE2(this.ident);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Primary';
            this.CONSUME(T.Primary);
            this.CONSUME(T.Key);
            this.ACTION(() => this.refuseNextItem());
            s.node = this.SUBRULE(this.ident);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            const keys: unknown[] = (s.list = []);
            s.kind = 'Order';
            this.CONSUME(T.Order);
            this.CONSUME(T.By);
            this.AT_LEAST_ONE_SEP({
              SEP: T.Comma,
              DEF: () => {
                keys.push(this.SUBRULE(this.orderKey));
              },
            });
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            const columns: unknown[] = (s.list = []);
            s.kind = 'Columns';
            this.CONSUME(T.Columns);
            this.CONSUME(T.LBrace);
            this.MANY(() => {
              columns.push(this.SUBRULE(this.columnDef));
            });
            this.CONSUME(T.RBrace);
          },
        },
      ]),
    );
    return this.b.modelItem(f);
  });

  fromItem = this.rule('fromItem', () => {
    const f = this.top();
    this.CONSUME(T.From);
    this.ACTION(() => this.refuseNextItem());
    f.state = this.CONSUME(T.Name, { LABEL: 'name' });
    return this.b.fromItem(f);
  });

  orderKey = this.rule('orderKey', () => {
    const f = this.top();
    const s = (f.state = item());
    this.ACTION(() => this.refuseNextItem(T.Asc, T.Desc, T.Comma));
    s.node = this.SUBRULE(this.ident);
    s.token = this.OPTION(() => this.OR((this.choices.orderKey ??= [{ ALT: () => this.CONSUME(T.Asc) }, { ALT: () => this.CONSUME(T.Desc) }])) as IToken);
    return this.b.orderKey(f);
  });

  columnDef = this.rule('columnDef', () => {
    const f = this.top();
    const s: ColumnState = (f.state = { ident: undefined, type: undefined, question: undefined });
    s.ident = this.SUBRULE(this.ident);
    s.type = this.SUBRULE(this.typeRef);
    s.question = this.OPTION(() => this.CONSUME(T.Question));
    return this.b.columnDef(f);
  });

  typeRef = this.rule('typeRef', () => {
    const f = this.top();
    const s: TypeState = (f.state = { name: undefined, precision: undefined, scale: undefined });
    s.name = this.CONSUME(T.Name);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      s.precision = this.CONSUME(T.NumberTok, { LABEL: 'precision' });
      this.OPTION2(() => {
        this.CONSUME(T.Comma);
        s.scale = this.CONSUME2(T.NumberTok, { LABEL: 'scale' });
      });
      this.CONSUME(T.RParen);
    });
    return this.b.typeRef(f);
  });

  audienceDef = this.rule('audienceDef', () => {
    const f = this.top();
    const s = (f.state = definitionState());
    this.CONSUME(T.Audience);
    s.name = this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      s.items.push(this.OR((this.choices.audienceDef ??= [{ ALT: () => this.SUBRULE(this.fromItem) }, { ALT: () => this.SUBRULE(this.whereItem) }])));
    });
    this.CONSUME(T.RBrace);
    return this.b.audienceDef(f);
  });

  whereItem = this.rule('whereItem', () => {
    const f = this.top();
    this.CONSUME(T.Where);
    f.state = this.SUBRULE(this.expr);
    return this.b.whereItem(f);
  });

  expr = this.rule('expr', () => {
    const f = this.top();
    const operands: A.Expr[] = [];
    f.state = operands;
    operands.push(this.SUBRULE(this.andExpr, { LABEL: 'operands' }));
    this.MANY(() => {
      this.CONSUME(T.Or);
      operands.push(this.SUBRULE2(this.andExpr, { LABEL: 'operands' }));
    });
    return this.b.expr(f);
  });

  andExpr = this.rule('andExpr', () => {
    const f = this.top();
    const operands: A.Expr[] = [];
    f.state = operands;
    operands.push(this.SUBRULE(this.notExpr, { LABEL: 'operands' }));
    this.MANY(() => {
      this.CONSUME(T.And);
      operands.push(this.SUBRULE2(this.notExpr, { LABEL: 'operands' }));
    });
    return this.b.andExpr(f);
  });

  notExpr: ParserMethod<[], A.Expr> = this.rule('notExpr', () => {
    const f = this.top();
    f.state = item();
    this.OR(
      (this.choices.notExpr ??= {
        IGNORE_AMBIGUITIES: true,
        DEF: [
          {
            // `not` before a condition negates; lookahead still reads `not > 3` as a column called `not`.
            ALT: () => {
              const s = this.state<ItemState>();
              s.kind = 'Not';
              this.CONSUME(T.Not);
              s.node = this.SUBRULE(this.notExpr);
            },
          },
          {
            ALT: () => {
              const s = this.state<ItemState>();
              s.kind = 'LParen';
              this.CONSUME(T.LParen);
              s.node = this.SUBRULE(this.expr);
              this.CONSUME(T.RParen);
            },
          },
          {
            ALT: () => {
              const s = this.state<ItemState>();
              s.kind = 'predicate';
              s.node = this.SUBRULE(this.predicate);
            },
          },
        ],
      }),
    );
    return this.b.notExpr(f);
  });

  predicate = this.rule('predicate', () => {
    const f = this.top();
    const s: PredicateState = (f.state = {
      subject: undefined,
      kind: undefined,
      negated: false,
      op: undefined,
      right: undefined,
      high: undefined,
      list: undefined,
      pattern: undefined,
    });
    s.subject = this.SUBRULE(this.operand, { LABEL: 'subject' });
    this.OPTION(() =>
      this.OR(
        (this.choices.predicate ??= [
          {
            ALT: () => {
              const s = this.state<PredicateState>();
              s.kind = 'compare';
              s.op = this.SUBRULE(this.compareOp);
              s.right = this.SUBRULE2(this.operand, { LABEL: 'right' });
            },
          },
          {
            ALT: () => {
              const s = this.state<PredicateState>();
              const list: (A.Literal | null)[] = (s.list = []);
              s.kind = 'in';
              s.negated = this.OPTION2(() => this.CONSUME(T.Not)) !== undefined;
              this.CONSUME(T.In);
              this.CONSUME(T.LParen);
              this.AT_LEAST_ONE_SEP({
                SEP: T.Comma,
                DEF: () => {
                  list.push(this.SUBRULE(this.literal));
                },
              });
              this.CONSUME(T.RParen);
            },
          },
          {
            ALT: () => {
              const s = this.state<PredicateState>();
              s.kind = 'isNull';
              this.CONSUME(T.Is);
              s.negated = this.OPTION3(() => this.CONSUME2(T.Not)) !== undefined;
              this.CONSUME(T.Null);
            },
          },
          {
            ALT: () => {
              const s = this.state<PredicateState>();
              s.kind = 'like';
              s.negated = this.OPTION4(() => this.CONSUME3(T.Not)) !== undefined;
              this.CONSUME(T.Like);
              s.pattern = this.SUBRULE(this.stringLit);
            },
          },
          {
            ALT: () => {
              const s = this.state<PredicateState>();
              s.kind = 'between';
              this.CONSUME(T.Between);
              s.right = this.SUBRULE3(this.operand, { LABEL: 'low' });
              this.CONSUME(T.And);
              s.high = this.SUBRULE4(this.operand, { LABEL: 'high' });
            },
          },
        ]),
      ),
    );
    return this.b.predicate(f);
  });

  /** A comparison's operator: the token. */
  compareOp = this.rule('compareOp', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.compareOp ??= [
        { ALT: () => this.CONSUME(T.Eq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LtEq) },
        { ALT: () => this.CONSUME(T.GtEq) },
        { ALT: () => this.CONSUME(T.Lt) },
        { ALT: () => this.CONSUME(T.Gt) },
      ]),
    );
    return this.b.compareOp(f);
  });

  operand = this.rule('operand', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.operand ??= {
        // `true`, `null` and `date '...'` are literals even though the words are names too.
        IGNORE_AMBIGUITIES: true,
        DEF: [{ ALT: () => this.SUBRULE(this.literal) }, { ALT: () => this.CONSUME(T.Name) }, { ALT: () => this.CONSUME(T.Backtick) }],
      }),
    );
    return this.b.operand(f);
  });

  literal = this.rule('literal', () => {
    const f = this.top();
    f.state = item();
    this.OR(
      (this.choices.literal ??= {
        IGNORE_AMBIGUITIES: true,
        DEF: [
          { ALT: () => this.literalToken(this.CONSUME(T.SqString)) },
          { ALT: () => this.literalToken(this.CONSUME(T.DqString)) },
          { ALT: () => this.literalToken(this.CONSUME(T.NumberTok)) },
          { ALT: () => this.literalToken(this.CONSUME(T.True)) },
          { ALT: () => this.literalToken(this.CONSUME(T.False)) },
          { ALT: () => this.literalToken(this.CONSUME(T.Null)) },
          {
            ALT: () => {
              const s = this.state<ItemState>();
              s.token = this.CONSUME(T.DateKw);
              s.node = this.SUBRULE(this.stringLit, { LABEL: 'dateValue' });
            },
          },
          {
            ALT: () => {
              const s = this.state<ItemState>();
              s.token = this.CONSUME(T.TimestampKw);
              s.node = this.SUBRULE2(this.stringLit, { LABEL: 'timestampValue' });
            },
          },
        ],
      }),
    );
    return this.b.literal(f);
  });

  syncDef = this.rule('syncDef', () => {
    const f = this.top();
    const s = (f.state = definitionState());
    this.CONSUME(T.Sync);
    s.name = this.CONSUME(T.Name, { LABEL: 'name' });
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      s.items.push(this.SUBRULE(this.syncItem));
    });
    this.CONSUME(T.RBrace);
    return this.b.syncDef(f);
  });

  syncItem = this.rule('syncItem', () => {
    const f = this.top();
    f.state = item();
    this.OR(
      (this.choices.syncItem ??= [
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'fromItem';
            s.node = this.SUBRULE(this.fromItem);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'toItem';
            s.node = this.SUBRULE(this.toItem);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Mode';
            this.CONSUME(T.Mode);
            this.ACTION(() => this.refuseNextItem());
            s.token = this.CONSUME(T.Name, { LABEL: 'mode' });
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'IdentifierKw';
            this.CONSUME(T.IdentifierKw);
            this.ACTION(() => this.refuseNextItem(T.Arrow, T.Hashed));
            s.node = this.SUBRULE(this.mapping);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            const mappings: unknown[] = (s.list = []);
            s.kind = 'MapKw';
            this.CONSUME(T.MapKw);
            this.CONSUME(T.LBrace);
            this.MANY(() => {
              mappings.push(this.SUBRULE2(this.mapping));
            });
            this.CONSUME(T.RBrace);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Batch';
            this.CONSUME(T.Batch);
            s.token = this.CONSUME(T.NumberTok);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'guardItem';
            s.node = this.SUBRULE(this.guardItem);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Schedule';
            this.CONSUME(T.Schedule);
            s.node = this.SUBRULE(this.stringLit);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Message';
            this.CONSUME(T.Message);
            s.node = this.SUBRULE2(this.stringLit);
          },
        },
        {
          ALT: () => {
            const s = this.state<ItemState>();
            s.kind = 'Format';
            this.CONSUME(T.Format);
            this.ACTION(() => this.refuseNextItem());
            s.token = this.CONSUME2(T.Name, { LABEL: 'format' });
          },
        },
      ]),
    );
    return this.b.syncItem(f);
  });

  toItem = this.rule('toItem', () => {
    const f = this.top();
    const s: ToState = (f.state = { destination: undefined, objectKind: undefined, path: undefined, string: undefined });
    this.CONSUME(T.To);
    s.destination = this.CONSUME(T.Name, { LABEL: 'destination' });
    // The next word is an object kind unless it starts the next sync item.
    this.OPTION({
      GATE: () => !tokenMatcher(this.LA(1), T.SyncItemKeyword),
      DEF: () => {
        s.objectKind = this.CONSUME2(T.Name, { LABEL: 'objectKind' });
        this.ACTION(() => this.refuseNextItem(T.Dot));
        this.OR(
          (this.choices.toItem ??= [
            {
              ALT: () => {
                this.state<ToState>().path = this.SUBRULE(this.tablePath);
              },
            },
            {
              ALT: () => {
                this.state<ToState>().string = this.CONSUME(T.SqString);
              },
            },
          ]),
        );
      },
    });
    return this.b.toItem(f);
  });

  guardItem = this.rule('guardItem', () => {
    const f = this.top();
    f.state = { allow: false, limit: undefined, percent: undefined } satisfies GuardState;
    this.CONSUME(T.Guard);
    this.OR(
      (this.choices.guardItem ??= [
        {
          ALT: () => {
            const s = this.state<GuardState>();
            this.CONSUME(T.Deletes);
            this.CONSUME(T.LtEq);
            s.limit = this.CONSUME(T.NumberTok);
            s.percent = this.OPTION(() => this.CONSUME(T.Percent));
          },
        },
        {
          ALT: () => {
            const s = this.state<GuardState>();
            this.CONSUME(T.Allow);
            s.allow = true;
            this.CONSUME(T.Empty);
          },
        },
      ]),
    );
    return this.b.guardItem(f);
  });

  mapping = this.rule('mapping', () => {
    const f = this.top();
    const s: MappingState = (f.state = { column: undefined, arrow: undefined, field: undefined, hashed: undefined });
    s.column = this.SUBRULE(this.ident, { LABEL: 'column' });
    this.OPTION(() => {
      s.arrow = this.CONSUME(T.Arrow);
      s.field = this.SUBRULE(this.field);
    });
    s.hashed = this.OPTION2(() => this.CONSUME(T.Hashed));
    return this.b.mapping(f);
  });

  /** A mapping's destination field: the token. */
  field = this.rule('field', () => {
    const f = this.top();
    f.state = this.OR(
      (this.choices.field ??= [
        { ALT: () => this.CONSUME(T.Name) },
        { ALT: () => this.CONSUME(T.DqString) },
        { ALT: () => this.CONSUME(T.SqString) },
        { ALT: () => this.CONSUME(T.Backtick) },
      ]),
    );
    return this.b.field(f);
  });
}

/** One parser instance, reused: Chevrotain parsers are built once and reset per input. */
export const parser = new SyncParser();

export type { TokenType };
