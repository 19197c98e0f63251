/**
 * dbt exposures for the syncs that read dbt models: one `type: application` exposure per
 * sync, depending on its models by `ref`, so `dbt docs` and dbt's lineage show every sync
 * downstream of the model it sends. Pure: the checked project in, the property file out
 * (what dbt's property-file JSON Schema describes), and its YAML text.
 */
import type { CheckedProject, CheckedSync } from '../check/model.js';
import { plainName } from '../hash.js';

export interface ExposureOptions {
  /** dbt requires an owner with a name or an email. */
  owner: { name?: string; email?: string };
  /** A link per sync: `{sync}` is replaced by the sync's name (a dashboard, the run's logs). */
  url?: string;
}

export interface Exposure {
  name: string;
  label: string;
  type: 'application';
  description: string;
  depends_on: string[];
  owner: { name?: string; email?: string };
  url?: string;
  tags: string[];
  meta: { syncwright: { sync: string; mode: string; destination: string; type: string; file: string; line: number } };
}

export interface PropertyFile {
  version: 2;
  exposures: Exposure[];
}

/** The models a sync reads that come from dbt: its model, and its audience's. */
function dbtModels(sync: CheckedSync): string[] {
  const names = [sync.model, sync.audience?.model].flatMap((m) => (m?.dbt ? [m.dbt.name] : []));
  return [...new Set(names)].sort();
}

/**
 * An exposure's name: dbt takes letters, digits, `_` and `-` (it warns of any other, and will
 * refuse it), so the sync's name made plain as Airflow's task ids are (`plainName`); the label
 * keeps the exact name.
 */
const exposureName = (sync: string): string => `syncwright_${plainName(sync)}`;

export function exposuresOf(project: CheckedProject, options: ExposureOptions): PropertyFile {
  const exposures: Exposure[] = [];
  for (const sync of project.syncs) {
    const models = dbtModels(sync);
    if (models.length === 0) continue;
    const d = sync.destination;
    const where = [d.name, sync.objectKind, sync.target?.map((p) => p.text).join('.')].filter(Boolean).join(' ');
    exposures.push({
      name: exposureName(sync.name),
      label: `${sync.name} (${d.type})`,
      type: 'application',
      description: `syncwright sync \`${sync.name}\`: ${sync.kind} ${sync.mode} of ${sync.audience ? `audience \`${sync.audience.name}\`` : `model \`${sync.model.name}\``} into ${d.type} ${where}${sync.schedule ? `, on "${sync.schedule}"` : ''}; defined in ${sync.file} line ${sync.line}.`,
      depends_on: models.map((m) => `ref('${m}')`),
      owner: { ...options.owner },
      ...(options.url ? { url: options.url.replaceAll('{sync}', encodeURIComponent(sync.name)) } : {}),
      tags: ['syncwright'],
      meta: { syncwright: { sync: sync.name, mode: sync.mode, destination: d.name, type: d.type, file: sync.file, line: sync.line } },
    });
  }
  return { version: 2, exposures };
}

/**
 * A value as dbt reads it back. A string is double-quoted as JSON writes it (a JSON string is a
 * YAML string), with what JSON leaves raw but YAML may not hold (DEL, C1, U+FFFE, U+FFFF) or
 * reads as a line break (U+0085, U+2028, U+2029) escaped. dbt renders every string of a
 * property file as a Jinja template (a description when it reads docs, the others as it
 * parses): each `{` that would open a tag (`{{env:X}}` of a table named by env(), a quoted
 * name) is written `{{ '{' }}`, which renders as itself, so the text is never evaluated.
 */
function dbtValue(v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  const inert = v.replace(/\{(?=[{%#])/g, "{{ '{' }}");
  return JSON.stringify(inert).replace(/[\u007f-\u009f\u2028\u2029\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * YAML of the property file: block style, every value written by dbtValue, so no text of a
 * `.sync` file can change the YAML's structure or be run by dbt.
 */
export function renderYaml(file: PropertyFile): string {
  const lines = ['# Written by `syncwright dbt exposures`: one exposure per sync that reads a dbt model. Do not edit.', `version: ${file.version}`];
  if (file.exposures.length === 0) lines.push('exposures: []');
  else lines.push('exposures:');
  const value = (v: unknown, indent: string): string[] => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => {
        const nested = typeof x === 'object' && x !== null;
        return nested ? [`${indent}${k}:`, ...value(x, `${indent}  `)] : [`${indent}${k}: ${dbtValue(x)}`];
      });
    }
    if (Array.isArray(v)) return v.length === 0 ? [`${indent}[]`] : v.map((x) => `${indent}- ${dbtValue(x)}`);
    return [`${indent}${dbtValue(v)}`];
  };
  for (const e of file.exposures) {
    const [first, ...rest] = value(e, '    ');
    lines.push(`  - ${first!.trimStart()}`, ...rest);
  }
  return `${lines.join('\n')}\n`;
}
