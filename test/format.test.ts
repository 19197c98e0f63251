import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSource } from '../src/syntax/format.js';
import { parseFile } from '../src/syntax/parse.js';
import { commentText, root, stripSpans, syncFiles } from './fixtures/format/helpers.js';

const fixtures = join(root, 'test/fixtures/format');

function format(text: string): string {
  const result = formatSource('t.sync', text);
  expect(result.diagnostics).toEqual([]);
  return result.text ?? '';
}

describe('formatSource: golden files', () => {
  const inputs = readdirSync(fixtures).filter((n) => n.endsWith('.sync') && !n.endsWith('.expected.sync'));

  it('has fixtures', () => {
    expect(inputs.length).toBeGreaterThan(0);
  });

  it.each(inputs)('%s', (name) => {
    const input = readFileSync(join(fixtures, name), 'utf8');
    const expected = readFileSync(join(fixtures, name.replace(/\.sync$/, '.expected.sync')), 'utf8');
    expect(format(input)).toBe(expected);
  });
});

describe('formatSource: comments', () => {
  it('keeps own-line `#` and `//` comments before the next item, at its indentation', () => {
    expect(format('model m {\n# why\n      from w\n        // and this\ntable t }')).toBe('model m {\n  # why\n  from  w\n  // and this\n  table t\n}\n');
  });

  it('keeps trailing comments on the same printed line', () => {
    expect(format('sync s { from m # the model\n to d }')).toBe('sync s {\n  from m # the model\n  to   d\n}\n');
  });

  it('moves a comment inside an item to the end of its line', () => {
    expect(format('sync s {\n  from # the model\n    m\n}')).toBe('sync s {\n  from m # the model\n}\n');
  });

  it('puts a `#` comment inside an item before it when another comment follows on the line', () => {
    expect(format('sync s {\n  from # a\n    m # b\n}')).toBe('sync s {\n  # a\n  from m # b\n}\n');
  });

  it('keeps comments at the end of a block inside it, and at the end of the file', () => {
    expect(format('model m { from w\n# end of m\n}\n\n\n# end of file\n')).toBe('model m {\n  from w\n  # end of m\n}\n\n# end of file\n');
  });

  it('keeps block comments, inline and over several lines, as written', () => {
    expect(format('model m { from /* inline */ w\n  /* one\n     two */\n  table t }')).toBe(
      'model m {\n  from  w /* inline */\n  /* one\n     two */\n  table t\n}\n',
    );
  });

  it('keeps a comment after `{` of an empty block on the `{}` line', () => {
    expect(format('destination d : slack { # nothing yet\n}')).toBe('destination d : slack {} # nothing yet\n');
  });

  it('does not let a `#` comment after `{` swallow the `}`', () => {
    expect(format('model m { columns { # a\n } # b\n}')).toBe('model m {\n  columns { # a\n  }         # b\n}\n');
  });

  it('formats a file of comments only, and an empty file', () => {
    expect(format('   # only\n\n\n// comments  \n')).toBe('# only\n\n// comments\n');
    expect(format(' \n\n')).toBe('');
  });

  it('removes trailing whitespace inside block comments and reads CRLF line breaks', () => {
    expect(format('/* a  \r\n   b */\r\nmodel m {\r\n  from w   # x  \r\n}\r\n')).toBe('/* a\n   b */\nmodel m {\n  from w # x\n}\n');
  });
});

describe('formatSource: `where` conditions', () => {
  const audience = (...where: string[]) => `audience a {\n  from  m\n  where ${where.join('\n')}\n}\n`;
  /** `a = 1 and b = 'xx…'`, so long that its `where` line is `columns` wide. */
  const condition = (columns: number) => {
    const fixed = "  where a = 1 and b = ''".length;
    return `a = 1 and b = '${'x'.repeat(columns - fixed)}'`;
  };

  it('keeps a condition on the `where` line up to column 100', () => {
    expect(format(audience(condition(100)))).toBe(audience(condition(100)));
  });

  it('breaks it before `and` past column 100', () => {
    const [first, second] = condition(101).split(' and ');
    expect(format(audience(condition(101)))).toBe(audience(first!, `    and ${second}`));
  });

  it('stays broken for a `#` comment after a term, and joins a condition whose comments can go to its end', () => {
    expect(format(audience('a = 1 # one', '    and b = 2 /* two */'))).toBe(audience('a = 1 # one', '    and b = 2 /* two */'));
    expect(format(audience('a = 1 /* one */', '    and b = 2 # two'))).toBe(audience('a = 1 and b = 2 /* one */ # two'));
  });
});

describe('formatSource: blocks of very many lines', () => {
  // 200,000 lines: past what `Math.max(...widths)` can take as arguments (about 120,000), which overflowed the stack.
  const many = 200_000;

  it('aligns 200,000 columns', () => {
    const columns = Array.from({ length: many }, (_, i) => `    c${i} int`);
    const text = `model m {\n  from w\n  columns {\n${columns.join('\n')}\n  }\n}\n`;
    const out = format(text);
    expect(out.split('\n')[3]).toBe(`    c0${' '.repeat('c199999'.length - 1)}int`);
    expect(out.endsWith(`    c199999 int\n  }\n}\n`)).toBe(true);
  });

  it('breaks an `in` list of 200,000 values, one per line', () => {
    const values = Array.from({ length: many }, (_, i) => i);
    const out = format(`audience a {\n  from  m\n  where a in (${values.join(', ')})\n}\n`);
    expect(out).toContain(`\n      199998,\n      199999\n    )\n`);
  });
});

describe('formatSource: refusal', () => {
  it('returns the syntax diagnostics and no text when the file does not parse', () => {
    const text = 'model m { from }\nsync s { batch x }\n';
    const result = formatSource('bad.sync', text);
    expect(result.text).toBeUndefined();
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics).toEqual(parseFile('bad.sync', text).diagnostics);
  });
});

describe('formatSource: the example projects', () => {
  const files = syncFiles('examples');

  it('has examples', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  // So that `syncwright fmt --check` passes on what ships as the model to copy.
  it.each(files.map((f) => [f.path, f.text] as const))('%s is in canonical layout', (path, text) => {
    expect(formatSource(path, text).text).toBe(text);
  });
});

describe('formatSource: every .sync file in the repository', () => {
  const files = syncFiles('examples', 'test');

  it('finds files, including its own fixtures', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((f) => f.path.startsWith(join('test', 'fixtures', 'format')))).toBe(true);
  });

  it.each(files.map((f) => [f.path, f.text] as const))('%s', (path, text) => {
    const before = parseFile(path, text);
    const result = formatSource(path, text);
    if (!before.ok) {
      // Fixtures for syntax errors: the formatter must refuse them.
      expect(result.text).toBeUndefined();
      expect(result.diagnostics).toEqual(before.diagnostics);
      return;
    }
    const out = result.text ?? '';
    const after = parseFile(path, out);
    // No error, and the same warnings (a bidirectional control character stays where it was written).
    expect(after.ok).toBe(true);
    expect(after.diagnostics.map((d) => d.code)).toEqual(before.diagnostics.map((d) => d.code));
    expect(stripSpans(after.ast?.definitions)).toEqual(stripSpans(before.ast.definitions));
    expect(after.ast?.comments.map((c) => c.text)).toEqual(before.ast.comments.map((c) => commentText(c.text)));
    expect(formatSource(path, out).text).toBe(out);
    // Outside """strings""" no line ends in whitespace; the file ends with one newline.
    expect(out.replace(/"""[\s\S]*?"""/g, '""""""')).not.toMatch(/[ \t]$/m);
    expect(out === '' || (out.endsWith('\n') && !out.endsWith('\n\n'))).toBe(true);
  });
});
