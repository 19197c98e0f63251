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
