/**
 * The checked model: what the checker hands to the planner. Names are resolved, items are
 * single-valued, and every value has the span it came from so later stages can still point
 * at the source. Identifiers keep whether they were quoted; case folding is the dialect's job.
 */
import type { Span } from '../span.js';
import type { Expr, Ident } from '../syntax/ast.js';
import type { AudienceMode, Category, ColumnType, RecordMode } from '../catalog/types.js';

export type { Dialect } from '../contract/dialect-names.js';
export type { ResolvedValue } from '../contract/plan.js';
import type { Dialect } from '../contract/dialect-names.js';
import type { ResolvedValue } from '../contract/plan.js';

export interface CheckedSource {
  name: string;
  dialect: Dialect;
  settings: Record<string, ResolvedValue>;
  /** Where its tables written without a schema are (its `schema` or `dataset` setting). */
  schema?: Ident;
  span: Span;
}

export interface CheckedColumn {
  name: Ident;
  type: ColumnType;
  precision?: number;
  scale?: number;
  nullable: boolean;
}

/** A model read from dbt: its node, and the columns dbt tests `unique` and `not_null`. */
export interface DbtLink {
  uniqueId: string;
  name: string;
  unique: string[];
  notNull: string[];
}

export interface CheckedModel {
  name: string;
  source: CheckedSource;
  relation: { kind: 'table'; path: Ident[] } | { kind: 'sql'; query: string };
  primaryKey?: Ident;
  orderBy: { column: Ident; descending: boolean }[];
  columns: CheckedColumn[];
  /** Set when the relation and columns come from dbt (`dbt name`). */
  dbt?: DbtLink;
  span: Span;
}

export interface CheckedAudience {
  name: string;
  model: CheckedModel;
  where: Expr;
  span: Span;
}

export interface CheckedDestination {
  name: string;
  type: string;
  category: Category;
  settings: Record<string, ResolvedValue>;
  /** A warehouse's schema for target tables written without one (its `schema` or `dataset` setting). */
  schema?: Ident;
  /** Set when the destination is a declared source: write-back into a warehouse the project reads (the same one when it is the model's source). */
  source?: CheckedSource;
  span: Span;
}

export interface FieldMap {
  column: CheckedColumn;
  /** The destination field; for a warehouse, a column name (bare or exact). */
  field: Ident;
  hashed: boolean;
}

export interface CheckedSync {
  name: string;
  file: string;
  line: number;
  span: Span;
  kind: 'record' | 'audience';
  mode: RecordMode | AudienceMode;
  model: CheckedModel;
  audience?: CheckedAudience;
  destination: CheckedDestination;
  objectKind?: string;
  /** `crm.users` as parts, or `"Whales"` as one exact part. */
  target?: Ident[];
  identifier?: FieldMap;
  /** Mapped fields other than the identifier, in source order. */
  fields: FieldMap[];
  batch?: number;
  guard: { maxDeletes?: { value: number; percent: boolean }; allowEmpty: boolean };
  schedule?: string;
  message?: string;
  format?: string;
}

export interface CheckedProject {
  sources: CheckedSource[];
  destinations: CheckedDestination[];
  models: CheckedModel[];
  audiences: CheckedAudience[];
  syncs: CheckedSync[];
}
