/** Plan steps of syncs into warehouse destinations. */

/** Run one SQL file, in one session, on the source or the destination warehouse. */
export interface SqlStep {
  kind: 'sql';
  /** File name relative to plan.json. */
  file: string;
  on: 'source' | 'destination';
  description: string;
}

export type WarehouseStep = SqlStep;
