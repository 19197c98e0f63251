/** What the planner takes besides the checked project. */
export interface PlanOptions {
  /** Postgres major version to generate for, over the `version` setting of sources and destinations. */
  postgresVersion?: number;
}
