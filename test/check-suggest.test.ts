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
    // Renamed by adding or dropping words: far by edits, but the name is kept whole.
    ['email', ['customer_id', 'email_address', 'plan'], 'email_address'],
    ['email', ['primary_email_address', 'plan'], 'primary_email_address'],
    ['Email', ['customer_email'], 'customer_email'],
    ['customer_email', ['email', 'plan'], 'email'],
    // Two candidates keep it: neither is pointed at.
    ['email', ['email_address', 'email_verified'], undefined],
    // Not as a whole word, or too short to point at one name.
    ['mail', ['email_address'], undefined],
    ['id', ['user_id', 'email'], undefined],
  ] as const)('%s among %j: %s (kept whole)', (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });

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
    // Nothing near: the list, however long, so that the diagnostic has a hint; at most 40 names of it.
    [
      'zzz',
      Array.from({ length: 13 }, (_, i) => `model_${i}`),
      'models',
      [
        `available models: ${Array.from({ length: 13 }, (_, i) => `model_${i}`)
          .sort()
          .join(', ')}`,
      ],
    ],
    [
      'zzz',
      Array.from({ length: 50 }, (_, i) => `m${String(i).padStart(2, '0')}`),
      'models',
      [`available models: ${Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`).join(', ')} and 10 more`],
    ],
    ['model_1x', Array.from({ length: 13 }, (_, i) => `model_${i}`), 'models', ['did you mean `model_1`?']],
  ] as const)('%s', (word, candidates, what, hints) => {
    expect(nameHints({ text: word }, [...candidates], what)).toEqual({ hints, fixes: [] });
  });

  const span = { file: 'f.sync', line: 1, column: 6, offset: 5, endLine: 1, endColumn: 11, endOffset: 10 };
  it('gives the "did you mean" as a fix where the name has a place', () => {
    expect(nameHints({ text: 'usres', span }, ['users'], 'models').fixes).toEqual([{ title: 'write `users`', span, replacement: 'users' }]);
  });
  it('gives no fix for a candidate that is no bare name, unless told how it is written', () => {
    expect(nameHints({ text: 'User id', span }, ['User Id'], 'columns').fixes).toEqual([]);
    expect(nameHints({ text: 'User id', span }, ['User Id'], 'columns', (c) => JSON.stringify(c)).fixes).toEqual([
      { title: 'write `"User Id"`', span, replacement: '"User Id"' },
    ]);
  });
});
