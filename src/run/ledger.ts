/**
 * The accepted rows, written to the plan's accepted table as they are accepted (each write
 * commits on its own), so that a run killed midway has recorded everything the destination
 * took; commit.sql then moves them into the snapshot.
 */
import type { CommitStep } from '../plan/api-steps.js';
import type { SqlSession } from './engines/sql-session.js';

/** What the accepted table keeps of a row: enough for commit.sql to record it without the change set. */
export interface Accepted {
  key: string | null;
  change: string;
  payload_hash: string | null;
  destination_id: string | null;
}

/** Rows per INSERT. */
const chunk = 5000;

/**
 * The plan's one-row INSERT (`INSERT INTO t (a, b, ...) VALUES ($1, $2, ...)`, `count`
 * parameters) as one INSERT of many rows, each parameter bound to an array (every value is
 * text), or undefined when the statement is not of that shape (it is then run once per row).
 * A few array parameters bind four times faster than thousands of scalar ones on the embedded
 * database.
 */
export function manyRowInsert(statement: string, count: number): string | undefined {
  const placeholders = Array.from({ length: count }, (_, i) => `\\$${i + 1}`).join('\\s*,\\s*');
  const m = new RegExp(`^([\\s\\S]*?)\\bVALUES\\s*\\(\\s*${placeholders}\\s*\\)\\s*;?\\s*$`, 'i').exec(statement);
  const arrays = Array.from({ length: count }, (_, i) => `$${i + 1}::text[]`).join(', ');
  return m ? `${m[1]}SELECT * FROM unnest(${arrays})` : undefined;
}

export class Ledger {
  total = 0;
  private readonly many: string | undefined;

  constructor(
    private readonly session: Pick<SqlSession, 'query'>,
    private readonly insert: CommitStep['acceptedInsert'],
  ) {
    this.many = manyRowInsert(insert.statement, insert.parameters.length);
  }

  async record(rows: readonly Accepted[]): Promise<void> {
    const keyed = rows.filter((r) => r.key !== null);
    const value = (r: Accepted, p: CommitStep['acceptedInsert']['parameters'][number]) => (p === 'row_key' ? r.key : r[p]);
    for (let i = 0; i < keyed.length; i += chunk) {
      const part = keyed.slice(i, i + chunk);
      if (this.many) await this.session.query(this.many, this.insert.parameters.map((p) => part.map((r) => value(r, p))));
      else for (const r of part) await this.session.query(this.insert.statement, this.insert.parameters.map((p) => value(r, p)));
    }
    this.total += keyed.length;
  }
}
