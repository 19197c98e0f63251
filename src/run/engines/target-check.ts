/**
 * A warehouse target checked before its script runs (Postgres, through its catalog): the table
 * exists, has every column the sync writes, each of a type that takes the value (the same
 * category of type: numbers, text, dates, booleans, ...), and, where the sync inserts, no
 * NOT NULL column without a default is left out. Every problem is said at once, with the fix.
 */
import type { Plan } from '../../plan/plan.js';
import { quoteIdent, type SqlSession } from './sql-session.js';

/** Modes that insert rows into the target. */
const inserting = new Set(['insert', 'upsert', 'mirror', 'add']);

type ColumnFound = {
  name: string;
  type: string;
  present: boolean;
  actual: string | null;
  fits: boolean;
};

/** Why the target cannot take the sync's rows, or undefined when it can. */
export async function targetProblems(session: SqlSession, plan: Plan): Promise<string | undefined> {
  const { target, columns } = plan.destination;
  if (!target || !columns) return undefined;
  const table = target.map(quoteIdent).join('.');
  const shown = target.join('.');
  const [exists] = await session.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  if (!exists?.ok) {
    const create = `CREATE TABLE ${table} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`;
    return `sync ${plan.sync.name}: the target table ${shown} does not exist on ${session.location}; create it first, for example: ${create}`;
  }
  const found = await session.query<ColumnFound>(
    `SELECT e.name, e.type, a.attname IS NOT NULL AS present, format_type(a.atttypid, a.atttypmod) AS actual,
            COALESCE(ta.typcategory = te.typcategory, false) AS fits
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(name, type, n)
       LEFT JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attname = e.name AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_type ta ON ta.oid = a.atttypid
       LEFT JOIN pg_type te ON te.oid = to_regtype(e.type)
      ORDER BY e.n`,
    [table, columns.map((c) => c.name), columns.map((c) => c.type)],
  );
  const problems: string[] = [];
  for (const f of found) {
    const c = columns.find((x) => x.name === f.name);
    const origin = c?.from ? ` (from the model's column ${c.from})` : '';
    if (!f.present) problems.push(`it has no column ${f.name}${origin}: ALTER TABLE ${table} ADD COLUMN ${quoteIdent(f.name)} ${f.type}`);
    else if (!f.fits) problems.push(`its column ${f.name} is ${f.actual}, but the sync writes ${f.type}${origin}: change the column's type (or the model's)`);
  }
  if (inserting.has(plan.sync.mode)) {
    const left = await session.query<{ name: string }>(
      `SELECT attname AS name FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attnotnull AND NOT atthasdef
          AND attidentity = '' AND attgenerated = '' AND NOT (attname = ANY($2::text[]))
        ORDER BY attnum`,
      [table, columns.map((c) => c.name)],
    );
    for (const { name } of left) problems.push(`its column ${name} is NOT NULL without a default, and the sync does not write it: map a model column to it, or give it a default`);
  }
  return problems.length ? `sync ${plan.sync.name}: the target table ${shown} on ${session.location} cannot take the sync's rows; nothing was run: ${problems.join('; ')}` : undefined;
}
