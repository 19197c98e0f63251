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

/** Rows per INSERT: 2 parameters each, far below the protocol's 65,535. */
const chunk = 1000;

/**
 * The plan's one-row INSERT (`... VALUES ($1, $2)`) as a many-row INSERT for `n` rows, or
 * undefined when the statement is not of that shape (it is then run once per row).
 */
export function manyRowInsert(statement: string, n: number): string | undefined {
  const m = /^([\s\S]*\bVALUES\s*)\(\s*\$1\s*,\s*\$2\s*\)\s*;?\s*$/i.exec(statement);
  if (!m) return undefined;
  const tuples = Array.from({ length: n }, (_, i) => `($${2 * i + 1}, $${2 * i + 2})`);
  return `${m[1]}${tuples.join(', ')}`;
}

export class Ledger {
  total = 0;

  constructor(
    private readonly session: SqlSession,
    private readonly insert: CommitStep['acceptedInsert'],
  ) {}

  async record(rows: readonly Accepted[]): Promise<void> {
    const keyed = rows.filter((r) => r.key !== null);
    for (let i = 0; i < keyed.length; i += chunk) {
      const part = keyed.slice(i, i + chunk);
      const params = part.flatMap((r) => this.insert.parameters.map((p) => (p === 'row_key' ? r.key : r.destination_id)));
      const many = manyRowInsert(this.insert.statement, part.length);
      if (many) await this.session.query(many, params);
      else for (let j = 0; j < part.length; j++) await this.session.query(this.insert.statement, params.slice(2 * j, 2 * j + 2));
    }
    this.total += keyed.length;
  }
}
