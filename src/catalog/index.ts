/**
 * The destination catalog: every destination type and source dialect by name, and their
 * settings validators (precompiled by the build, else compiled on first use: src/schema/compile.ts).
 */
import { groupValidator, type SchemaGroup, type ValidateFunction } from '../schema/compile.js';
import { amplitude } from './destinations/amplitude.js';
import { braze } from './destinations/braze.js';
import { facebookAds } from './destinations/facebook-ads.js';
import { googleAds } from './destinations/google-ads.js';
import { hubspot } from './destinations/hubspot.js';
import { kafka } from './destinations/kafka.js';
import { kinesis } from './destinations/kinesis.js';
import { klaviyo } from './destinations/klaviyo.js';
import { mixpanel } from './destinations/mixpanel.js';
import { salesforce } from './destinations/salesforce.js';
import { slack } from './destinations/slack.js';
import { gcs, s3 } from './destinations/storage.js';
import { bigquery, postgres, snowflake } from './destinations/warehouses.js';
import { webhook } from './destinations/webhook.js';
import { settingDefaults } from './settings.js';
import { sourceDialects, sourceSettingsSchemas, type SourceDialect } from './sources.js';
import type { DestinationType, JsonSchema, Limits, ObjectKindSpec } from './types.js';
import type { SyntaxWords } from '../syntax/parse.js';

export type * from './types.js';
export { audienceModes, columnTypes, recordModes } from './types.js';
export { audienceModeMeaning, modeMatrix, recordModeMeaning, type ModeRow } from './modes.js';
export { sourceDialects, type SourceDialect } from './sources.js';
export { takesAudiences, takesRecords } from './define.js';
export { keyCaseOf, resolveField, type FieldEncoding, type FieldRules, type FieldSpec, type NormaliseStep, type ResolvedField } from './fields.js';

const all = [
  amplitude,
  bigquery,
  braze,
  facebookAds,
  gcs,
  googleAds,
  hubspot,
  kafka,
  kinesis,
  klaviyo,
  mixpanel,
  postgres,
  s3,
  salesforce,
  slack,
  snowflake,
  webhook,
];

/**
 * Every destination type by name, in name order: by code point, the same on every machine
 * (`localeCompare` follows the locale, and its first use sets up a collator, 8 ms of every run).
 */
export const destinationTypes: ReadonlyMap<string, DestinationType> = new Map(
  [...all].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)).map((d) => [d.type, d]),
);

/** What the hints of syntax errors name: object kinds, in all and by destination type. */
export const syntaxWords: SyntaxWords = {
  objectKinds: [...new Set(all.flatMap((t) => t.objectKinds.map((k) => k.kind)))].sort(),
  objectKindsOf: (type) => destinationTypes.get(type)?.objectKinds.map((k) => k.kind),
};

export function getDestinationType(name: string): DestinationType | undefined {
  return destinationTypes.get(name);
}

export function requireDestinationType(name: string): DestinationType {
  const d = destinationTypes.get(name);
  if (!d) throw new Error(`unknown destination type '${name}'; known: ${[...destinationTypes.keys()].join(', ')}`);
  return d;
}

export function isSourceDialect(name: string): name is SourceDialect {
  return (sourceDialects as readonly string[]).includes(name);
}

export function sourceSettingsSchema(dialect: SourceDialect): JsonSchema {
  return sourceSettingsSchemas[dialect];
}

export function getSourceSettingsSchema(dialect: string): JsonSchema | undefined {
  return isSourceDialect(dialect) ? sourceSettingsSchemas[dialect] : undefined;
}

export function requireSourceSettingsSchema(dialect: string): JsonSchema {
  const schema = getSourceSettingsSchema(dialect);
  if (!schema) throw new Error(`unknown source dialect '${dialect}'; known: ${sourceDialects.join(', ')}`);
  return schema;
}

/** Defaults of a source's settings that the block may leave out (postgres version 15, state_schema). */
export function sourceSettingDefaults(dialect: string): Record<string, unknown> {
  return settingDefaults(requireSourceSettingsSchema(dialect));
}

/** The object kind a sync names, or its default when it names none; undefined when there is neither. */
export function objectKindOf(type: DestinationType, kind: string | undefined, syncKind: 'record' | 'audience'): ObjectKindSpec | undefined {
  const name = kind ?? (syncKind === 'record' ? type.defaultObjectKind?.records : type.defaultObjectKind?.audiences);
  return type.objectKinds.find((k) => k.kind === name);
}

/**
 * The limits a sync to this kind obeys: the kind's own where it has them. Where the API counts
 * identifiers per request (`maxIdentifiers`), a batch holds the rows whose identifiers fit:
 * each row carries `identifiersPerRow` of them at most.
 */
export function limitsFor(type: DestinationType, kind: ObjectKindSpec | undefined, identifiersPerRow = 1): Limits {
  const limits = kind?.limits ?? type.limits;
  if (limits.maxIdentifiers === undefined) return limits;
  const maxBatch = Math.min(limits.maxBatch, Math.floor(limits.maxIdentifiers / Math.max(1, identifiersPerRow)));
  return { ...limits, maxBatch, defaultBatch: Math.min(limits.defaultBatch, maxBatch) };
}

let settings: SchemaGroup | undefined;

/** Every settings schema, as one group of validators: `destination:<type>` and `source:<dialect>`. */
export function settingsSchemas(): SchemaGroup {
  return (settings ??= Object.fromEntries([
    ...[...destinationTypes.values()].map((d) => [`destination:${d.type}`, d.settings]),
    ...sourceDialects.map((dialect) => [`source:${dialect}`, sourceSettingsSchemas[dialect]]),
  ]));
}

/** The validator of a destination type's settings; throws on an unknown type. */
export function destinationSettingsValidator(type: string): ValidateFunction {
  return groupValidator('settings', settingsSchemas(), `destination:${requireDestinationType(type).type}`);
}

/** The validator of a source dialect's settings; throws on an unknown dialect. */
export function sourceSettingsValidator(dialect: string): ValidateFunction {
  requireSourceSettingsSchema(dialect);
  return groupValidator('settings', settingsSchemas(), `source:${dialect}`);
}

/** The settings a block of this schema may hold, for "did you mean" hints. */
export function settingNames(schema: JsonSchema): string[] {
  return Object.keys((schema.properties ?? {}) as Record<string, unknown>);
}
