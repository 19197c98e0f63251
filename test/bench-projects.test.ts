// The generated projects of the benches check clean: a bench whose project the check refuses
// measures the error path, and its command exits 1.
import { describe, expect, it } from 'vitest';
import { check, parse } from '../src/index.js';
// @ts-expect-error: plain JavaScript modules of the benches, without types.
import * as mixed from '../bench/project.js';
// @ts-expect-error: as above.
import * as warehouse from '../bench/warehouse-project.js';

type Generator = { FILES: number; SYNCS: number; generateFile: (f: number) => string };

describe.each([
  ['bench/project.js (check, lsp and conditions benches)', mixed as Generator],
  ['bench/warehouse-project.js (compile bench)', warehouse as Generator],
])('%s', (_, { FILES, SYNCS, generateFile }) => {
  it('writes files the check accepts, one of each source dialect', () => {
    // Files whose syncs of one number reach one warehouse or bucket if named alike: 3 apart (one source dialect), 17 apart (one destination type).
    const numbers = [0, 1, 2, 3, 17, FILES - 1];
    const result = check(parse(numbers.map((f) => ({ path: `f${f}.sync`, text: generateFile(f) }))));
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`)).toEqual([]);
    expect(result.project.syncs.length).toBe((numbers.length * SYNCS) / FILES);
  });
});
