/**
 * The accepted rows, written to the plan's accepted table as they are accepted (each write
 * commits on its own), so that a run killed midway has recorded everything the destination
 * took; commit.sql then moves them into the snapshot.
 */
import type { CommitStep } from '../contract/api-steps.js';
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

export class Ledger {
  total = 0;

  /** `held`: throws where the run no longer holds the sync's lock, since another run may be filling the table then (`HeldLock.check`). */
  constructor(
    private readonly session: Pick<SqlSession, 'query'>,
    private readonly insert: CommitStep['acceptedInsert'],
    private readonly held: (next: string) => Promise<void> = () => Promise.resolve(),
  ) {}

  async record(rows: readonly Accepted[]): Promise<void> {
    await this.held('recording accepted rows');
    const keyed = rows.filter((r) => r.key !== null);
    const value = (r: Accepted, p: CommitStep['acceptedInsert']['parameters'][number]) => (p === 'row_key' ? r.key : r[p]);
    for (let i = 0; i < keyed.length; i += chunk) {
      const part = keyed.slice(i, i + chunk);
      // Many rows in one statement where the plan has it: a few array parameters bind four times faster than thousands of scalar ones on the embedded database.
      if (this.insert.rows)
        await this.session.query(
          this.insert.rows,
          this.insert.parameters.map((p) => part.map((r) => value(r, p))),
        );
      else
        for (const r of part)
          await this.session.query(
            this.insert.statement,
            this.insert.parameters.map((p) => value(r, p)),
          );
    }
    this.total += keyed.length;
  }
}
