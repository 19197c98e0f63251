/**
 * The lock-row statements of a plan (`SessionSql.lockRow`) beside their Postgres twins, which a
 * test writes for its engine's server: Postgres has advisory locks, so no plan holds these.
 */
import { fillSlots, type LockRowSql, type PlanLock } from '../../src/contract/plan.js';

/** Postgres text for each lock-row statement, `take` in the plan's order; $n is the nth value the statement binds. */
export interface LockRowTwin {
  create: string;
  take: { label: string; pg: string }[];
  renew: string;
  release: string;
}

/** [label, the plan's statement, its twin] for each statement, with the plan lock's table filled in both (`lock <name>`). */
export function lockRowPairs(row: LockRowSql, twin: LockRowTwin, lock: PlanLock, pgNames = lock): [string, string, string][] {
  if (row.take.length !== twin.take.length) throw new Error(`the twin has ${twin.take.length} take statements, the plan ${row.take.length}`);
  const fill = (s: string, l: PlanLock) => fillSlots(s, { schema: l.schema ?? '', table: l.table ?? '' });
  return [
    ['lock create', fill(row.create, lock), fill(twin.create, pgNames)],
    ...row.take.map((s, i): [string, string, string] => [`lock ${twin.take[i]?.label}`, fill(s.sql, lock), fill(twin.take[i]?.pg ?? '', pgNames)]),
    ['lock renew', fill(row.renew.sql, lock), fill(twin.renew, pgNames)],
    ['lock release', fill(row.release.sql, lock), fill(twin.release, pgNames)],
  ];
}
