/**
 * A warehouse target checked before its script runs (Postgres, through its catalog): the table
 * exists, has every column the sync writes, each of a type that takes the value (the same
 * category of type: numbers, text, dates, booleans, ...), and, where the sync inserts, no
 * NOT NULL column without a default is left out. Every problem is said at once, with the fix.
 */
import type { Plan, SessionSql } from '../../contract/plan.js';
import type { SqlSession } from './sql-session.js';

/** Modes that insert rows into the target. */
const inserting = new Set(['insert', 'upsert', 'mirror', 'add']);

type ColumnFound = {
  name: string;
  type: string;
  present: boolean;
  actual: string | null;
  fits: boolean;
};

/** Why the target cannot take the sync's rows, or undefined when it can; the statements are the plan's. */
export async function targetProblems(session: SqlSession, sql: Pick<SessionSql, 'targetExists' | 'targetColumns' | 'targetRequired'>, plan: Plan): Promise<string | undefined> {
  const { target, columns, check } = plan.destination;
  if (!target || !columns || !check) return undefined;
  // Statements absent: the dialect's target is not checked (its script's own errors name the table).
  if (sql.targetExists === undefined || sql.targetColumns === undefined || sql.targetRequired === undefined) return undefined;
  const { table } = check;
  const shown = target.join('.');
  const [exists] = await session.query<{ ok: boolean }>(sql.targetExists, [table]);
  if (!exists?.ok) {
    return `sync ${plan.sync.name}: the target table ${shown} does not exist on ${session.location}; create it first, for example: ${check.create}`;
  }
  const found = await session.query<ColumnFound>(sql.targetColumns, [table, columns.map((c) => c.name), columns.map((c) => c.type)]);
  const problems: string[] = [];
  for (const f of found) {
    const c = columns.find((x) => x.name === f.name);
    const origin = c?.from ? ` (from the model's column ${c.from})` : '';
    if (!f.present) problems.push(`it has no column ${f.name}${origin}: ${check.addColumn[f.name] ?? 'add it'}`);
    else if (!f.fits) problems.push(`its column ${f.name} is ${f.actual}, but the sync writes ${f.type}${origin}: change the column's type (or the model's)`);
  }
  if (inserting.has(plan.sync.mode)) {
    const left = await session.query<{ name: string }>(sql.targetRequired, [table, columns.map((c) => c.name)]);
    for (const { name } of left) problems.push(`its column ${name} is NOT NULL without a default, and the sync does not write it: map a model column to it, or give it a default`);
  }
  return problems.length ? `sync ${plan.sync.name}: the target table ${shown} on ${session.location} cannot take the sync's rows; nothing was run: ${problems.join('; ')}` : undefined;
}
