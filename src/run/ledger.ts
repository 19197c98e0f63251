/**
 * The accepted rows, written to the plan's accepted table as they are accepted (each write
 * commits on its own), so that a run killed midway has recorded everything the destination
 * took; commit.sql then moves them into the snapshot. Where the plan says so
 * (`CommitStep.writeAhead`), the table is also the write-ahead record of requests: the rows of
 * a request before it leaves (`sent`), and those the destination surely did not apply
 * (`refused`), so that commit.sql knows which rows were sent without an answer.
 */
import { refusedChange, sentChange, type CommitStep } from '../contract/api-steps.js';
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
    private readonly commit: Pick<CommitStep, 'acceptedInsert' | 'writeAhead'>,
    private readonly held: (next: string) => Promise<void> = () => Promise.resolve(),
  ) {}

  async record(rows: readonly Accepted[]): Promise<void> {
    await this.held('recording accepted rows');
    // Awaited first: `total += await` would read the total before the insert, and concurrent records would lose counts.
    const n = await this.insert(rows);
    this.total += n;
  }

  /**
   * Rows about to be sent, recorded before their request leaves: the write-ahead record (nothing
   * where the plan keeps none), with the destination id each has, which commit.sql keeps where
   * no accepted row brings one.
   */
  sent(rows: readonly { key: string | null; destination_id?: string | null }[]): Promise<void> {
    return this.note(sentChange, rows, 'recording rows about to be sent');
  }

  /** Sent rows the destination surely did not apply: their record is settled, and their snapshot row stays as it was. */
  refused(rows: readonly { key: string | null }[]): Promise<void> {
    return this.note(
      refusedChange,
      rows.map((r) => ({ key: r.key })),
      'recording refused rows',
    );
  }

  /** A write-ahead entry of each row: its key, the change `sent` or `refused`, and the destination id it has. */
  private async note(change: string, rows: readonly { key: string | null; destination_id?: string | null }[], doing: string): Promise<void> {
    if (!this.commit.writeAhead || !rows.length) return;
    await this.held(doing);
    await this.insert(rows.map((r) => ({ key: r.key, change, payload_hash: null, destination_id: r.destination_id ?? null })));
  }

  /** Inserts the keyed rows; returns how many. */
  private async insert(rows: readonly Accepted[]): Promise<number> {
    const keyed = rows.filter((r) => r.key !== null);
    await insertRows(this.session, this.commit.acceptedInsert, keyed, (r, p) => (p === 'row_key' ? r.key : r[p]));
    return keyed.length;
  }
}

/**
 * Inserts `rows` by a plan's insert: many in one statement where the plan has one (`rows`, each
 * parameter bound as an array: a few array parameters bind four times faster than thousands of
 * scalar ones on the embedded database), else a statement per row; `chunk` rows at a time,
 * `before` awaited before each chunk. `value` is a row's value of a parameter.
 */
export async function insertRows<R, P extends string>(
  session: Pick<SqlSession, 'query'>,
  insert: { statement: string; rows?: string; parameters: readonly P[] },
  rows: readonly R[],
  value: (row: R, parameter: P) => unknown,
  before: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    const part = rows.slice(i, i + chunk);
    await before();
    if (insert.rows)
      await session.query(
        insert.rows,
        insert.parameters.map((p) => part.map((r) => value(r, p))),
      );
    else
      for (const r of part)
        await session.query(
          insert.statement,
          insert.parameters.map((p) => value(r, p)),
        );
  }
}
