/**
 * Turns a destination's written spec into its catalog entry: modes come from the category's
 * row of the matrix, secrets from the settings schema, default object kinds from the kinds.
 */
import { modeMatrix } from './modes.js';
import { secretSettingsOf } from './settings.js';
import { columnTypes } from './types.js';
import type { AudienceMode, ColumnType, DestinationType, ObjectKindSpec, RecordMode } from './types.js';

export type DestinationSpec = Omit<DestinationType, 'recordModes' | 'audienceModes' | 'secretSettings' | 'defaultObjectKind'> & {
  /** Overrides of the category's row; each needs `modesWhy`. */
  recordModes?: RecordMode[];
  audienceModes?: AudienceMode[];
};

export const takesRecords = (k: ObjectKindSpec): boolean => k.records !== false;
export const takesAudiences = (k: ObjectKindSpec): boolean => k.audience === true;

/** The one kind that takes a sync kind is its default; with two or more the sync must choose. */
function soleKind(kinds: readonly ObjectKindSpec[], takes: (k: ObjectKindSpec) => boolean): string | undefined {
  const matching = kinds.filter(takes);
  return matching.length === 1 ? matching[0]!.kind : undefined;
}

export function defineDestination(spec: DestinationSpec): DestinationType {
  const { recordModes, audienceModes, ...rest } = spec;
  if ((recordModes || audienceModes) && !spec.modesWhy) {
    throw new Error(`destination type ${spec.type} departs from the ${spec.category} modes without a modesWhy`);
  }
  const row = modeMatrix[spec.category];
  const modes = { recordModes: recordModes ?? [...row.records], audienceModes: audienceModes ?? [...row.audiences] };
  const defaults = {
    records: modes.recordModes.length > 0 ? soleKind(spec.objectKinds, takesRecords) : undefined,
    audiences: modes.audienceModes.length > 0 ? soleKind(spec.objectKinds, takesAudiences) : undefined,
  };
  const defaultObjectKind = Object.fromEntries(Object.entries(defaults).filter(([, kind]) => kind !== undefined));
  return {
    ...rest,
    ...modes,
    secretSettings: secretSettingsOf(spec.settings),
    ...(Object.keys(defaultObjectKind).length > 0 ? { defaultObjectKind } : {}),
  };
}

/** Every column type except the given ones. */
export const columnTypesExcept = (...excluded: ColumnType[]): ColumnType[] => columnTypes.filter((t) => !excluded.includes(t));
