/** The shape of a destination type in the catalog: everything about it is data. */
import type { FieldRules } from './fields.js';
import type { RateWindow } from '../contract/api-steps.js';

export type Category = 'crm' | 'advertising' | 'marketing' | 'analytics' | 'warehouse' | 'storage' | 'streaming' | 'other';
export type RecordMode = 'upsert' | 'insert' | 'update' | 'mirror';
export type AudienceMode = 'add' | 'remove' | 'mirror' | 'upsert';
export const recordModes: readonly RecordMode[] = ['upsert', 'insert', 'update', 'mirror'];
export const audienceModes: readonly AudienceMode[] = ['add', 'remove', 'mirror', 'upsert'];

/** The column types of the language. */
export type ColumnType = 'string' | 'int' | 'bigint' | 'float' | 'decimal' | 'bool' | 'date' | 'timestamp' | 'json';
export const columnTypes: readonly ColumnType[] = ['string', 'int', 'bigint', 'float', 'decimal', 'bool', 'date', 'timestamp', 'json'];

/** A JSON Schema (draft 2020-12) object, validated with ajv. */
export type JsonSchema = Record<string, unknown>;

export interface ObjectKindSpec {
  /** e.g. `object`, `table`, `audience`, `list`, `topic`, `stream`, `path`, `channel`, `event`. */
  kind: string;
  /** What the reference after the kind names, for hints: "a HubSpot object type such as contacts". */
  describes: string;
  /** Audience syncs may only target object kinds marked for audiences. */
  audience?: boolean;
  /** Record syncs may target it (default true). */
  records?: boolean;
  /** Whether a reference must follow the kind (default 'required'); 'optional' falls back to a setting or the sync's name. */
  target?: 'required' | 'optional';
  /** Limits for syncs to this kind, where they differ from the type's (Klaviyo lists take 1,000 per call). */
  limits?: Limits;
  /** The fields the API takes for this kind, where it documents them (src/catalog/fields.ts). */
  fields?: FieldRules;
  /**
   * The reference (or, without one, the sync's name) is also the name of a field written on each
   * record beside the mapped ones (Braze: a list is a custom attribute marking its members), so
   * it may name no field of `fields`, the identifier's or a mapped one: why, for the message.
   */
  referenceIsField?: string;
}

export interface Limits {
  /** Largest batch the API takes in one call (rows); `batch` above it is an error. */
  maxBatch: number;
  /** Batch used when the sync gives none. */
  defaultBatch: number;
  /**
   * Documented rate limit: requests per window, and in `also` any further window the same
   * requests count against (a steady rate beside a burst). Every HTTP call of the plan counts.
   */
  rateLimit?: RateWindow & { also?: RateWindow[] };
  /** Largest request or message body in bytes, where the API documents one. */
  maxPayloadBytes?: number;
  /**
   * Identifiers per request, where the API counts them rather than rows (Google Ads: 100,000 per
   * request across all users): the largest batch is this divided by the identifiers a row carries.
   */
  maxIdentifiers?: number;
}

export interface DestinationType {
  type: string;
  title: string;
  category: Category;
  /** Record modes supported; the category's modes unless `modesWhy` explains a narrowing or widening. */
  recordModes: RecordMode[];
  /** Audience modes supported; empty when the destination takes no audiences. */
  audienceModes: AudienceMode[];
  /** Why this type differs from its category's row in the mode matrix, when it does. */
  modesWhy?: string;
  objectKinds: ObjectKindSpec[];
  /**
   * The kind a sync means when it names only the destination (`to hook`), per sync kind;
   * set only where the choice is obvious, otherwise the sync must name the kind.
   */
  defaultObjectKind?: { records?: string; audiences?: string };
  /** Column types a destination field can take; absent = all. */
  fieldTypes?: ColumnType[];
  /** JSON Schema of the settings block. */
  settings: JsonSchema;
  /** Setting names that must be given through env(). */
  secretSettings: string[];
  limits: Limits;
  /** Whether the sync must have a `message` template (slack) or may have one (webhook). */
  message?: 'required' | 'optional';
  /** What the message renders: text (a Slack message) or a JSON body, its values inserted with `{{json column}}` (webhook). */
  messageFormat?: 'text' | 'json';
  /** File formats the destination writes (storage). */
  formats?: string[];
  /**
   * Settings whose values the vendor publishes (Klaviyo's API revisions), by setting: a literal
   * that is none of them is a warning, not an error, since the vendor publishes more after a
   * release of syncwright.
   */
  published?: Record<string, PublishedValues>;
  docs: string;
}

/** The values a vendor has published for a setting, as of a date. */
export interface PublishedValues {
  /** What a value is, for messages: "API revision". */
  what: string;
  /** In order: the nearest ones to an unknown value are its neighbours in this order. */
  values: readonly string[];
  /** Where and when the list was read. */
  source: string;
  /** The part of a value looked up (a regular expression matching its start: a revision without its suffix); absent: the whole value. */
  part?: string;
}
