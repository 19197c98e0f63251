/**
 * What a destination accepts as fields, where its API documents it: a closed set (Meta's
 * customer-file keys, Google's user identifiers) or fields with a fixed meaning in an open
 * set (Amplitude's top-level event keys, Braze's standard attributes), how each is normalised
 * and hashed, how a value is encoded when the column's own JSON is not what the API takes, and
 * which fields the identifier may be. The checker holds a sync's mapping to these rules; the
 * change set (src/plan/api-changes.ts) renders values by them; API descriptions place fields
 * by them.
 */
import type { AudienceMode, ColumnType, RecordMode } from './types.js';

/**
 * One normalisation step before hashing; each dialect spells it in
 * the `changeSet` record of dialects/<dialect>.json. `strip` removes the characters Meta's SDK strips
 * from both ends (space, tab, CR, LF, VT and `.`); `letters` keeps a-z only; `pad_two` left-pads
 * a single digit with 0; `before_dash` keeps what precedes the first `-`.
 */
export type NormaliseStep =
  | 'trim'
  | 'strip'
  | 'lower'
  | 'lower_if_email'
  | 'digits'
  | 'letters'
  | 'strip_leading_zeros'
  | 'first_char'
  | 'first_two'
  | 'pad_two'
  | 'no_spaces'
  | 'before_dash'
  | 'non_empty'
  | 'plus'
  | 'gmail';

/**
 * How a value is sent when its column's JSON value is not what the API takes: `text` as a
 * string (numbers in decimal, booleans true/false, a date YYYY-MM-DD, a timestamp ISO 8601
 * UTC with milliseconds), `epoch_ms` a date or timestamp as integer milliseconds since the
 * epoch (midnight UTC for a date). Other column types are sent as they are.
 */
export type FieldEncoding = 'text' | 'epoch_ms';

export interface FieldSpec {
  /** Column types it takes; absent = every type the destination takes. */
  types?: ColumnType[];
  /** `required`: only a hashed value (`hashed`, or the identifier of a type that hashes it); `never`: sent as it is. */
  hashed?: 'required' | 'never';
  /** Normalisation of the value, before hashing when it is hashed. */
  normalise?: NormaliseStep[];
  encode?: FieldEncoding;
  /** The name the request uses, where the API also accepts this spelling (proto JSON: hashed_email is hashedEmail). */
  as?: string;
  /** Written by syncwright itself: a sync may not map it (the reason is the hint). */
  setBy?: string;
  /** Only the sync's identifier may be this field (the reason is the hint). */
  identifierOnly?: string;
  /** The field has a fixed place in the request (Amplitude: the event's top level; Klaviyo: a standard profile attribute). */
  top?: true;
  /** The API refuses shorter values; the checker warns where short values are likely (integer ids). */
  minChars?: number;
}

export type SyncMode = RecordMode | AudienceMode;

export interface FieldRules {
  /** What the set is, for messages: "Meta customer-file keys". */
  describes: string;
  /** The reference the rules are read from. */
  docs: string;
  /** Only the listed fields are accepted; otherwise any name, the listed ones held to their spec. */
  closed: boolean;
  /** Field names match regardless of case (Meta's keys); the request uses the listed spelling. */
  anyCase?: true;
  fields: Record<string, FieldSpec>;
  /** The fields the identifier may be written to (the API matches users by these only). */
  identifiers?: { fields: string[]; modes?: SyncMode[]; why: string };
  /**
   * Identifier fields the destination matches without case (HubSpot contact emails, Salesforce's
   * Email): two keys that differ only in case are one record there, so the change set compares
   * and sends them lower-cased, and a result is matched to its row ignoring case (`keyCase`).
   */
  keysWithoutCase?: string[];
  /**
   * The destination stores such a key as it is sent (Salesforce keeps an email's case, HubSpot
   * lower-cases it): the payload carries the identifier as the model has it, and the record is
   * written with it, while the key is compared and matched lower-cased.
   */
  keysKeepCase?: true;
  /** Every value not otherwise encoded is sent this way (HubSpot: property values are strings). */
  encode?: FieldEncoding;
  /** NULL is sent as "" (HubSpot clears a property with ""; Meta leaves an unknown key blank). */
  nullAsEmpty?: true;
  /** The identifier is normalised and hashed whether or not the sync says `hashed` (ad platforms take nothing else), unless its field is one sent as it is. */
  hashIdentifier?: true;
  /** At least one of these must be the identifier's field or a mapped field. */
  needsOneOf?: { fields: string[]; why: string };
  /** One of these should be mapped: without it the request is valid but carries something else in its place (a warning). */
  advisesOneOf?: { fields: string[]; why: string };
  /** What every field name must look like, where requests name fields unquoted (SOQL). */
  names?: { pattern: string; what: string };
  /** Modes whose requests carry no mapped field: a `map` there would be dropped, so it is refused. */
  unmappedIn?: { modes: SyncMode[]; why: string };
}

/**
 * What `hashed` means where the destination has no rule for the field, in every emitter (API
 * change sets and warehouse scripts alike): surrounding spaces removed, an email address
 * (a value holding `@`) lower-cased, and an empty value left out rather than hashed (the
 * digest of "" would match every empty row).
 */
export const plainNormalisation: readonly NormaliseStep[] = ['trim', 'lower_if_email', 'non_empty'];

export interface ResolvedField {
  /** The field as the request names it. */
  name: string;
  /** Its rule, when the destination has one for it. */
  spec?: FieldSpec;
}

/** A sync's field name under the destination's rules: its spelling in requests, and its spec. */
export function resolveField(rules: FieldRules | undefined, field: string): ResolvedField {
  const exact = rules?.fields[field];
  if (exact) return { name: exact.as ?? field, spec: exact };
  if (rules?.anyCase) {
    const key = Object.keys(rules.fields).find((k) => k.toLowerCase() === field.toLowerCase());
    if (key) return { name: rules.fields[key]!.as ?? key, spec: rules.fields[key]! };
  }
  return { name: field };
}

/** How the destination compares the keys of an identifier written to `field`: `insensitive` where it ignores case. */
export function keyCaseOf(rules: FieldRules | undefined, field: string | undefined): 'insensitive' | undefined {
  return field !== undefined && rules?.keysWithoutCase?.includes(field) ? 'insensitive' : undefined;
}

/** The same spec under a proto field's name and its JSON name (hashed_email, hashedEmail), both sent as the JSON name. */
export function protoField(protoName: string, spec: FieldSpec): Record<string, FieldSpec> {
  const json = protoName.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return { [protoName]: { ...spec, as: json }, [json]: { ...spec, as: json } };
}
