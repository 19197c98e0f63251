/**
 * A warehouse target checked before its script runs, through the engine's catalog (Postgres's
 * pg_attribute; the INFORMATION_SCHEMA views of Snowflake and BigQuery): the table
 * exists, has every column the sync writes, each of a type that takes the value (the same
 * category of type: numbers, text, dates, booleans, ...; not a narrower one of it, which would
 * round the values, as each dialect's statement judges), and, where the sync inserts, no
 * NOT NULL column without a default is left out. Every problem is said at once, with the fix.
 */
import { fillSlots, type Plan, type SessionSql, type TargetValue } from '../../contract/plan.js';
import type { SqlRow, SqlSession } from './sql-session.js';

/** Modes that insert rows into the target. */
const inserting = new Set(['insert', 'upsert', 'mirror', 'add']);

type ColumnFound = SqlRow & {
  name: string;
  type: string;
  present: boolean;
  actual: string | null;
  fits: boolean;
  /** Of the type's category but holding less of it or otherwise (fewer decimals, a 4-byte float, a coarser time, a numeric for a float): values would be rounded, and found changed on every run. */
  narrower?: boolean;
};

/** What the target statements bind where the dialect does not say: Postgres's $1 table, $2 names, $3 types. */
const tableNamesTypes: NonNullable<SessionSql['targetBinds']> = { exists: ['table'], columns: ['table', 'names', 'types'], required: ['table', 'names'] };

/** Why the target cannot take the sync's rows, or undefined when it can; the statements are the plan's. */
export async function targetProblems(
  session: SqlSession,
  sql: Pick<SessionSql, 'targetExists' | 'targetColumns' | 'targetRequired' | 'targetBinds'>,
  plan: Plan,
): Promise<string | undefined> {
  const { target, columns, check } = plan.destination;
  const { targetExists, targetColumns, targetRequired } = sql;
  // No target statements: the script's own errors say what does not fit.
  if (!target || !columns || !check || !targetExists || !targetColumns || !targetRequired) return undefined;
  const binds = sql.targetBinds ?? tableNamesTypes;
  const values: Record<TargetValue, unknown> = {
    table: check.table,
    schema: check.schema ?? null,
    name: check.name ?? null,
    names: columns.map((c) => c.name),
    types: columns.map((c) => c.type),
    columns: JSON.stringify(columns.map(({ name, type }) => ({ name, type }))),
  };
  const run = <T extends SqlRow>(statement: string, bound: readonly TargetValue[]) =>
    session.query<T>(
      fillSlots(statement, { catalog: check.catalog ?? '' }),
      bound.map((v) => values[v]),
    );
  const shown = target.join('.');
  // A catalog read in the target's schema (BigQuery's dataset) finds it: the lock row's table was made there first.
  const [exists] = await run<{ ok: boolean }>(targetExists, binds.exists);
  if (!exists?.ok) {
    return `sync ${plan.sync.name}: the target table ${shown} does not exist on ${session.location}; create it first, for example: ${check.create}`;
  }
  const found = await run<ColumnFound>(targetColumns, binds.columns);
  const problems: string[] = [];
  for (const f of found) {
    const c = columns.find((x) => x.name === f.name);
    const origin = c?.from ? ` (from the model's column ${c.from})` : '';
    if (!f.present) problems.push(`it has no column ${f.name}${origin}: ${check.addColumn[f.name] ?? 'add it'}`);
    else if (!f.fits) problems.push(`its column ${f.name} is ${f.actual}, but the sync writes ${f.type}${origin}: change the column's type (or the model's)`);
    else if (f.narrower)
      problems.push(
        `its column ${f.name} is ${f.actual}, narrower than the ${f.type} the sync writes${origin}: it would round the values, and every run would find them changed and write them again; give the column the type the sync writes (or change the model's)`,
      );
  }
  if (inserting.has(plan.sync.mode)) {
    const left = await run<{ name: string }>(targetRequired, binds.required);
    for (const { name } of left)
      problems.push(`its column ${name} is NOT NULL without a default, and the sync does not write it: map a model column to it, or give it a default`);
  }
  return problems.length
    ? `sync ${plan.sync.name}: the target table ${shown} on ${session.location} cannot take the sync's rows; nothing was run: ${problems.join('; ')}`
    : undefined;
}
