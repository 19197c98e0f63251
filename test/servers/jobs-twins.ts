/**
 * The jobs step's statements (`JobsSql`: how the jobs of earlier runs ended) of a Snowflake or
 * BigQuery plan, each with its twin of the Postgres plan of the same sync, for the local
 * servers that run only the statements they were given.
 */
import type { JobsSql } from '../../src/contract/api-steps.js';

export function jobsTwins(sql: JobsSql, pg: JobsSql): [string, string, string][] {
  const pairs: [string, string, string][] = [
    ['jobs pending', sql.pending, pg.pending],
    ['jobs insert', sql.insert.statement, pg.insert.statement],
    ['jobs forget', sql.forget, pg.forget],
    ['jobs failed', sql.failed, pg.failed],
  ];
  if (sql.insert.rows && pg.insert.rows) pairs.push(['jobs rows', sql.insert.rows, pg.insert.rows]);
  return pairs;
}
