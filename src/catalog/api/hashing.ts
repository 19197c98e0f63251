/**
 * How identifiers are normalised before SHA-256, per platform rule (the catalog's `hashing`).
 * The field a value goes to decides its kind: email, phone, or anything else.
 */
import type { DestinationType } from '../types.js';

/** One normalisation step; each dialect spells it in templates/api/dialects/<dialect>.json. */
export type NormaliseStep = 'trim' | 'lower' | 'digits' | 'strip_leading_zeros' | 'non_empty' | 'plus' | 'gmail';

interface Rule {
  /** Destination field names this rule applies to. */
  field: RegExp;
  steps: NormaliseStep[];
}

const email = /e-?mail/i;
const phone = /phone/i;
const any = /.*/;

export const normalisationRules: Readonly<Record<NonNullable<DestinationType['hashing']>, readonly Rule[]>> = {
  // Meta: email trimmed and lower-cased; phone digits only, country code kept, leading zeros removed.
  // https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash
  meta: [
    { field: email, steps: ['trim', 'lower', 'non_empty'] },
    { field: phone, steps: ['digits', 'strip_leading_zeros', 'non_empty'] },
    { field: any, steps: ['trim', 'lower', 'non_empty'] },
  ],
  // Google Customer Match: as Meta, plus gmail.com/googlemail.com local parts without dots or
  // +suffix; phone in E.164 (+, country code, digits; an international 00 prefix dropped).
  // https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started#normalize-and-hash
  google: [
    { field: email, steps: ['trim', 'lower', 'gmail', 'non_empty'] },
    { field: phone, steps: ['digits', 'strip_leading_zeros', 'non_empty', 'plus'] },
    { field: any, steps: ['trim', 'lower', 'non_empty'] },
  ],
  // Elsewhere `hashed` hashes the value as it is, only surrounding spaces removed.
  plain: [{ field: any, steps: ['trim', 'non_empty'] }],
};

/** The normalisation of a value bound for `field` under a platform's rules. */
export function normalisationFor(hashing: DestinationType['hashing'], field: string): NormaliseStep[] {
  const rule = normalisationRules[hashing ?? 'plain'].find((r) => r.field.test(field));
  return rule ? [...rule.steps] : [];
}
