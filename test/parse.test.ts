import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseFile } from '../src/syntax/parse.js';
import { parser, syntaxErrorLimit } from '../src/syntax/parser.js';

describe('parser', () => {
  it('reads keywords as names where a name is expected', () => {
    const r = parseFile('k.sync', 'model m { from w table t columns { plan string mode int key bool } }');
    expect(r.diagnostics).toEqual([]);
    const model = r.ast?.definitions[0];
    expect(model?.kind).toBe('model');
    if (model?.kind !== 'model') return;
    const cols = model.items.find((i) => i.kind === 'columns');
    expect(cols?.kind === 'columns' && cols.columns.map((c) => c.name.text)).toEqual(['plan', 'mode', 'key']);
  });

  it('keeps what a rule read before an error that a rule further out recovers from (parser.ts, subruleInternalError)', () => {
    // `string(` lacks its precision: the type's rule fails, and its column's and item's with it,
    // until the model recovers; the type read so far, and the column, stay in the tree.
    const r = parseFile('p.sync', 'model m {\n  from w\n  columns { id int plan string( }\n}\n');
    const model = r.ast.definitions[0];
    expect(model?.kind === 'model' && model.partial).toBe(true);
    const cols = model?.kind === 'model' ? model.items.find((i) => i.kind === 'columns') : undefined;
    expect(cols?.kind === 'columns' && cols.columns.map((c) => [c.name.text, c.type.name])).toEqual([
      ['id', 'int'],
      ['plan', 'string'],
    ]);
  });

  it("still meets Chevrotain's tree hooks, which it replaces to build the AST as it reads (parser.ts)", () => {
    // Chevrotain 11 calls these on every rule, token and subrule; a parser with embedded actions has them do nothing.
    for (const hook of ['cstInvocationStateUpdate', 'cstFinallyStateUpdate', 'cstPostTerminal', 'cstPostNonTerminal']) {
      expect(typeof (Object.getPrototypeOf(Object.getPrototypeOf(parser)) as Record<string, unknown>)[hook]).toBe('function');
    }
    expect(typeof (parser as unknown as { currIdx: unknown }).currIdx).toBe('number');
    const r = parseFile('s.sync', 'sync s { from m to d mode upsert }');
    expect(r.ast.definitions[0]?.span).toMatchObject({ offset: 0, endOffset: 34 });
  });

  it('reports several syntax errors in one run', () => {
    const r = parseFile('e.sync', 'sync a { mode }\nsync b { batch x }\n');
    expect(r.ok).toBe(false);
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics.map((d) => d.span.line)).toEqual(expect.arrayContaining([1, 2]));
  });
});

describe('the parser between files', () => {
  it('keeps nothing of a file once its tree is dropped (the parser instance is reused, by the language server too)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let result: ReturnType<typeof parseFile> | undefined = parseFile(
      'models.sync',
      readFileSync(new URL('../examples/b2b-saas/models.sync', import.meta.url), 'utf8'),
    );
    const definition = new WeakRef(result.ast.definitions[0]!);
    result = undefined;
    // A WeakRef's target lives to the end of the job that made it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(definition.deref()).toBeUndefined();
  });
});

describe('AST spans and values', () => {
  const text = [
    'source w : postgres { database "a\\"b" version 15 }',
    'model m {',
    '  from w',
    '  sql """',
    '    select 1',
    '  """',
    '  columns { `Mixed Case` string? "quoted" decimal(12, 2) amount float }',
    '}',
    "audience a { from m where amount > -1.5 and not amount between 1 and 2 or `Mixed Case` like 'x%' }",
    'sync s { from a to w table "My Schema".t mode add identifier `Mixed Case` -> "Field Name" hashed }',
  ].join('\n');
  const ast = parseFile('v.sync', text).ast!;

  it('unescapes strings and keeps their raw text', () => {
    const src = ast.definitions[0]!;
    expect(src.kind === 'source' && src.settings[0]!.value).toMatchObject({ kind: 'string', value: 'a"b', raw: '"a\\"b"' });
  });

  it('keeps triple-quoted text as written and spans it over lines', () => {
    const model = ast.definitions[1]!;
    const sql = model.kind === 'model' ? model.items.find((i) => i.kind === 'sql') : undefined;
    expect(sql?.kind === 'sql' && sql.query.value).toBe('\n    select 1\n  ');
    expect(sql?.span).toMatchObject({ line: 4, column: 3, endLine: 6, endColumn: 6 });
  });

  it('reads quoted names as exact and spans them precisely', () => {
    const model = ast.definitions[1]!;
    const cols = model.kind === 'model' ? model.items.find((i) => i.kind === 'columns') : undefined;
    const names = cols?.kind === 'columns' ? cols.columns.map((c) => [c.name.text, c.name.quoted, c.nullable]) : [];
    expect(names).toEqual([
      ['Mixed Case', true, true],
      ['quoted', true, false],
      ['amount', false, false],
    ]);
    const first = cols?.kind === 'columns' ? cols.columns[0]!.name.span : undefined;
    expect(first).toMatchObject({ line: 7, column: 13, endLine: 7, endColumn: 25 });
    expect(text.slice(first!.offset, first!.endOffset)).toBe('`Mixed Case`');
  });

  it('parses conditions with the right precedence', () => {
    const aud = ast.definitions[2]!;
    const where = aud.kind === 'audience' ? aud.items.find((i) => i.kind === 'where') : undefined;
    const e = where?.kind === 'where' ? where.expr : undefined;
    expect(e?.kind).toBe('logical');
    if (e?.kind !== 'logical') return;
    expect(e.op).toBe('or');
    expect(e.left.kind === 'logical' && e.left.op).toBe('and');
    expect(e.left.kind === 'logical' && e.left.right.kind).toBe('not');
    expect(e.right.kind).toBe('like');
    const cmp = e.left.kind === 'logical' ? e.left.left : undefined;
    expect(cmp?.kind === 'compare' && cmp.right).toMatchObject({ kind: 'literal', type: 'number', value: -1.5 });
  });

  it('reads a target path with quoted parts and a hashed mapping with a string field', () => {
    const sync = ast.definitions[3]!;
    if (sync.kind !== 'sync') throw new Error('not a sync');
    const to = sync.items.find((i) => i.kind === 'to');
    expect(to?.kind === 'to' && to.ref?.kind === 'path' && to.ref.path.parts.map((p) => [p.text, p.quoted])).toEqual([
      ['My Schema', true],
      ['t', false],
    ]);
    const id = sync.items.find((i) => i.kind === 'identifier');
    expect(id?.kind === 'identifier' && id.mapping).toMatchObject({ hashed: true, field: { text: 'Field Name', quoted: true } });
  });

  it('collects comments of every style with their spans', () => {
    const r = parseFile('c.sync', '# one\nsync s { // two\n  /* three\n */ }\n');
    expect(r.ast?.comments.map((c) => [c.text, c.span.line])).toEqual([
      ['# one', 1],
      ['// two', 2],
      ['/* three\n */', 3],
    ]);
  });

  it('points a missing closing brace at the end of the file', () => {
    const r = parseFile('m.sync', 'sync s {\n  mode upsert\n');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'SW0009', span: { line: 2, column: 14 } });
    expect(r.diagnostics[0]!.message).toContain('end of the file');
  });
});

describe('syntax diagnostics', () => {
  /** Each diagnostic as `line:column message`, its hints and its related places. */
  function report(text: string): { at: string; hints: string[]; related?: string[] }[] {
    const r = parseFile('s.sync', text);
    expect(r.ok).toBe(false);
    return r.diagnostics.map((d) => ({
      at: `${d.span.line}:${d.span.column} ${d.message}`,
      hints: d.hints,
      ...(d.related ? { related: d.related.map((n) => `${n.span.line}:${n.span.column} ${n.message}`) } : {}),
    }));
  }
  const at = (text: string) => report(text).map((d) => d.at);

  it('point at a keyword left without its name, and go on at the next item', () => {
    expect(at('model m {\n  primary key\n  columns { a int }\n  order by\n}\n')).toEqual([
      '2:3 `primary key` needs a column name: `primary key user_id`',
      '4:3 `order by` needs a column name: `order by updated_at desc`',
    ]);
    expect(at('sync s {\n  to k topic\n  mode insert\n  from\n  identifier email\n}\n')).toEqual([
      '2:8 `topic` needs a name: `to k topic <name>`',
      '4:3 `from` needs the name of a model or audience: `from users`',
    ]);
    expect(at('sync s {\n  to events topic\n}\n')).toEqual(['2:13 `topic` needs a name: `to events topic <name>`']);
  });

  it('still read a keyword as a name where what follows it fits a name', () => {
    const text =
      'model m { from w  table mode  primary key columns  order by map, key desc  columns { a int } }\n' +
      'sync s { from m  to w table mode  mode upsert  identifier map -> format hashed  format csv }\n';
    expect(parseFile('k.sync', text).diagnostics).toEqual([]);
  });

  it('report a string left open once, at its opening quotes', () => {
    expect(report('model m {\n  sql """\n    select 1\n  columns { a int }\n}\n')).toEqual([
      { at: '2:7 this `"""` string is never closed', hints: ['close it with `"""`; until then it runs to the end of the file'] },
    ]);
    expect(at('source w : postgres {\n  database "acme\n  schema "x"\n}\n')).toEqual(['2:12 this string is not closed on its line']);
  });

  it('name the operators of the language for `&&`, `||` and `==`, one diagnostic each', () => {
    expect(at("audience a {\n  from m\n  where a >= 1 && b == 'x' || c = 2\n}\n")).toEqual([
      '3:16 `&&` is written `and`',
      '3:21 `==` is written `=`',
      '3:28 `||` is written `or`',
    ]);
    expect(report('audience a { from m where a = 1 AND b = 2 }')[0]?.hints[0]).toBe('keywords are lower case: `and`');
  });

  it('name the block a missing `}` leaves open, by the indentation of the `}` that is there', () => {
    expect(report('model users {\n  columns {\n    email string\n  }\n')).toEqual([
      { at: '4:4 expected `}`, found the end of the file', hints: ['model `users` is not closed'], related: ['1:13 model `users` opens here'] },
    ]);
    expect(report('model users {\n  columns {\n    email string\n}\n\nsync s { from users }\n')).toEqual([
      { at: '6:1 expected `}`, found `sync`', hints: ['`columns {` is not closed'], related: ['2:11 `columns {` opens here'] },
    ]);
  });

  it('point at separators the language does not use', () => {
    expect(at('source w : postgres {\n  database = "acme"\n  schema: "x"\n}\ndestination d hubspot { }\n')).toEqual([
      '2:12 write `database "acme"`, without `=`',
      '3:9 write `schema "x"`, without `:`',
      "5:15 expected `:` between the destination's name and its type: `destination d : hubspot { ... }`",
    ]);
    expect(at('model m { columns { a decimal(12 2) } }\naudience a { from m where a in (1, 2,) }\nsync s { mode: upsert }\n')).toEqual([
      '1:34 expected `,` or `)`, found `2`',
      '2:37 a list does not end with `,`',
      '3:14 write `mode upsert`, without `:`',
    ]);
  });

  it('report a stray `}` unless recovery from an earlier error left it over', () => {
    expect(at('model m { from w }\n}\n')).toEqual(['2:1 this `}` closes no block']);
    expect(at('model m {\n  from w\n  { a int }\n}\n')).toEqual(['3:3 expected a model item or `}`, found `{`']);
  });

  it('keep unknown characters apart, with a hint for the usual ones', () => {
    expect(report('source w : postgres { database "acme"; }')).toEqual([
      { at: '1:38 unexpected character `;`', hints: ['a `.sync` file needs no `;`: remove it'] },
    ]);
  });
});

describe('a file with very many syntax errors', () => {
  it('is read up to the limit, then one diagnostic says where reading stopped', () => {
    // Recovering from each of thousands of errors once cost time that grew with their square, then overflowed the stack.
    const text = Array.from({ length: 4000 }, (_, i) => `model m${i} {\n  from wh\n  { a int }\n  columns { id bigint }\n}\n`).join('');
    const { ast, ok, diagnostics } = parseFile('broken.sync', text);
    expect(ok).toBe(false);
    expect(diagnostics).toHaveLength(syntaxErrorLimit + 1);
    // The tree holds the definitions read before the limit, each marked partial for the text recovery skipped.
    const stop = diagnostics.at(-1)!.span.offset;
    expect(ast.definitions.length).toBeGreaterThan(10);
    expect(ast.definitions.every((d) => d.kind === 'model' && d.partial && d.span.offset < stop)).toBe(true);
    expect(diagnostics.at(-1)).toMatchObject({ code: 'SW0005', message: `stopped reading this file after ${syntaxErrorLimit} syntax errors` });
    expect(diagnostics.slice(0, -1).every((d) => d.code === 'SW0012')).toBe(true);
  });
});

describe('the tree of a file with syntax errors', () => {
  const kinds = (text: string) => parseFile('t.sync', text).ast.definitions.map((d) => `${d.name.text}${d.partial ? ' partial' : ''}`);

  it('holds every definition; one around text the parser skipped or may have misread is partial', () => {
    expect(kinds('model a { from w  ) table t }\nmodel b { from w }\n')).toEqual(['a partial', 'b']);
    // Columns are pairs of words: one missing may have shifted the ones before it.
    expect(kinds('model a { columns { id bigint  email } }\nmodel b { from w }\n')).toEqual(['a partial', 'b']);
    // Text after a block closed early was meant inside it.
    expect(kinds('audience a { from } users where x = 1 }\nmodel b { from w }\n')).toEqual(['a partial', 'b']);
  });

  it('keeps a definition whole where only a keyword lacks its argument at the end of its item, or a separator is extra', () => {
    expect(kinds('sync s {\n  from\n  mode upsert\n}\nsync t { mode: upsert  map { a -> b, c -> d } }\n')).toEqual(['s', 't']);
    // A stray `}` after a definition closes nothing: the definition before it is whole.
    expect(kinds('model a { from w }\n}\nmodel b { from w }\n')).toEqual(['a', 'b']);
  });

  it('places a missing name with no width right after the text before it, as Langium does', () => {
    const { ast } = parseFile('t.sync', 'model {\n  from w\n}\n');
    expect(ast.definitions[0]?.name).toMatchObject({ text: '', missing: true, span: { line: 1, column: 6, offset: 5, endOffset: 5 } });
  });

  it('holds no definition, and says so, when it nests too deeply to be read', () => {
    const r = parseFile('deep.sync', `audience a { from m where ${'('.repeat(20_000)}a = 1${')'.repeat(20_000)} }\n`);
    expect([r.ok, r.ast.definitions.length, r.diagnostics.map((d) => d.code)]).toEqual([false, 0, ['SW0013']]);
    expect(r.namesInText).toContain('a');
  });
});
