/**
 * The mode support matrix of semantics.md, as the one table the compiler reads. A destination
 * type takes its category's row; it may narrow or widen it only with a `modesWhy`.
 */
import type { AudienceMode, Category, RecordMode } from './types.js';

export interface ModeRow {
  records: readonly RecordMode[];
  audiences: readonly AudienceMode[];
  /** What the row resolves, for messages that refuse a mode. */
  why?: string;
}

const allAudienceModes: readonly AudienceMode[] = ['add', 'remove', 'mirror', 'upsert'];

export const modeMatrix: Readonly<Record<Category, ModeRow>> = {
  crm: {
    records: ['upsert', 'insert', 'update'],
    audiences: allAudienceModes,
    why: 'CRM mirror is per destination, since deleting CRM records is not always allowed; audiences become lists',
  },
  advertising: {
    records: ['upsert', 'mirror'],
    audiences: ['add', 'remove', 'mirror'],
    why: 'ad platforms take identifiers into a list (upsert) or replace the list (mirror); they have no create-only or update-only call, and ad lists carry no attributes, so audience upsert is rejected',
  },
  marketing: {
    records: ['upsert', 'insert'],
    audiences: allAudienceModes,
    why: 'marketing tools create profiles on write and expose no deletes for synced profiles; audiences become lists',
  },
  analytics: {
    records: ['upsert', 'insert'],
    audiences: [],
    why: 'analytics tools append events and set properties; they have no update-only call, no deletes and no lists',
  },
  warehouse: {
    records: ['upsert', 'insert', 'update', 'mirror'],
    audiences: allAudienceModes,
    why: 'a warehouse table can do everything; audiences become membership tables',
  },
  storage: {
    records: ['insert', 'mirror'],
    audiences: [],
    why: 'insert writes a new object per run and mirror overwrites one fixed object; objects cannot be updated in place',
  },
  streaming: {
    records: ['insert'],
    audiences: [],
    why: 'a stream only appends messages',
  },
  other: {
    records: ['insert'],
    audiences: [],
    why: 'webhooks and messages are sent, never updated or taken back',
  },
};

/** What each mode does (semantics.md), for hovers, completion and the reviewer's diff. */
export const recordModeMeaning: Readonly<Record<RecordMode, string>> = {
  upsert: 'create or update records; never delete',
  insert: 'create records only, matching nothing: a row sent twice may become two records',
  update: 'update existing records only; never create',
  mirror: 'make the destination match the model: create, update and delete',
};

export const audienceModeMeaning: Readonly<Record<AudienceMode, string>> = {
  add: 'members who enter are added; members who leave stay',
  remove: 'members who leave are removed; new members are not added',
  mirror: 'the destination list is made to match the audience exactly: entering members added, leaving ones removed',
  upsert: "members who enter are added and existing members' attributes updated; leavers stay",
};
