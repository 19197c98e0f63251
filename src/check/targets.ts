/**
 * Syncs that would undo each other's writes. A record mirror into a warehouse table deletes
 * every row its model lacks, so it owns that table: any other sync's rows there are deleted on
 * its next run. A storage mirror overwrites its one object with its own rows, so two mirrors
 * writing one object leave only the last one's. Each sync that writes such a target after the
 * first (in file order) is an error. So is a list or audience of an API that an audience
 * mirror writes and another sync too: each keeps a record of the members it sent, which the
 * other's writes leave untold (a member one removes that the other still wants, the other
 * never adds again), so the list is not the mirror's audience. Other targets are shared
 * safely: API records by their keys, audiences of one membership table by their `audience`
 * column, storage inserts by their run's own objects, and lists that syncs only add members
 * to or remove them from, member by member as each audience changes.
 *
 * Targets are compared where they are, not by the destination that names them: two
 * destinations (or a source written back into) of one warehouse or one bucket reach the same
 * tables and objects.
 */
import { mirrorObject } from '../catalog/api/destinations/storage.js';
import { settingTemplate, storageFormat } from '../catalog/api/http.js';
import { warehouseConnection, warehouseIdentity } from '../catalog/connection-settings.js';
import type { JsonSchema } from '../catalog/types.js';
import type { Template } from '../contract/api-steps.js';
import { underPrefix } from '../contract/object-path.js';
import { nameKey } from '../dialect/index.js';
import { joinSpans, type Span } from '../span.js';
import type { Ident } from '../syntax/ast.js';
import type { CheckedDestination, CheckedModel, CheckedSync, Dialect, FieldMap, ResolvedValue } from './model.js';
import type { Reporter } from './report.js';

/** A template as one comparable text: literal parts joined, anything known only at run time as its JSON. */
function flat(t: Template): string {
  if (typeof t === 'string') return t;
  // A prefix from the environment and a path: joined at run time with one `/` between (underPrefix).
  const under = typeof t === 'object' && t !== null && '$under' in t ? (t as { $under: [Template, Template] }).$under : undefined;
  if (under) return underPrefix(flat(under[0]), flat(under[1]));
  const parts = typeof t === 'object' && t !== null && '$concat' in t ? (t as { $concat: Template[] }).$concat : undefined;
  return parts ? parts.map(flat).join('') : `\u0000${JSON.stringify(t)}\u0000`;
}

/** A setting's value as one comparable text, as the plan reads it: env("X") equals only env("X"), a literal only the same literal. */
const settingKey = (v: ResolvedValue | undefined): string => JSON.stringify(settingTemplate(v) ?? null);

/** A setting's value as the .sync writes it. */
const shown = (v: ResolvedValue): string => (typeof v === 'object' && 'env' in v ? `env("${v.env}")` : String(settingTemplate(v)));

/** Where a destination writes: `key` equal for two that reach one place, `where` what makes it that place. */
interface Place {
  key: string;
  where: string;
}

/** A destination that cannot be told apart from others by its settings: it is only itself. */
const itself = (d: CheckedDestination): Place => ({ key: `\u0000${d.name}`, where: `\`${d.name}\`` });

/** The warehouse a destination reaches, by the settings that say which (given or by default); when one is unknown (a source's host, given at run time), only itself. */
function warehouseOf(d: CheckedDestination): Place {
  const dialect = d.type as Dialect;
  const schema: Record<string, JsonSchema> = warehouseConnection[dialect];
  const values = warehouseIdentity[dialect].map((name) => ({ name, value: d.settings[name] ?? (schema[name]?.default as ResolvedValue | undefined) }));
  if (values.some((v) => v.value === undefined)) return itself(d);
  return {
    key: [d.type, ...values.map((v) => settingKey(v.value))].join('\u0000'),
    where: `${d.type} ${values.map((v) => `${v.name} ${shown(v.value!)}`).join(', ')}`,
  };
}

/** The bucket a storage destination writes, on its service (or the other server its `endpoint` names). */
function bucketOf(d: CheckedDestination): Place {
  const { bucket, endpoint } = d.settings;
  if (bucket === undefined) return itself(d);
  return {
    key: [d.type, settingKey(bucket), settingKey(endpoint)].join('\u0000'),
    where: `${d.type} bucket ${shown(bucket)}${endpoint === undefined ? '' : ` at ${shown(endpoint)}`}`,
  };
}

/** What a sync writes that another may not share, and whether it owns it (a mirror); undefined when it shares it safely. */
function targetOf(s: CheckedSync): { key: string; what: string; where: string; owns: boolean } | undefined {
  const d = s.destination;
  if (s.kind === 'audience' && d.category !== 'warehouse' && d.category !== 'storage' && s.target) {
    // Named as written: the destination's lists are compared as its API names them.
    const name = s.target.map((p) => p.text).join('.');
    const what = `${s.objectKind ?? 'audience'} "${name}" of \`${d.name}\``;
    return { key: `members\u0000${d.name}\u0000${s.objectKind ?? ''}\u0000${name}`, what, where: what, owns: s.mode === 'mirror' };
  }
  if (d.category === 'warehouse' && s.target) {
    const dialect = d.type as Dialect;
    const at = warehouseOf(d);
    const table = s.target.map((p) => p.text).join('.');
    return {
      key: `table\u0000${at.key}\u0000${s.target.map((p) => nameKey(dialect, p, 'table')).join('\u0000')}`,
      what: `table ${table} of \`${d.name}\``,
      where: `${at.where}, table ${table}`,
      owns: s.kind === 'record' && s.mode === 'mirror',
    };
  }
  if (d.category === 'storage' && s.mode === 'mirror') {
    // The object's key as the plan writes it (prefix and path), so that `exports/` + `people.csv` is `exports/people.csv`.
    const object = flat(mirrorObject(settingTemplate(d.settings.prefix), s.target?.map((p) => p.text).join('.') ?? s.name, storageFormat(s.format)));
    const at = bucketOf(d);
    const key = object.replace(/\u0000/g, '');
    return { key: `object\u0000${at.key}\u0000${object}`, what: `object ${key} of \`${d.name}\``, where: `${at.where}, key ${key}`, owns: true };
  }
  return undefined;
}

/**
 * A sync that writes the table its own model reads: each run changes the rows it reads next
 * (an insert adds them again, a mirror deletes what its filter leaves out, an update rewrites
 * the columns it reads). An update or upsert whose fields (`fields`, the identifier left out)
 * are none of the model's columns writes a value back beside them, which each run reads the
 * same: that is taken. Only a model read from a table is compared, not one written as `sql`,
 * whose text may name the table in ways a textual match would miss or invent. `target` is the
 * sync's table, its schema filled in; `written` the parts as the sync writes them, for the caret.
 */
export function checkOwnTable(
  syncName: string,
  model: CheckedModel,
  dest: CheckedDestination,
  target: Ident[],
  written: Ident[],
  write: { mode: string | undefined; fields: readonly FieldMap[] },
  r: Reporter,
): void {
  if (dest.category !== 'warehouse' || model.relation.kind !== 'table') return;
  const read = model.relation.path;
  const source = model.source;
  // One warehouse when the destination is the source itself or reaches what the source does.
  const from = warehouseOf({ name: source.name, type: source.dialect, category: 'warehouse', settings: source.settings, span: source.span });
  if (dest.type !== source.dialect || from.key !== warehouseOf(dest).key) return;
  // A name given at run time may be anything: only names written here are compared.
  if ([...read, ...target].some((p) => p.env) || read.length !== target.length) return;
  const dialect = source.dialect;
  if (read.some((p, i) => nameKey(dialect, p, 'table') !== nameKey(dialect, target[i]!, 'table'))) return;
  const columns = new Set(model.columns.map((c) => nameKey(dialect, c.name)));
  if ((write.mode === 'update' || write.mode === 'upsert') && !write.fields.some((f) => columns.has(nameKey(dialect, f.field)))) return;
  const table = written.map((p) => (p.quoted ? `"${p.text}"` : p.text)).join('.');
  r.report(
    'writes-own-model',
    joinSpans(written[0]!.span, written[written.length - 1]!.span),
    { name: syncName, table, model: model.name },
    {
      hints: [
        'each run would change the rows the next run reads: an insert adds them again, a mirror deletes what its filter leaves out, an update or upsert rewrites the columns the model reads',
        'write to another table, or read the model from another one; an update may write back columns the model does not read',
      ],
      related: [{ message: `model \`${model.name}\` reads it here`, span: read[read.length - 1]!.span }],
    },
  );
}

/** `spans`: where each sync's name is, for the caret. */
export function checkSharedTargets(syncs: readonly CheckedSync[], spans: ReadonlyMap<string, Span>, r: Reporter): void {
  const groups = new Map<string, { sync: CheckedSync; what: string; where: string; owns: boolean }[]>();
  for (const s of syncs) {
    const t = targetOf(s);
    if (!t) continue;
    let g = groups.get(t.key);
    if (!g) groups.set(t.key, (g = []));
    g.push({ sync: s, ...t });
  }
  const inFileOrder = (a: CheckedSync, b: CheckedSync) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.span.offset - b.span.offset);
  for (const group of groups.values()) {
    // In file order, whatever order the syncs were checked in: a resumed check names the same owner as a whole one.
    const sorted = [...group].sort((a, b) => inFileOrder(a.sync, b.sync));
    const owner = sorted.find((t) => t.owns)?.sync;
    if (!owner || group.length < 2) continue;
    const [first, ...rest] = sorted;
    const other = first!.sync;
    for (const { sync: s, what, where } of rest) {
      // Through another destination, say what makes the two one place.
      const elsewhere = s.destination.name !== other.destination.name;
      r.report(
        'shared-target',
        spans.get(s.name) ?? s.span,
        { name: s.name, first: other.name, what, through: elsewhere ? ` through \`${other.destination.name}\` (the same ${where})` : '' },
        {
          hints:
            s.kind === 'audience' && s.destination.category !== 'warehouse'
              ? [
                  `\`${owner.name}\` mirrors its audience into it, and neither sync learns what the other adds or removes there: a member both audiences hold that one removes, the other's record of the list still holds, and it never adds it again`,
                  'make one audience of the two (their conditions joined with `or`) and one sync, or write to another list',
                ]
              : [
                  `\`${owner.name}\` mirrors its model into it, so each run ${owner.destination.category === 'storage' ? 'overwrites' : 'deletes'} what the other writes there`,
                  'write to another table or path, or make one sync of the two (a model that unions both)',
                ],
          related: [
            {
              message: `\`${other.name}\` writes it too${elsewhere ? ` through \`${other.destination.name}\`` : ''}`,
              span: spans.get(other.name) ?? other.span,
            },
          ],
        },
      );
    }
  }
}
