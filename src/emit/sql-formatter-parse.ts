/**
 * sql-formatter 15's grammar (its parser/grammar.ne), parsed by recursive descent into the
 * same syntax tree as its nearley parser builds. nearley's Earley parser costs a compile most
 * of its formatting time and three quarters of what it allocates; this reads each token once.
 *
 * Only derivations of the grammar are built, so where the grammar reads a text one way only,
 * a tree built here is the one nearley builds (sql-formatter refuses a text it reads two
 * ways; none is known in this version, and the tests compare the trees). Where a choice made
 * here without going back leads nowhere, or brackets nest deeper than the stack allows,
 * `parseStatements` says so (undefined) and the caller asks nearley.
 * Node and token shapes are sql-formatter's (parser/ast.ts, lexer/token.ts).
 */

/** A token of sql-formatter's tokenizer, after its `disambiguateTokens`. */
export interface SfToken {
  type: string;
  text: string;
  raw: string;
  key?: string;
  precedingWhitespace?: string;
}

/** A node of sql-formatter's syntax tree. */
export type SfNode = { type: string } & Record<string, unknown>;

/** Thrown where this parser would have to go back; caught by `parseStatements` only. */
class NotHere extends Error {}

const comments = new Set(['LINE_COMMENT', 'BLOCK_COMMENT', 'DISABLE_COMMENT']);
const clauses = new Set(['LIMIT', 'RESERVED_SELECT', 'RESERVED_CLAUSE', 'RESERVED_SET_OPERATION']);
const logicOperators = new Set(['AND', 'OR', 'XOR']);
const otherKeywords = new Set(['WHEN', 'THEN', 'ELSE', 'END']);
const identifiers = new Set(['IDENTIFIER', 'QUOTED_IDENTIFIER', 'VARIABLE']);
const parameters = new Set(['NAMED_PARAMETER', 'QUOTED_PARAMETER', 'NUMBERED_PARAMETER', 'POSITIONAL_PARAMETER', 'CUSTOM_PARAMETER']);
const literals = new Set(['NUMBER', 'STRING']);
const keywords = new Set(['RESERVED_KEYWORD', 'RESERVED_KEYWORD_PHRASE', 'RESERVED_JOIN']);
const dataTypes = new Set(['RESERVED_DATA_TYPE', 'RESERVED_DATA_TYPE_PHRASE']);
/** Token types that start an `atomic_expression` on their own (brackets are told by their text). */
const atomicStarts = new Set([
  'ARRAY_IDENTIFIER',
  'ARRAY_KEYWORD',
  'RESERVED_FUNCTION_NAME',
  'OPERATOR',
  'RESERVED_PARAMETERIZED_DATA_TYPE',
  ...identifiers,
  ...parameters,
  ...literals,
  ...keywords,
  ...dataTypes,
]);
const openers: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

const keywordNode = (t: SfToken): SfNode => ({ type: 'keyword', tokenType: t.type, text: t.text, raw: t.raw });
const dataTypeNode = (t: SfToken): SfNode => ({ type: 'data_type', text: t.text, raw: t.raw });

/** The grammar's `addComments`: the node itself when there are none. */
function withComments(node: SfNode, leading: SfNode[] = [], trailing: SfNode[] = []): SfNode {
  let n = node;
  if (leading.length > 0) n = { ...n, leadingComments: leading };
  if (trailing.length > 0) n = { ...n, trailingComments: trailing };
  return n;
}

/** The statements of `tokens` (ending with sql-formatter's EOF token), or undefined where nearley must be asked. */
export function parseStatements(tokens: readonly SfToken[]): SfNode[] | undefined {
  let i = 0;
  const peek = (): SfToken => tokens[i] ?? fail();
  const next = (): SfToken => tokens[i++] ?? fail();
  /** `node`, of the token here, which is read. */
  const past = (node: SfNode): SfNode => {
    i++;
    return node;
  };
  const is = (type: string): boolean => peek().type === type;
  const isText = (text: string, type: string): boolean => peek().type === type && peek().text === text;
  function fail(): never {
    throw new NotHere();
  }
  function expect(type: string, text?: string): SfToken {
    if (text === undefined ? !is(type) : !isText(text, type)) fail();
    return next();
  }

  function comment(): SfNode {
    const t = next();
    const type = t.type === 'LINE_COMMENT' ? 'line_comment' : t.type === 'BLOCK_COMMENT' ? 'block_comment' : 'disable_comment';
    return { type, text: t.text, precedingWhitespace: t.precedingWhitespace };
  }

  // `_`: the comments here.
  function commentsHere(): SfNode[] {
    const found: SfNode[] = [];
    while (comments.has(peek().type)) found.push(comment());
    return found;
  }

  /** Whether a property-access operator follows, past comments. */
  function dotAhead(): boolean {
    let j = i;
    while (comments.has(tokens[j]?.type ?? '')) j++;
    return tokens[j]?.type === 'PROPERTY_ACCESS_OPERATOR';
  }

  const startsAtomic = (): boolean => atomicStarts.has(peek().type) || (peek().type === 'OPEN_PAREN' && peek().text in openers);
  const startsAndless = (): boolean => startsAtomic() || is('BETWEEN') || is('CASE') || is('ASTERISK');
  const startsExpression = (): boolean => startsAndless() || logicOperators.has(peek().type);
  const startsFreeForm = (): boolean => startsExpression() || is('COMMA') || comments.has(peek().type) || otherKeywords.has(peek().type);

  // expressions_or_clauses: free_form_sql* clause*
  function expressionsOrClauses(): SfNode[] {
    const nodes = freeForms();
    while (clauses.has(peek().type)) nodes.push(clause());
    return nodes;
  }

  function freeForms(): SfNode[] {
    const nodes: SfNode[] = [];
    while (startsFreeForm()) nodes.push(freeForm());
    return nodes;
  }

  function clause(): SfNode {
    const t = next();
    switch (t.type) {
      case 'LIMIT': {
        const trailing = commentsHere();
        const first = expressionChain();
        const limitKw = withComments(keywordNode(t), [], trailing);
        if (!is('COMMA')) return { type: 'limit_clause', limitKw, count: first };
        next();
        const count = freeForms();
        if (count.length === 0) fail();
        return { type: 'limit_clause', limitKw, offset: first, count };
      }
      case 'RESERVED_SELECT': {
        // The first column: `*` is all columns there, and only there.
        if (is('ASTERISK')) {
          next();
          return { type: 'clause', nameKw: keywordNode(t), children: [{ type: 'all_columns_asterisk' }, ...freeForms()] };
        }
        return { type: 'clause', nameKw: keywordNode(t), children: freeForms() };
      }
      case 'RESERVED_CLAUSE':
        return { type: 'clause', nameKw: keywordNode(t), children: freeForms() };
      default:
        return { type: 'set_operation', nameKw: keywordNode(t), children: freeForms() };
    }
  }

  // free_form_sql: an expression, a logic operator, a comma, a comment or WHEN/THEN/ELSE/END.
  function freeForm(): SfNode {
    const t = peek();
    if (t.type === 'COMMA') return past({ type: 'comma' });
    if (comments.has(t.type)) return comment();
    if (otherKeywords.has(t.type)) return keywordNode(next());
    return expression();
  }

  // expression: andless_expression | logic_operator; andless_expression adds `*` to the rest.
  function expression(): SfNode {
    const t = peek();
    if (logicOperators.has(t.type)) return keywordNode(next());
    return andless();
  }

  function andless(): SfNode {
    const t = peek();
    if (t.type === 'ASTERISK') return past({ type: 'operator', text: t.text });
    if (t.type === 'BETWEEN') return between();
    if (t.type === 'CASE') return caseExpression();
    return atomic();
  }

  // expression_chain_: (expression _)+, each expression with the comments after it.
  function expressionChain(): SfNode[] {
    const chain: SfNode[] = [];
    do {
      const e = expression();
      chain.push(withComments(e, [], commentsHere()));
    } while (startsExpression());
    return chain;
  }

  function between(): SfNode {
    const betweenKw = keywordNode(next());
    const leading = commentsHere();
    // andless_expression_chain: andless (_ andless)*, then _ AND _ andless.
    const expr1: SfNode[] = [andless()];
    let before = commentsHere();
    while (!is('AND')) {
      expr1.push(withComments(andless(), before));
      before = commentsHere();
    }
    const andKw = keywordNode(next());
    const afterAnd = commentsHere();
    const expr2 = [withComments(andless(), afterAnd)];
    if (leading.length > 0) expr1[0] = withComments(expr1[0] ?? fail(), leading);
    if (before.length > 0) expr1[expr1.length - 1] = withComments(expr1[expr1.length - 1] ?? fail(), [], before);
    return { type: 'between_predicate', betweenKw, expr1, andKw, expr2 };
  }

  function caseExpression(): SfNode {
    const caseToken = next();
    const caseKw = withComments(keywordNode(caseToken), [], commentsHere());
    const expr = startsExpression() ? expressionChain() : [];
    const parts: SfNode[] = [];
    for (;;) {
      if (is('WHEN')) {
        const whenKw = withComments(keywordNode(next()), [], commentsHere());
        const condition = expressionChain();
        const thenKw = withComments(keywordNode(expect('THEN')), [], commentsHere());
        parts.push({ type: 'case_when', whenKw, thenKw, condition, result: expressionChain() });
      } else if (is('ELSE')) {
        const elseKw = withComments(keywordNode(next()), [], commentsHere());
        parts.push({ type: 'case_else', elseKw, result: expressionChain() });
      } else break;
    }
    if (!is('END')) fail();
    return { type: 'case_expression', caseKw, endKw: keywordNode(next()), expr, clauses: parts };
  }

  /**
   * parenthesis, curly_braces, square_brackets: `(` holds clauses, the others free-form SQL only.
   * `opening`: the bracket the grammar requires here (after a function's name, `(`; after an array's, `[`).
   */
  function bracketed(opening?: string): SfNode {
    if (opening !== undefined && !isText(opening, 'OPEN_PAREN')) fail();
    const open = next();
    const close = openers[open.text] ?? fail();
    const children = open.text === '(' ? expressionsOrClauses() : freeForms();
    expect('CLOSE_PAREN', close);
    return { type: 'parenthesis', children, openParen: open.text, closeParen: close };
  }

  function atomic(): SfNode {
    let node = atomicBase();
    // property_access: atomic _ . _ (identifier | array_subscript | all_columns_asterisk | parameter), left to right.
    while (dotAhead()) {
      const before = commentsHere();
      const operator = next().text;
      const after = commentsHere();
      node = { type: 'property_access', object: withComments(node, [], before), operator, property: withComments(property(), after) };
    }
    return node;
  }

  function property(): SfNode {
    const t = peek();
    if (identifiers.has(t.type)) return identifier(next());
    if (t.type === 'ARRAY_IDENTIFIER' || t.type === 'ARRAY_KEYWORD') return arraySubscript();
    if (t.type === 'ASTERISK') return past({ type: 'all_columns_asterisk' });
    if (parameters.has(t.type)) return parameter(next());
    return fail();
  }

  const identifier = (t: SfToken): SfNode => ({ type: 'identifier', quoted: t.type !== 'IDENTIFIER', text: t.text });
  const parameter = (t: SfToken): SfNode => ({ type: 'parameter', key: t.key, text: t.text });

  function arraySubscript(): SfNode {
    const t = next();
    const array = t.type === 'ARRAY_IDENTIFIER' ? { type: 'identifier', quoted: false, text: t.text } : keywordNode(t);
    const trailing = commentsHere();
    return { type: 'array_subscript', array: withComments(array, [], trailing), parenthesis: bracketed('[') };
  }

  function atomicBase(): SfNode {
    const t = peek();
    switch (t.type) {
      case 'ARRAY_IDENTIFIER':
      case 'ARRAY_KEYWORD':
        return arraySubscript();
      case 'RESERVED_FUNCTION_NAME': {
        next();
        const nameKw = withComments(keywordNode(t), [], commentsHere());
        return { type: 'function_call', nameKw, parenthesis: bracketed('(') };
      }
      case 'RESERVED_PARAMETERIZED_DATA_TYPE': {
        next();
        const dataType = withComments(dataTypeNode(t), [], commentsHere());
        return { type: 'parameterized_data_type', dataType, parenthesis: bracketed('(') };
      }
      case 'OPEN_PAREN':
        return bracketed();
      case 'OPERATOR':
        return past({ type: 'operator', text: t.text });
    }
    next();
    if (identifiers.has(t.type)) return identifier(t);
    if (parameters.has(t.type)) return parameter(t);
    if (literals.has(t.type)) return { type: 'literal', text: t.text };
    if (keywords.has(t.type)) return keywordNode(t);
    if (dataTypes.has(t.type)) return dataTypeNode(t);
    return fail();
  }

  try {
    // main: statement*, each expressions_or_clauses then `;` or the end; an empty last one is dropped.
    const statements: SfNode[] = [];
    for (;;) {
      const children = expressionsOrClauses();
      const end = next();
      if (end.type === 'DELIMITER') {
        statements.push({ type: 'statement', children, hasSemicolon: true });
        continue;
      }
      if (end.type !== 'EOF' || i !== tokens.length) fail();
      if (children.length > 0) statements.push({ type: 'statement', children, hasSemicolon: false });
      return statements;
    }
  } catch (e) {
    // Nothing here is known to throw but `fail` and a stack overflow (thousands of nested brackets).
    if (e instanceof NotHere || e instanceof RangeError) return undefined;
    throw e;
  }
}
