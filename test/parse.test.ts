import { describe, expect, it } from 'vitest';
import { parseFile } from '../src/syntax/parse.js';

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

  it('reports several syntax errors in one run', () => {
    const r = parseFile('e.sync', 'sync a { mode }\nsync b { batch x }\n');
    expect(r.ast).toBeUndefined();
    expect(r.diagnostics.length).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics.map((d) => d.span.line)).toEqual(expect.arrayContaining([1, 2]));
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
    'audience a { from m where amount > -1.5 and not amount between 1 and 2 or `Mixed Case` like \'x%\' }',
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
    expect(r.diagnostics[0]).toMatchObject({ code: 'SW0001', span: { line: 2, column: 14 } });
    expect(r.diagnostics[0]!.message).toContain('end of the file');
  });
});
