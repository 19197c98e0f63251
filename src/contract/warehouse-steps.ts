/** Plan steps of syncs into warehouse destinations. */

/** Run one SQL file, in one session, on the source or the destination warehouse. */
export interface SqlStep {
  kind: 'sql';
  /** File name relative to plan.json. */
  file: string;
  on: 'source' | 'destination';
  description: string;
}

/**
 * Copy the rows that the `from` step's SELECT returned into a temporary table of the
 * destination, in the session that then runs the next SQL step (which reads the table).
 */
export interface LoadStep {
  kind: 'load';
  on: 'destination';
  /** The SQL step whose result is loaded. */
  from: string;
  /** The table to create and fill, unquoted: temporary, or where `drop` is given, a table of the target's schema (schema.name). */
  table: string;
  /** Columns in the order of the result set, with the destination dialect's type names. */
  columns: { name: string; type: string }[];
  /** Rows per insert. */
  batch: number;
  description: string;
  /** Creates the temporary table (where the destination's dialect has a session record, as `insert`). */
  create?: string;
  /** Inserts a batch: $1, $2, ... bound to arrays of each column's values, in order. */
  insert?: string;
  /**
   * Where the destination bounds one request's size (BigQuery: 10 MB with its parameters): the
   * most bytes a batch's values may take, each counted as its JSON text in a JSON string, as the
   * request carries it. The executor splits a batch before it passes this.
   */
  maxBytes?: number;
  /**
   * Where the load table outlives the session (the destination's requests are sessions of
   * their own: Snowflake): drops it, run at the end of the run, whether it failed or not. A
   * crashed run's table is replaced by the next run's `create`.
   */
  drop?: string;
}

export type WarehouseStep = SqlStep | LoadStep;

/** A column of a warehouse sync's target that its script writes. */
export interface TargetColumn {
  /** As the warehouse stores it. */
  name: string;
  /** The destination dialect's type of the value written. */
  type: string;
  /** The model column it comes from (as written in the .sync file); null for the audience name of a membership table. */
  from: string | null;
}
