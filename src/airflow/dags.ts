/**
 * Airflow DAG files from a compiled output's manifest.json (its `scheduler` block), pure: the
 * manifest in, the files' text out. One DAG per schedule; syncs without one that read dbt
 * models, one DAG per set of dbt models, triggered by their Datasets (Assets in Airflow 3); the
 * others in one DAG without a schedule. In each, a sync's steps are tasks in plan order:
 * - a sync whose every step is SQL (a warehouse sync): one task per SQL file, through
 *   SQLExecuteQueryOperator on the step's connection id, returning the summary row to XCom;
 * - any other (an API sync, whose steps share one session with the executor; a warehouse sync
 *   whose table names come from env(), which only the executor fills): one Bash task,
 *   `syncwright run --plan`, with the plan's variables passed through by name.
 * Every DAG has max_active_runs=1 and every task max_active_tis_per_dag=1: one run per sync.
 * The helpers the DAGs share are templates/airflow/syncwright_support.py, written beside them.
 */
import type { Manifest, ManifestSync } from '../contract/manifest.js';

export interface DagOptions {
  /** Where the compiled output lies on the workers: the folder holding manifest.json. */
  build: string;
  /** Prefix of every DAG id. */
  prefix: string;
  /** How Bash tasks call syncwright (`syncwright`, `npx syncwright`). */
  syncwright: string;
}

export interface DagGroup {
  id: string;
  /** A cron expression, dbt Dataset URIs, or none. */
  schedule: { cron: string } | { datasets: string[] } | { none: true };
  syncs: ManifestSync[];
}

/** The Dataset (Airflow 3: Asset) URI of a dbt node, which the DAG that builds it declares as an outlet. */
export function dbtDatasetUri(uniqueId: string): string {
  return `dbt://${uniqueId}`;
}

/** A DAG id part from free text: letters, digits and `_` only. */
function slug(text: string): string {
  return (
    text
      .replace(/\*/g, 'x')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'x'
  );
}

export function groupSyncs(manifest: Manifest, prefix: string): DagGroup[] {
  const groups = new Map<string, DagGroup>();
  const add = (id: string, schedule: DagGroup['schedule'], sync: ManifestSync) => {
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { id, schedule, syncs: [] }));
    g.syncs.push(sync);
  };
  for (const sync of manifest.syncs) {
    const dbt = [...new Set(sync.scheduler.upstream.flatMap((u) => (u.dbt ? [u.dbt] : [])))].sort();
    if (sync.schedule) add(`${prefix}_cron_${slug(sync.schedule)}`, { cron: sync.schedule }, sync);
    else if (dbt.length > 0)
      add(`${prefix}_after_${dbt.map((id) => slug(id.split('.').slice(2).join('_'))).join('_and_')}`, { datasets: dbt.map(dbtDatasetUri) }, sync);
    else add(`${prefix}_unscheduled`, { none: true }, sync);
  }
  return [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A Python string literal: JSON's escapes are Python's. */
const py = (s: string): string => JSON.stringify(s);

function dagFile(group: DagGroup, options: DagOptions): string {
  const lines: string[] = [];
  const schedule =
    'cron' in group.schedule
      ? py(group.schedule.cron)
      : 'datasets' in group.schedule
        ? `[${group.schedule.datasets.map((u) => `Dataset(${py(u)})`).join(', ')}]`
        : 'None';
  lines.push(
    `"""Syncs of ${'cron' in group.schedule ? `schedule ${group.schedule.cron}` : 'datasets' in group.schedule ? 'dbt models, run when dbt has built them' : 'no schedule'}: ${group.syncs.map((s) => s.name).join(', ')}.`,
    '',
    'Written by `syncwright airflow` from manifest.json; do not edit. Airflow 2.9+ or 3.x."""',
    'from __future__ import annotations',
    '',
    'from datetime import datetime, timezone',
    '',
    'try:  # Airflow 3',
    '    from airflow.sdk import DAG',
    '    from airflow.sdk import Asset as Dataset',
    'except ImportError:  # Airflow 2.9, 2.10',
    '    from airflow import DAG',
    '    from airflow.datasets import Dataset',
    'try:  # Airflow 3: the standard provider',
    '    from airflow.providers.standard.operators.bash import BashOperator',
    'except ImportError:',
    '    from airflow.operators.bash import BashOperator',
    '',
    'from syncwright_support import CompiledSqlOperator, run_plan_command',
    '',
    `BUILD = ${py(options.build)}`,
    `SYNCWRIGHT = ${py(options.syncwright)}`,
    '',
    'with DAG(',
    `    dag_id=${py(group.id)},`,
    `    schedule=${schedule},`,
    '    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),',
    '    catchup=False,',
    '    max_active_runs=1,',
    `    tags=["syncwright"],`,
    ') as dag:',
  );
  for (const sync of group.syncs) {
    const steps = sync.scheduler.steps;
    // Airflow task ids take letters, digits, `_`, `-` and `.`: a `$` of a sync name becomes `_`.
    const name = sync.name.replace(/\$/g, '_');
    lines.push(`    # ${sync.name}: ${sync.kind} ${sync.mode} into ${sync.destination.name} (${sync.destination.type}), ${sync.file} line ${sync.line}`);
    // Names given by env() are placeholders in the SQL that only the executor fills (quoted by the dialect's rule): such a sync runs through it.
    const sqlOnly = !sync.scheduler.names && steps.length > 0 && steps.every((s) => s.engine !== 'executor' && s.file && s.connection);
    if (sqlOnly) {
      const ids = steps.map(
        (s, i) =>
          `${name}__${i + 1}_${slug(
            s
              .file!.split('/')
              .pop()!
              .replace(/\.sql$/, ''),
          )}`,
      );
      steps.forEach((s, i) => {
        lines.push(
          `    ${varName(ids[i]!)} = CompiledSqlOperator(`,
          `        task_id=${py(ids[i]!)},`,
          `        conn_id=${py(s.connection!)},`,
          `        sql_file=f"{BUILD}/${s.file!.replace(/[{}]/g, (b) => b + b)}",`,
          '        max_active_tis_per_dag=1,',
          '    )',
        );
      });
      if (ids.length > 1) lines.push(`    ${ids.map(varName).join(' >> ')}`);
    } else {
      lines.push(
        `    ${varName(name)} = BashOperator(`,
        `        task_id=${py(name)},`,
        `        bash_command=run_plan_command(SYNCWRIGHT, f"{BUILD}/${sync.plan.replace(/[{}]/g, (b) => b + b)}", [${sync.scheduler.env.map(py).join(', ')}]),`,
        '        append_env=True,',
        '        max_active_tis_per_dag=1,',
        '    )',
      );
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** A Python name for a task (its id, which is one). */
function varName(id: string): string {
  return `t_${id}`;
}

/** Every DAG file by name, and the shared helper's name (its text is templates/airflow/syncwright_support.py). */
export function dagFiles(manifest: Manifest, options: DagOptions): { name: string; text: string }[] {
  return groupSyncs(manifest, options.prefix).map((g) => ({ name: `${g.id}.py`, text: dagFile(g, options) }));
}
