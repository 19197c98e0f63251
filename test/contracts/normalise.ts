/**
 * Each normalisation step of src/catalog/fields.ts in JavaScript: the semantics every dialect's
 * snippet (the `changeSet` record of dialects/<dialect>.json) implements. The tests compare it with
 * Postgres running the generated SQL, and the Meta key rules built from it with the digests
 * Meta's SDK code computes.
 */
import { createHash } from 'node:crypto';
import type { NormaliseStep } from '../../src/catalog/fields.js';

const steps: Record<NormaliseStep, (v: string) => string | null> = {
  trim: (v) => v.replace(/^ +| +$/g, ''),
  // Python's str.strip(" \t\r\n\0\x0B.") as Meta's SDK calls it (NUL cannot be in a warehouse string).
  strip: (v) => v.replace(/^[ \t\r\n\v.]+|[ \t\r\n\v.]+$/g, ''),
  lower: (v) => v.toLowerCase(),
  lower_if_email: (v) => (v.includes('@') ? v.toLowerCase() : v),
  digits: (v) => v.replace(/[^0-9]/g, ''),
  letters: (v) => v.replace(/[^a-z]/g, ''),
  strip_leading_zeros: (v) => v.replace(/^0+/, ''),
  first_char: (v) => Array.from(v).slice(0, 1).join(''),
  first_two: (v) => Array.from(v).slice(0, 2).join(''),
  pad_two: (v) => (Array.from(v).length === 1 ? `0${v}` : v),
  no_spaces: (v) => v.replaceAll(' ', ''),
  before_dash: (v) => v.split('-')[0] ?? '',
  non_empty: (v) => (v === '' ? null : v),
  plus: (v) => `+${v}`,
  gmail: (v) => {
    const [local = '', domain] = v.split('@');
    return domain === 'gmail.com' || domain === 'googlemail.com' ? `${local.split('+')[0]!.replaceAll('.', '')}@${domain}` : v;
  },
};

/** A value through the steps, null once a step makes it null (SQL NULL propagates the same way). */
export function normalise(value: string, list: readonly NormaliseStep[]): string | null {
  let v: string | null = value;
  for (const s of list) {
    if (v === null) return null;
    v = steps[s](v);
  }
  return v;
}

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
