/**
 * A model read from dbt (`dbt dim_users`): its relation and columns from the artifacts, and
 * the columns the `.sync` file declares held to them. Called by the checker with the project
 * the source's `dbt_project` names (already read); reports at the `.sync` text, never at dbt's.
 */
import type { Ident } from '../../syntax/ast.js';
import type { Span } from '../../span.js';
import type { CheckedColumn, CheckedSource, DbtLink } from '../model.js';
import type { Reporter } from '../report.js';
import { nameHints } from '../../diagnostics/suggest.js';
import { nameKey } from '../../dialect/index.js';
import type { DbtProject } from './artifacts.js';
import { readWarehouseType } from './types.js';
import { checkName } from '../names.js';

export interface ResolvedDbtModel {
  path: Ident[];
  columns: CheckedColumn[];
  dbt: DbtLink;
}

/**
 * `declared`: the `columns` block's columns, when the model has one; then the model has those
 * (each must be one of dbt's, of the same type), else every column dbt knows. `item`: the
 * model's `dbt` item.
 */
export function resolveDbtModel(
  name: Ident,
  item: Span,
  modelName: string,
  source: CheckedSource,
  project: DbtProject,
  declared: CheckedColumn[] | undefined,
  r: Reporter,
): ResolvedDbtModel | undefined {
  const found = project.models.get(name.text);
  if (!found) {
    const advice = nameHints(name, [...project.models.keys()], 'dbt models');
    advice.hints.push("the names are those of the dbt project's manifest.json: run `dbt compile` (or `dbt parse`) after renaming a model");
    r.report('unknown-reference', name.span, { kind: 'dbt model', name: name.text }, advice);
    return undefined;
  }
  if (found.materialized === 'ephemeral') {
    r.report('dbt-ephemeral-model', item, { model: found.name }, [
      `materialize it as a view or a table: \`{{ config(materialized='view') }}\` in dbt model \`${found.name}\`, or \`+materialized: view\` for it in dbt_project.yml; then run \`dbt build\``,
    ]);
    return undefined;
  }
  const ident = (text: string, quoted: boolean): Ident => ({ text, quoted, span: name.span });
  // As dbt writes the relation in SQL; on Postgres without the database, which is the connection's.
  const path = (source.dialect === 'postgres' ? found.relation.slice(-2) : found.relation).map((p) => ident(p.text, p.quoted));
  // The artifacts are data: a name the warehouse cannot hold is reported here, as a written one is, before any SQL quotes it.
  for (const p of path) checkName(source.dialect, 'table', p, r);
  // dbt's tests name a column as its YAML does.
  const tested = (set: Set<string>, column: string) => [...set].some((t) => t.toLowerCase() === column.toLowerCase());
  const nullable = (column: string) => !tested(found.notNull, column);

  const known = new Map(found.columns.map((c) => [nameKey(source.dialect, ident(c.name, c.exact)), c]));
  const fix = (column: string) =>
    project.hasCatalog
      ? `declare \`data_type\` for \`${column}\` in the YAML of dbt model \`${found.name}\`, or run \`dbt docs generate\` again if the column is new`
      : `run \`dbt docs generate\` to write catalog.json beside manifest.json, or declare \`data_type\` for \`${column}\` in the YAML of dbt model \`${found.name}\``;

  const columns: CheckedColumn[] = [];
  let ok = true;
  if (declared) {
    for (const c of declared) {
      const theirs = known.get(nameKey(source.dialect, c.name));
      if (!theirs) {
        const advice = nameHints(
          c.name,
          found.columns.map((x) => x.name),
          `columns of dbt model \`${found.name}\``,
        );
        r.report('unknown-column', c.name.span, { name: c.name.text, model: modelName }, advice);
        ok = false;
        continue;
      }
      const read = theirs.type === undefined ? undefined : readWarehouseType(theirs.type);
      // A type dbt does not give, or the language cannot read, is taken as declared.
      if (read && read.type !== c.type) {
        r.report(
          'dbt-column-type',
          c.name.span,
          {
            column: c.name.text,
            declared: c.type,
            model: found.name,
            actual: theirs.type?.toLowerCase() === read.type ? read.type : `${theirs.type} (${read.type})`,
          },
          [`declare it \`${read.type}\`, or cast it in the dbt model`],
        );
        ok = false;
        continue;
      }
      columns.push({ ...c, nullable: c.nullable && nullable(theirs.name) });
    }
  } else {
    for (const c of found.columns) {
      if (c.type === undefined) {
        r.report('untyped-dbt-column', name.span, { column: c.name, model: found.name }, [
          fix(c.name),
          'or declare the columns the syncs use in a `columns` block: `columns { id bigint }`',
        ]);
        ok = false;
        continue;
      }
      const read = readWarehouseType(c.type);
      // A column of a type the language has no name for cannot be synced; it is left out, and a sync that maps it says it is unknown.
      if (!read) continue;
      const column = ident(c.name, c.exact);
      checkName(source.dialect, 'column', column, r);
      columns.push({
        name: column,
        type: read.type,
        ...(read.precision === undefined ? {} : { precision: read.precision, scale: read.scale! }),
        nullable: nullable(c.name),
      });
    }
    if (found.columns.length === 0) {
      r.report('untyped-dbt-column', name.span, { column: '*', model: found.name }, [fix('each column'), 'the artifacts list no column of this model']);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return {
    path,
    columns,
    dbt: { uniqueId: found.uniqueId, name: found.name, unique: [...found.unique].sort(), notNull: [...found.notNull].sort() },
  };
}
