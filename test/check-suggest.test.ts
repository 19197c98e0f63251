import { describe, expect, it } from 'vitest';
import { closest, editDistance, nameHints } from '../src/diagnostics/suggest.js';

describe('editDistance', () => {
  it.each([
    ['users', 'users', 0],
    ['users', 'Users', 0],
    ['usres', 'users', 1],
    ['emial', 'email', 1],
    ['user', 'users', 1],
    ['userss', 'users', 1],
    ['usxrs', 'users', 1],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['ca', 'abc', 3],
    ['hubspt', 'hubspot', 1],
    ['kitten', 'sitting', 3],
  ] as const)('%s -> %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closest', () => {
  it.each([
    ['usres', ['users', 'events'], 'users'],
    ['postgress', ['postgres', 'snowflake', 'bigquery'], 'postgres'],
    ['id', ['user_id', 'email'], undefined],
    ['plan', [], undefined],
    // Ties go to the first in name order, whatever the input order.
    ['cat', ['cut', 'cot'], 'cot'],
    ['cat', ['cot', 'cut'], 'cot'],
  ] as const)('%s among %j is %s', (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });
});

describe('nameHints', () => {
  it.each([
    ['usres', ['users'], 'models', ['did you mean `users`?', 'available models: users']],
    ['x', [], 'sources', ['there are no sources to choose from']],
    ['zzz', Array.from({ length: 13 }, (_, i) => `model_${i}`), 'models', []],
    ['model_1x', Array.from({ length: 13 }, (_, i) => `model_${i}`), 'models', ['did you mean `model_1`?']],
  ] as const)('%s', (word, candidates, what, hints) => {
    expect(nameHints(word, [...candidates], what)).toEqual(hints);
  });
});
