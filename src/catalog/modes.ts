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
