// The generated project of the check, lsp and conditions benches checks clean: a bench whose
// project the check refuses measures the error path, and its command exits 1.
import { describe, expect, it } from 'vitest';
import { check, parse } from '../src/index.js';
// @ts-expect-error: a plain JavaScript module of the benches, without types.
import { FILES, generateFile } from '../bench/project.js';

describe('bench/project.js', () => {
  it('writes files the check accepts, one of each source dialect', () => {
    const files = [0, 1, 2, FILES - 1].map((f: number) => ({ path: `f${f}.sync`, text: generateFile(f) as string }));
    const result = check(parse(files));
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => `${d.code} ${d.message}`)).toEqual([]);
    expect(result.project.syncs.length).toBe(400);
  });
});
