/**
 * The accepted rows, written to the plan's accepted table as they are accepted (each write
 * commits on its own), so that a run killed midway has recorded everything the destination
 * took; commit.sql then moves them into the snapshot.
 */
import type { CommitStep } from '../plan/api-steps.js';
import type { SqlSession } from './sql-session.js';

export interface Accepted {
  key: string | null;
  destination_id: string | null;
}

/** Rows per INSERT. */
const chunk = 5000;

/**
 * The plan's one-row INSERT (`INSERT INTO t (a, b) VALUES ($1, $2)`) as one INSERT of many
 * rows, each parameter bound to an array (both values are text: a row key and a record id),
 * or undefined when the statement is not of that shape (it is then run once per row). Two
 * array parameters bind four times faster than 2,000 scalar ones on the embedded database.
 */
export function manyRowInsert(statement: string): string | undefined {
  const m = /^([\s\S]*?)\bVALUES\s*\(\s*\$1\s*,\s*\$2\s*\)\s*;?\s*$/i.exec(statement);
  return m ? `${m[1]}SELECT * FROM unnest($1::text[], $2::text[])` : undefined;
}

export class Ledger {
  total = 0;
  private readonly many: string | undefined;

  constructor(
    private readonly session: SqlSession,
    private readonly insert: CommitStep['acceptedInsert'],
  ) {
    this.many = manyRowInsert(insert.statement);
  }

  async record(rows: readonly Accepted[]): Promise<void> {
    const keyed = rows.filter((r) => r.key !== null);
    const value = (r: Accepted, p: 'row_key' | 'destination_id') => (p === 'row_key' ? r.key : r.destination_id);
    for (let i = 0; i < keyed.length; i += chunk) {
      const part = keyed.slice(i, i + chunk);
      if (this.many) await this.session.query(this.many, this.insert.parameters.map((p) => part.map((r) => value(r, p))));
      else for (const r of part) await this.session.query(this.insert.statement, this.insert.parameters.map((p) => value(r, p)));
    }
    this.total += keyed.length;
  }
}
