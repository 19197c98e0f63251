/**
 * The abstract syntax tree of a `.sync` file. Every node carries the span it was read from.
 * Items of models and syncs stay in source order (the formatter prints them back in that
 * order); the checker, not the parser, decides what a repeated or missing item means.
 *
 * A file with syntax errors has a tree too, built from what the parser recovered:
 * - where text is missing (`mode` with no mode, `ltv >=` with nothing after it) stands a
 *   placeholder marked `missing`, empty, with no width, right after the text before it;
 *   checks that meet one stay quiet, as its syntax error says what is wrong;
 * - a definition in which the parser skipped text to recover, or may have read some as
 *   something else, is marked `partial`: its tree may not say what its text says, so it is
 *   indexed but not checked.
 */
import type { Span } from '../span.js';

/** A bare name (folded by the warehouse's rule) or a quoted exact one (never folded). */
export interface Ident {
  text: string;
  quoted: boolean;
  span: Span;
  missing?: true;
  /** A part of a table path given as `env("X")` (text: the placeholder `{{env:X}}`): X names it where the sync runs. */
  env?: StringLit;
}

/** `a.b.c`: each part a bare or quoted name. */
export interface Path {
  parts: Ident[];
  span: Span;
}

export interface StringLit {
  kind: 'string';
  value: string;
  /** The text as written, quotes included, so the formatter never re-escapes. */
  raw: string;
  span: Span;
  missing?: true;
}

export interface NumberLit {
  kind: 'number';
  value: number;
  raw: string;
  span: Span;
  missing?: true;
}

export interface BoolLit {
  kind: 'bool';
  value: boolean;
  span: Span;
}

export interface EnvRef {
  kind: 'env';
  variable: StringLit;
  span: Span;
}

export interface PathValue {
  kind: 'path';
  path: Path;
  span: Span;
}

export type SettingValue = StringLit | NumberLit | BoolLit | EnvRef | PathValue;

export interface Setting {
  name: Ident;
  value: SettingValue;
  span: Span;
}

export interface SourceDef {
  kind: 'source';
  name: Ident;
  dialect: Ident;
  settings: Setting[];
  span: Span;
  partial?: true;
}

export interface DestinationDef {
  kind: 'destination';
  name: Ident;
  type: Ident;
  settings: Setting[];
  span: Span;
  partial?: true;
}

export interface TypeRef {
  name: string;
  precision?: NumberLit;
  scale?: NumberLit;
  span: Span;
  missing?: true;
}

export interface ColumnDef {
  name: Ident;
  type: TypeRef;
  nullable: boolean;
  span: Span;
}

export interface OrderKey {
  column: Ident;
  direction?: 'asc' | 'desc';
  span: Span;
}

export type ModelItem =
  | { kind: 'from'; name: Ident; span: Span }
  | { kind: 'table'; path: Path; span: Span }
  | { kind: 'sql'; query: StringLit; span: Span }
  /** `dbt dim_users`: the dbt model (by name) whose relation and columns the model takes. */
  | { kind: 'dbt'; model: Ident; span: Span }
  | { kind: 'primaryKey'; column: Ident; span: Span }
  | { kind: 'orderBy'; keys: OrderKey[]; span: Span }
  | { kind: 'columns'; columns: ColumnDef[]; span: Span };

export interface ModelDef {
  kind: 'model';
  name: Ident;
  items: ModelItem[];
  span: Span;
  partial?: true;
}

export type LiteralType = 'string' | 'number' | 'bool' | 'null' | 'date' | 'timestamp';

export interface Literal {
  kind: 'literal';
  type: LiteralType;
  /** string for string/date/timestamp, number, boolean, or null. */
  value: string | number | boolean | null;
  raw: string;
  span: Span;
  missing?: true;
}

export interface ColumnRef {
  kind: 'column';
  name: Ident;
  span: Span;
}

export type Operand = ColumnRef | Literal;

export type CompareOp = '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=';

export type Expr =
  | { kind: 'logical'; op: 'and' | 'or'; left: Expr; right: Expr; span: Span }
  | { kind: 'not'; expr: Expr; span: Span }
  | { kind: 'paren'; expr: Expr; span: Span }
  | { kind: 'compare'; op: CompareOp; left: Operand; right: Operand; span: Span }
  | { kind: 'in'; negated: boolean; operand: Operand; list: Literal[]; span: Span }
  | { kind: 'isNull'; negated: boolean; operand: Operand; span: Span }
  | { kind: 'like'; negated: boolean; operand: Operand; pattern: StringLit; span: Span }
  | { kind: 'between'; operand: Operand; low: Operand; high: Operand; span: Span }
  | Operand;

export interface AudienceDef {
  kind: 'audience';
  name: Ident;
  items: AudienceItem[];
  span: Span;
  partial?: true;
}

export type AudienceItem = { kind: 'from'; name: Ident; span: Span } | { kind: 'where'; expr: Expr; span: Span };

/** A destination field: a bare name or a string (for names with spaces or dots). */
export interface Field {
  text: string;
  quoted: boolean;
  raw: string;
  span: Span;
  missing?: true;
}

export interface FieldMapping {
  column: Ident;
  field?: Field;
  hashed: boolean;
  span: Span;
}

export type TargetRef = { kind: 'path'; path: Path; span: Span } | { kind: 'string'; value: StringLit; span: Span };

export type SyncItem =
  | { kind: 'from'; name: Ident; span: Span }
  | { kind: 'to'; destination: Ident; objectKind?: Ident; ref?: TargetRef; span: Span }
  | { kind: 'mode'; mode: Ident; span: Span }
  | { kind: 'identifier'; mapping: FieldMapping; span: Span }
  | { kind: 'map'; mappings: FieldMapping[]; span: Span }
  | { kind: 'batch'; size: NumberLit; span: Span }
  | { kind: 'guardDeletes'; limit: NumberLit; percent: boolean; span: Span }
  | { kind: 'guardAllowEmpty'; span: Span }
  | { kind: 'schedule'; cron: StringLit; span: Span }
  | { kind: 'message'; template: StringLit; span: Span }
  | { kind: 'format'; format: Ident; span: Span };

export interface SyncDef {
  kind: 'sync';
  name: Ident;
  items: SyncItem[];
  span: Span;
  partial?: true;
}

export type Definition = SourceDef | DestinationDef | ModelDef | AudienceDef | SyncDef;

export interface Comment {
  text: string;
  span: Span;
}

export interface SyncFile {
  file: string;
  definitions: Definition[];
  comments: Comment[];
  span: Span;
}
