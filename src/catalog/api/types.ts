/**
 * How a destination type is called: per mode, the steps that send the change rows, as data
 * built from the sync's context. Everything variable is a template (`$ref`, `$env`), so an
 * executor needs no code per destination.
 */
import type { AudienceMode, Limits, RecordMode } from '../types.js';
import type { FieldRules } from '../fields.js';
import type { CallStep, ChangeKind, ApiStep, JobsStep, Template } from '../../contract/api-steps.js';

/** What a destination's API description may depend on, resolved from the checked sync. */
export interface ApiContext {
  sync: string;
  kind: 'record' | 'audience';
  mode: RecordMode | AudienceMode;
  objectKind: string;
  /** The sync's target (`object contacts` -> "contacts"), or the fallback the type documents. */
  target: string | undefined;
  /** The destination field the identifier is written to; absent for insert without one. */
  identifierField: string | undefined;
  /** Destination fields of the payload (identifier excluded), in map order, as the requests name them. */
  fields: string[];
  /** The destination's rules for the object kind's fields, where it has them (where a field goes). */
  fieldRules: FieldRules | undefined;
  /** Rows per call: the sync's `batch`, or the type's default for the object kind. */
  batch: number;
  maxPayloadBytes: number | undefined;
  rateLimit: Limits['rateLimit'];
  format: 'csv' | 'jsonl' | 'parquet';
  /** The sync's `message` template, rendered by `{"$message": null}`. */
  message: string | undefined;
  /** A setting as a template: its literal, `{"$env": ...}`, or its schema default; undefined when unset. */
  setting(name: string): Template | undefined;
  /** The settings the destination block gives, by name. */
  settingNames: string[];
  /**
   * The key of the lock on a named object of the destination (`CallStep.lock`), e.g. "list:VIP":
   * the same for every sync into that name, whatever the sync or the destination block.
   */
  lockKey(object: string): string;
}

/** The sending steps of one mode, and which change kinds it reads. */
export interface ModePlan {
  /** Change kinds read.sql returns for this mode. */
  reads: ChangeKind[];
  steps: ApiStep[];
  /**
   * Days after which every row is sent again (as changed) though nothing of it changed: for a
   * destination that forgets what was sent long ago (Google Ads members expire a set number of
   * days after their latest upload). The payload hash takes the warehouse clock's period of that
   * many days since the epoch.
   */
  refreshDays?: number;
}

export interface DestinationApi {
  /** Sign-in and lookups that run once before sending (oauth token, list id). */
  setup(ctx: ApiContext): CallStep[];
  /**
   * Where a call runs a job the destination may still fail after it answered (`CallStep.job`):
   * the step that asks, at the start of each run, how the jobs of earlier runs ended. Emit adds
   * its SQL.
   */
  jobs?(ctx: ApiContext): Omit<JobsStep, 'sql'>;
  /** Per supported mode of the type (record and audience modes share names where they mean the same). */
  modes: Partial<Record<`${'record' | 'audience'}:${RecordMode | AudienceMode}`, (ctx: ApiContext) => ModePlan>>;
}
