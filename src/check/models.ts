/** Models: their source, relation, columns, key and order. */
import type { Ident, ModelDef, NumberLit, StringLit } from '../syntax/ast.js';
import { writtenWhole } from '../numbers.js';
import type { Span } from '../span.js';
import { readQuery } from '../dialect/sql-text.js';
import { columnTypes, type ColumnType } from '../catalog/types.js';
import type { CheckedColumn, CheckedModel, CheckedSource, Dialect } from './model.js';
import { Reporter, single } from './report.js';
import { nameHints } from '../diagnostics/suggest.js';
import { replaceWith } from '../diagnostics/diagnostic.js';
import { getDialect, nameKey } from '../dialect/index.js';
import { findColumn, unknownColumn } from './expr.js';
import { checkName, inSchema, slotProblem } from './names.js';
import type { DbtProject } from './dbt/artifacts.js';
import { resolveDbtModel, type ResolvedDbtModel } from './dbt/resolve.js';

/**
 * The dbt project a source's `dbt_project` names, read once: the project, or why it cannot be
 * read (no such setting, no manifest, an unsupported manifest version).
 */
export type DbtProjects = (source: CheckedSource) => DbtProject | { problem: string; hint: string };

/** `broken`: names defined with errors of their own, which are not reported again as unknown. */
export function checkModel(
  def: ModelDef,
  sources: ReadonlyMap<string, CheckedSource>,
  broken: ReadonlySet<string>,
  r: Reporter,
  dbtProjects?: DbtProjects,
): CheckedModel | undefined {
  const owner = { kind: 'model', name: def.name.text };
  const from = single(def.items, 'from', 'from', owner, r);
  const table = single(def.items, 'table', 'table', owner, r);
  const sql = single(def.items, 'sql', 'sql', owner, r);
  const key = single(def.items, 'primaryKey', 'primary key', owner, r);
  const order = single(def.items, 'orderBy', 'order by', owner, r);
  const cols = single(def.items, 'columns', 'columns', owner, r);
  const dbt = single(def.items, 'dbt', 'dbt', owner, r);

  let source: CheckedSource | undefined;
  if (!from) {
    r.report('missing-item', def.name.span, { ...owner, item: 'from' }, ['name the warehouse it reads: `from warehouse`']);
  } else if (!from.name.missing) {
    source = sources.get(from.name.text);
    if (!source && !broken.has(from.name.text))
      r.report('unknown-reference', from.name.span, { kind: 'source', name: from.name.text }, nameHints(from.name, [...sources.keys()], 'sources'));
  }
  if (!table && !sql && !dbt) {
    r.report('missing-item', def.name.span, { ...owner, item: 'table' }, ['give `table schema.name`, `sql """ select ... """` or `dbt model_name`']);
  }
  const other = dbt && (table ?? sql);
  if (other) {
    r.report(
      'conflicting-items',
      dbt.span,
      { detail: `model \`${def.name.text}\` has both \`dbt\` and \`${other.kind}\`` },
      {
        hints: ['keep one: a dbt model gives its own relation'],
        related: [{ message: `the \`${other.kind}\` is here`, span: other.span }],
      },
    );
  }
  if (table && sql) {
    r.report(
      'conflicting-items',
      sql.span,
      { detail: `model \`${def.name.text}\` has both \`table\` and \`sql\`` },
      {
        hints: ['keep one: a model reads a table or a query'],
        related: [{ message: 'the `table` is here', span: table.span }],
      },
    );
  }
  if (!cols && !dbt) {
    r.report('missing-item', def.name.span, { ...owner, item: 'columns' }, ['declare the columns the syncs may use: `columns { id bigint  email string? }`']);
  }
  const columns = checkColumns(cols?.columns ?? [], source, r);
  if (!source) return undefined;
  for (const part of table?.path.parts ?? []) if (!part.missing) checkName(source.dialect, 'table', part, r);
  if (sql && !table && !sql.query.missing) checkQuery(def.name.text, sql.query, source.dialect, r);
  // A column whose name or type is missing leaves the columns unknown: syncs are not checked against them.
  if (cols?.columns.some((c) => c.name.missing || c.type.missing)) return undefined;

  let fromDbt: ResolvedDbtModel | undefined;
  if (dbt && !other) {
    if (dbt.model.missing) return undefined;
    const project = dbtProjects?.(source) ?? { problem: 'no dbt projects are read here', hint: 'check the project with the syncwright CLI' };
    if ('problem' in project) {
      r.report('dbt-artifacts', dbt.model.span, { model: dbt.model.text, problem: project.problem }, [project.hint]);
      return undefined;
    }
    fromDbt = resolveDbtModel(dbt.model, dbt.span, def.name.text, source, project, cols ? columns : undefined, r);
    if (!fromDbt) return undefined;
  }

  const model: CheckedModel = {
    name: def.name.text,
    source,
    relation: fromDbt
      ? { kind: 'table', path: fromDbt.path }
      : table
        ? { kind: 'table', path: inSchema(table.path.parts, source.schema) }
        : { kind: 'sql', query: sql?.query.value ?? '' },
    orderBy: [],
    columns: fromDbt ? fromDbt.columns : columns,
    ...(fromDbt ? { dbt: fromDbt.dbt } : {}),
    span: def.span,
  };
  if (key && !key.column.missing) {
    if (findColumn(model, key.column)) model.primaryKey = key.column;
    else unknownColumn(model, key.column, r);
  }
  for (const k of order?.keys ?? []) {
    if (k.column.missing) continue;
    if (findColumn(model, k.column)) model.orderBy.push({ column: k.column, descending: k.direction === 'desc' });
    else unknownColumn(model, k.column, r);
  }
  return model;
}

/** The query goes into the compiled SQL between parentheses: one whole query, every string and comment closed. */
function checkQuery(model: string, query: StringLit, dialect: Dialect, r: Reporter): void {
  const slot = slotProblem(query.value);
  const read = slot ? { problem: slot.why, index: slot.index } : readQuery(getDialect(dialect), query.value);
  if (!('problem' in read)) return;
  const hint = read.problem.startsWith('a `;`')
    ? 'a model reads one query: keep the others in the warehouse (a view) and select from it'
    : 'the query is compiled into SQL as written: check it runs on its own in the warehouse';
  r.report('invalid-model-sql', spanIn(query, read.index), { model, problem: read.problem }, [hint]);
}

/** The place of one character of a string's value; the whole string unless it is triple-quoted (no escapes, so the value is the text). */
function spanIn(s: StringLit, index: number): Span {
  if (index < 0 || !s.raw.startsWith('"""')) return s.span;
  const before = s.raw.slice(0, 3 + index);
  const lines = before.split('\n');
  const line = s.span.line + lines.length - 1;
  const column = lines.length === 1 ? s.span.column + before.length : lines.at(-1)!.length + 1;
  const offset = s.span.offset + before.length;
  return { file: s.span.file, line, column, offset, endLine: line, endColumn: column + 1, endOffset: offset + 1 };
}

function checkColumns(
  defs: NonNullable<Extract<ModelDef['items'][number], { kind: 'columns' }>>['columns'],
  source: CheckedSource | undefined,
  r: Reporter,
): CheckedColumn[] {
  const seen = new Map<string, Ident>();
  const columns: CheckedColumn[] = [];
  for (const c of defs) {
    if (c.name.missing || c.type.missing) continue;
    const key = source ? nameKey(source.dialect, c.name) : c.name.text;
    const first = seen.get(key);
    if (first) {
      const why =
        first.text === c.name.text || !source
          ? 'keep one of them'
          : `\`${c.name.text}\` and \`${first.text}\` are one name: ${getDialect(source.dialect).identifiers.why}`;
      r.report(
        'duplicate-column',
        c.name.span,
        { name: c.name.text },
        {
          hints: [why],
          related: [{ message: `the first, \`${first.text}\`, is declared here`, span: first.span }],
        },
      );
      continue;
    }
    seen.set(key, c.name);
    if (source) checkName(source.dialect, 'column', c.name, r);
    if (!(columnTypes as readonly string[]).includes(c.type.name)) {
      const alias = typeAliases[c.type.name.toLowerCase()];
      // The type's name, without the `(12, 2)` after it.
      const { span } = c.type;
      const name = {
        text: c.type.name,
        span: { ...span, endLine: span.line, endColumn: span.column + c.type.name.length, endOffset: span.offset + c.type.name.length },
      };
      const advice = alias
        ? { hints: [`write \`${alias}\``, `types: ${columnTypes.join(', ')}`], fixes: [replaceWith(name.span, alias)] }
        : nameHints(name, [...columnTypes], 'types');
      r.report('unknown-type', c.type.span, { name: c.type.name }, advice);
      continue;
    }
    const column: CheckedColumn = { name: c.name, type: c.type.name as ColumnType, nullable: c.nullable };
    if (c.type.precision || c.type.scale) {
      if (c.type.name !== 'decimal') {
        r.report('invalid-number', c.type.precision?.span ?? c.type.span, { detail: `type \`${c.type.name}\` takes no precision` }, [
          'only decimal takes (precision, scale)',
        ]);
      } else {
        const p = c.type.precision?.value ?? 38;
        const s = c.type.scale?.value ?? 0;
        // The messages quote the number as written: read as a double, 1e309 is Infinity and 1e-400 is 0.
        const whole = (n: NumberLit | undefined) => n === undefined || writtenWhole(n.raw);
        if (!Number.isInteger(p) || !whole(c.type.precision) || p < 1 || p > 38) {
          r.report('invalid-number', c.type.precision!.span, { detail: `decimal precision ${c.type.precision!.raw} is out of range` }, [
            'precision is a whole number from 1 to 38',
          ]);
        } else if (!Number.isInteger(s) || !whole(c.type.scale) || s < 0 || s > p) {
          r.report('invalid-number', c.type.scale!.span, { detail: `decimal scale ${c.type.scale!.raw} is out of range` }, [
            `scale is a whole number from 0 to the precision (${p})`,
          ]);
        } else {
          column.precision = p;
          column.scale = s;
        }
      }
    }
    columns.push(column);
  }
  return columns;
}

/** Warehouse type names a user may reach for, and the language's name for them. */
const typeAliases: Record<string, ColumnType> = {
  text: 'string',
  varchar: 'string',
  char: 'string',
  integer: 'int',
  smallint: 'int',
  int4: 'int',
  int8: 'bigint',
  int64: 'bigint',
  long: 'bigint',
  double: 'float',
  real: 'float',
  float64: 'float',
  numeric: 'decimal',
  number: 'decimal',
  boolean: 'bool',
  datetime: 'timestamp',
  timestamptz: 'timestamp',
  jsonb: 'json',
  variant: 'json',
};
