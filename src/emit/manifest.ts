/**
 * manifest.json: every sync with its mode, endpoints, schedule, steps, files, where it is
 * defined and a hash of its inputs; validated against schemas/manifest.schema.json before
 * it is written.
 */
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertSchema } from '../schema/compile.js';
import type { CheckedSync } from '../check/model.js';
import type { Span } from '../span.js';
import type { Plan, SyncArtifacts } from '../contract/plan.js';
import type { PlanOptions } from '../contract/options.js';
import {
  manifestSchemaId,
  type KeptBytes,
  type KeptEntry,
  type KeptSummary,
  type Manifest,
  type ManifestSync,
  type SchedulerInfo,
} from '../contract/manifest.js';

const root = new URL('../../', import.meta.url);
const readJson = (path: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(path, root)), 'utf8'));
export const compilerVersion = (readJson('package.json') as { version: string }).version;

/** The text of every definition the sync is compiled from, the compiler version and the options. */
export function inputHash(sync: CheckedSync, texts: ReadonlyMap<string, string>, options: PlanOptions): string {
  const spans: Span[] = [sync.span, sync.model.span, sync.model.source.span, sync.destination.span];
  if (sync.audience) spans.push(sync.audience.span);
  let text = `syncwright ${compilerVersion}\n${JSON.stringify(options)}\n`;
  for (const s of spans) text += `${s.file}\n${(texts.get(s.file) ?? '').slice(s.offset, s.endOffset)}\n`;
  // A model read from dbt is also what the artifacts said of it (the target's relation, the columns).
  for (const m of new Set([sync.model, ...(sync.audience ? [sync.audience.model] : [])])) {
    if (m.dbt) text += `${JSON.stringify([m.dbt, m.relation, m.columns.map((c) => [c.name.text, c.type, c.precision, c.scale, c.nullable])])}\n`;
  }
  // One call: a Hash object per sync costs more than the hashing.
  return `sha256:${hash('sha256', text)}`;
}

/** The manifest's entry for one sync, from its checked definition, what it compiled to and its `inputHash`. */
export function manifestEntry(sync: CheckedSync, artifacts: SyncArtifacts, hash: string): ManifestSync {
  const { plan } = artifacts;
  const dest = plan.destination;
  return {
    name: plan.sync.name,
    kind: plan.sync.kind,
    mode: plan.sync.mode,
    source: {
      name: plan.source.name,
      dialect: plan.source.dialect ?? sync.model.source.dialect,
      ...(plan.source.version === undefined ? {} : { version: plan.source.version }),
    },
    destination: {
      name: dest.name,
      type: dest.type,
      category: dest.category,
      ...(dest.objectKind === undefined ? {} : { objectKind: dest.objectKind }),
      ...(dest.target === undefined ? {} : { target: dest.target }),
    },
    ...(plan.sync.schedule === undefined ? {} : { schedule: plan.sync.schedule }),
    file: plan.sync.file,
    line: plan.sync.line,
    plan: `${plan.sync.name}/plan.json`,
    steps: plan.steps.map((s) => s.kind),
    files: artifacts.files.map((f) => `${plan.sync.name}/${f.name}`),
    inputHash: hash,
    scheduler: schedulerInfo(sync, plan),
  };
}

/** The connection id a generated DAG runs an endpoint's SQL on: its `airflow_conn_id` setting, else its name. */
export function connectionOf(endpoint: { name: string; settings: Record<string, unknown> }): string {
  const id = endpoint.settings.airflow_conn_id;
  return typeof id === 'string' ? id : endpoint.name;
}

function schedulerInfo(sync: CheckedSync, plan: Plan): SchedulerInfo {
  const models = [sync.model, ...(sync.audience && sync.audience.model !== sync.model ? [sync.audience.model] : [])];
  const upstream = models.map((m) => ({
    model: m.name,
    ...(m.relation.kind === 'table' ? { relation: m.relation.path.map((p) => p.text) } : { query: true as const }),
    ...(m.dbt ? { dbt: m.dbt.uniqueId } : {}),
  }));
  const steps = plan.steps.map((step) => {
    const on = 'on' in step ? step.on : undefined;
    const file = 'file' in step && typeof step.file === 'string' ? `${plan.sync.name}/${step.file}` : undefined;
    const endpoint = on === 'destination' ? plan.destination : plan.source;
    return on && endpoint.dialect
      ? { kind: step.kind, ...(file ? { file } : {}), engine: endpoint.dialect, on, connection: connectionOf(endpoint) }
      : { kind: step.kind, ...(file ? { file } : {}), engine: 'executor' };
  });
  const names = plan.nameVariables;
  return { upstream, steps, env: envNames(plan), ...(names ? { names } : {}), lock: { key: plan.lock.key, on: plan.lock.on } };
}

/** Adds the variables `x` reads: each object whose one key is `env` or `$env`, with a string. */
function walk(x: unknown, names: Set<string>): void {
  if (Array.isArray(x)) for (const v of x) walk(v, names);
  else if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    let only: string | undefined;
    let count = 0;
    for (const key in o) {
      only = key;
      if (++count > 1) break;
    }
    const v = count === 1 ? o[only!] : undefined;
    if ((only === 'env' || only === '$env') && typeof v === 'string') names.add(v);
    else for (const key in o) walk(o[key], names);
  }
}

/** The variables an endpoint's part reads (its settings, its dialect's session record), found once for the plans that share the object (a plan's parts are not changed once it is made). */
const endpointParts = new WeakMap<object, readonly string[]>();

/** Every variable a plan reads: settings `{"env": X}`, templates' `{"$env": X}` and the variables that name tables. */
export function envNames(plan: Plan): string[] {
  const names = new Set<string>();
  for (const key in plan) {
    const value: unknown = plan[key as keyof Plan];
    if ((key === 'source' || key === 'destination') && value && typeof value === 'object' && !Array.isArray(value)) {
      const endpoint = value as Record<string, unknown>;
      for (const part in endpoint) {
        const v = endpoint[part];
        if (!v || typeof v !== 'object') continue;
        let found = endpointParts.get(v);
        if (!found) {
          const own = new Set<string>();
          walk(v, own);
          endpointParts.set(v, (found = [...own]));
        }
        for (const name of found) names.add(name);
      }
    } else walk(value, names);
  }
  for (const name of plan.nameVariables ?? []) names.add(name);
  return [...names].sort();
}

/** The manifest's order of syncs: by name, code unit by code unit. */
export const byName = (x: { name: string }, y: { name: string }): number => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0);

/** The manifest of every sync's entry, sorted by name. */
export function buildManifest(entries: readonly ManifestSync[], options: PlanOptions): Manifest {
  const syncs = [...entries].sort(byName);
  return {
    $schema: manifestSchemaId,
    manifestVersion: 1,
    compiler: { name: 'syncwright', version: compilerVersion },
    ...(Object.keys(options).length > 0 ? { options } : {}),
    syncs,
  };
}

/** An entry in brief, with what tells whether a recompile would write it as it is. */
const keptSummary = ({ name, kind, mode, destination, files, inputHash, file, line }: ManifestSync): KeptSummary => ({
  name,
  kind,
  mode,
  destination: { name: destination.name, type: destination.type },
  files,
  inputHash,
  file,
  line,
});

/** What `JSON.stringify([[entry]], null, 2)` writes around the entry. */
const nestedHead = '[\n  [\n    ';
const nestedTail = '\n  ]\n]';

/** Where a sync's entry is in manifest.json: its bytes [start, end). */
export type PlacedEntry = { sync: KeptSummary; at: [number, number] };

/**
 * manifest.json's text, as `JSON.stringify(manifest, null, 2)` writes it, in parts: the entries
 * of `kept` (syncs a recompile took from the output) are the output's text of them, in name
 * order among the manifest's own, so a recompile neither parses nor writes again what it takes.
 * Also where each entry is, for the next compile's record (src/output/kept-syncs.ts).
 */
export function manifestText(manifest: Manifest, kept: readonly KeptEntry[]): { parts: (string | Uint8Array | KeptBytes)[]; placed: PlacedEntry[] } {
  const { syncs, ...head } = manifest;
  // An entry as it is written two levels deep, each line after the first indented by 4 more: laid out so by JSON.stringify itself, in an array in an array.
  const own = syncs.map((e) => ({ sync: keptSummary(e), text: JSON.stringify([[e]], null, 2).slice(nestedHead.length, -nestedTail.length) }));
  const entries = kept.length === 0 ? own : [...own, ...kept].sort((x, y) => byName(x.sync, y.sync));
  const parts: (string | Uint8Array | KeptBytes)[] = [];
  const placed: PlacedEntry[] = [];
  let at = 0;
  const put = (part: string | Uint8Array | KeptBytes): void => {
    parts.push(part);
    at += typeof part === 'string' ? Buffer.byteLength(part) : part instanceof Uint8Array ? part.length : part.end - part.start;
  };
  // The head's text ends with "\n}": the syncs come last.
  put(`${JSON.stringify(head, null, 2).slice(0, -2)},\n  "syncs": [`);
  entries.forEach(({ sync, text }, i) => {
    put(i === 0 ? '\n    ' : ',\n    ');
    const start = at;
    put(text);
    placed.push({ sync, at: [start, at] });
  });
  put(entries.length === 0 ? ']\n}\n' : '\n  ]\n}\n');
  return { parts, placed };
}

/** Throws, naming each problem, unless the manifest matches its published schema. */
export function validateManifest(manifest: Manifest): void {
  assertSchema('manifest', manifest, 'manifest.json');
}
