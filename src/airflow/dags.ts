/**
 * Airflow DAG files from a compiled output's manifest.json (its `scheduler` block), pure: the
 * manifest in, the files' text out. One DAG per schedule; syncs without one that read dbt
 * models, one DAG per set of dbt models, triggered by their Datasets (Assets in Airflow 3); the
 * others in one DAG without a schedule. In each, a sync's steps are tasks in plan order:
 * - a sync whose every step is SQL (a warehouse sync): one task per SQL file, through
 *   SQLExecuteQueryOperator on the step's connection id, run as the step's dialect runs it,
 *   returning the summary row to XCom;
 * - any other (an API sync, whose steps share one session with the executor; a warehouse sync
 *   whose table names come from env(), which only the executor fills): one Bash task,
 *   `syncwright run --plan`, with the plan's variables passed through by name.
 * Every DAG has max_active_runs=1 and every task max_active_tis_per_dag=1: one run per sync.
 * The helpers the DAGs share are templates/airflow/syncwright_support.py, written beside them.
 * Every text of the manifest lands as a Python literal, or escaped in a comment: it is never code.
 */
import type { Manifest, ManifestSync } from '../contract/manifest.js';
import { plainName, textMark } from '../hash.js';

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

/**
 * The Dataset (Airflow 3: Asset) URI of a dbt node, which the DAG that builds it declares as an
 * outlet. Airflow refuses a URI of other than ASCII characters (the DAG file fails to load), and
 * reads `@`, `/`, `?`, `#` as parts of it: every character but the few a URI's host part holds
 * as they are is percent-encoded as UTF-8 (`model.shop.clientes_año` → `...clientes_a%C3%B1o`).
 */
export function dbtDatasetUri(uniqueId: string): string {
  const encoded = [...uniqueId]
    .map((ch) =>
      /^[A-Za-z0-9._~!$&'()*+,;=-]$/.test(ch) ? ch : [...new TextEncoder().encode(ch)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
    )
    .join('');
  return `dbt://${encoded}`;
}

/** An id of at most `max` characters: a longer one keeps its start and takes the mark of its exact key, which keeps it apart. */
const bounded = (id: string, key: string, max: number): string => (id.length > max ? `${id.slice(0, max - 10)}_${textMark(key)}` : id);

/** Airflow refuses a DAG or task id longer than this. */
const airflowIdMax = 250;

/** The line a DAG file records its prefix on, which a later run with the same prefix alone may remove it by. */
export function dagMarker(prefix: string): string {
  return `Written by \`syncwright airflow --dag-prefix ${prefix}\``;
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
  // Grouped by the exact schedule or set of dbt nodes: two crons can slug alike ("1-5", "1,5").
  const groups = new Map<string, DagGroup>();
  const add = (key: string, id: string, schedule: DagGroup['schedule'], sync: ManifestSync) => {
    let g = groups.get(key);
    // Below Airflow's limit, as the id names the file and may take one more mark below.
    id = bounded(id, key, 200);
    if (!g) groups.set(key, (g = { id, schedule, syncs: [] }));
    g.syncs.push(sync);
  };
  for (const sync of manifest.syncs) {
    const dbt = [...new Set(sync.scheduler.upstream.flatMap((u) => (u.dbt ? [u.dbt] : [])))].sort();
    if (sync.schedule !== undefined) {
      // A cron of digits and `*` alone slugs one to one; any other (ranges, lists, steps, names) takes a mark of its exact text.
      const plain = /^[0-9*]+(?: [0-9*]+)*$/.test(sync.schedule);
      add(`cron ${sync.schedule}`, `${prefix}_cron_${slug(sync.schedule)}${plain ? '' : `_${textMark(sync.schedule)}`}`, { cron: sync.schedule }, sync);
    } else if (dbt.length > 0)
      add(
        `dbt ${dbt.join(' ')}`,
        `${prefix}_after_${dbt.map((id) => slug(id.split('.').slice(2).join('_'))).join('_and_')}`,
        { datasets: dbt.map(dbtDatasetUri) },
        sync,
      );
    else add('none', `${prefix}_unscheduled`, { none: true }, sync);
  }
  // Ids still alike (dbt nodes of two packages, a mark's own text) each take the mark of their exact key.
  const byId = new Map<string, string[]>();
  for (const [key, g] of groups) byId.set(g.id, [...(byId.get(g.id) ?? []), key]);
  for (const keys of byId.values()) if (keys.length > 1) for (const key of keys) groups.get(key)!.id += `_${textMark(key)}`;
  return [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * A text as the inside of a Python string literal: backslashes and quotes escaped, and every
 * character but printable ASCII as its code point (`\u2028`, `\U0001f600`), so no line break, control or
 * bidirectional character reaches the file, and the literal reads back the same text.
 */
function pyInner(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\U${c.toString(16).padStart(8, '0')}`;
  }
  return out;
}

/** A Python string literal. */
const py = (text: string): string => `"${pyInner(text)}"`;

/** An f-string of BUILD and a path under it: the path escaped as any literal, its braces doubled. */
const underBuild = (path: string): string => `f"{BUILD}/${pyInner(path).replace(/[{}]/g, (b) => b + b)}"`;

/** A text for a `#` comment or the docstring: on one line, printable, no quote that could close the docstring. */
const note = (text: string): string => pyInner(text);

function dagFile(group: DagGroup, options: DagOptions): string {
  const lines: string[] = [];
  const schedule =
    'cron' in group.schedule
      ? py(group.schedule.cron)
      : 'datasets' in group.schedule
        ? `[${group.schedule.datasets.map((u) => `Dataset(${py(u)})`).join(', ')}]`
        : 'None';
  lines.push(
    // Raw, so that the escapes read as written: the docstring's text stays on its line.
    `r"""Syncs of ${'cron' in group.schedule ? `schedule ${note(group.schedule.cron)}` : 'datasets' in group.schedule ? 'dbt models, run when dbt has built them' : 'no schedule'}: ${group.syncs.map((s) => note(s.name)).join(', ')}.`,
    '',
    `${dagMarker(note(options.prefix))} from manifest.json; do not edit. Airflow 2.9+ or 3.x."""`,
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
  const ids = taskIds(group.syncs);
  for (const sync of group.syncs) {
    const steps = sync.scheduler.steps;
    const [bash, ...sql] = ids.get(sync)!;
    lines.push(
      `    # ${note(sync.name)}: ${note(sync.kind)} ${note(sync.mode)} into ${note(sync.destination.name)} (${note(sync.destination.type)}), ${note(sync.file)} line ${Number(sync.line)}`,
    );
    if (sql.length > 0) {
      steps.forEach((s, i) => {
        lines.push(
          `    ${varName(sql[i]!)} = CompiledSqlOperator(`,
          `        task_id=${py(sql[i]!)},`,
          `        conn_id=${py(s.connection!)},`,
          `        dialect=${py(s.engine)},`,
          `        sql_file=${underBuild(s.file!)},`,
          '        max_active_tis_per_dag=1,',
          '    )',
        );
      });
      if (sql.length > 1) lines.push(`    ${sql.map(varName).join(' >> ')}`);
    } else {
      lines.push(
        `    ${varName(bash!)} = BashOperator(`,
        `        task_id=${py(bash!)},`,
        `        bash_command=run_plan_command(SYNCWRIGHT, ${underBuild(sync.plan)}, [${sync.scheduler.env.map(py).join(', ')}]),`,
        '        append_env=True,',
        '        max_active_tis_per_dag=1,',
        '    )',
      );
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Whether a sync runs as SQL tasks (every step a SQL file on a connection) rather than through the executor. */
function sqlOnly(sync: ManifestSync): boolean {
  const steps = sync.scheduler.steps;
  // Names given by env() are placeholders in the SQL that only the executor fills (quoted by the dialect's rule): such a sync runs through it.
  return !sync.scheduler.names && steps.length > 0 && steps.every((s) => s.engine !== 'executor' && s.file && s.connection);
}

/**
 * Each sync's task ids in a DAG: [its Bash task's, then one per SQL step] (the Bash one unused
 * by a SQL sync). Task ids take letters, digits and `_` here (a Python name too): a name that
 * loses a character (`copy$a`) takes the mark of its exact text, so it never meets `copy_a`'s;
 * ids still alike (a sync named as another's step) take the mark of their sync and step, as
 * does an id cut to Airflow's 250 characters.
 */
function taskIds(syncs: ManifestSync[]): Map<ManifestSync, string[]> {
  const out = new Map<ManifestSync, string[]>();
  for (const sync of syncs) {
    const name = plainName(sync.name);
    const steps = sqlOnly(sync)
      ? sync.scheduler.steps.map(
          (s, i) =>
            `${name}__${i + 1}_${slug(
              s
                .file!.split('/')
                .pop()!
                .replace(/\.sql$/, ''),
            )}`,
        )
      : [];
    out.set(sync, [name, ...steps]);
  }
  const seen = new Map<string, number>();
  for (const [sync, ids] of out) for (const id of sqlOnly(sync) ? ids.slice(1) : ids.slice(0, 1)) seen.set(id, (seen.get(id) ?? 0) + 1);
  for (const [sync, ids] of out) {
    const used = sqlOnly(sync) ? [false, ...ids.slice(1).map(() => true)] : [true];
    ids.forEach((id, i) => {
      if (used[i] && seen.get(id)! > 1) ids[i] = `${id}_${textMark(`${sync.name}\n${i}`)}`;
      // A sync's name may be 255 bytes long (its folder's limit), its step's id longer still.
      ids[i] = bounded(ids[i]!, `${sync.name}\n${i}`, airflowIdMax);
    });
  }
  return out;
}

/** A Python name for a task (its id, which is one). */
function varName(id: string): string {
  return `t_${id}`;
}

/** Every DAG file by name, and the shared helper's name (its text is templates/airflow/syncwright_support.py). */
export function dagFiles(manifest: Manifest, options: DagOptions): { name: string; text: string }[] {
  return groupSyncs(manifest, options.prefix).map((g) => ({ name: `${g.id}.py`, text: dagFile(g, options) }));
}
