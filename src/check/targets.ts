/**
 * Syncs that would undo each other's writes. A record mirror into a warehouse table deletes
 * every row its model lacks, so it owns that table: any other sync's rows there are deleted on
 * its next run. A storage mirror overwrites its one object with its own rows, so two mirrors
 * writing one object leave only the last one's. Each sync that writes such a target after the
 * first (in file order) is an error. Other targets are shared safely: API records by their
 * keys, audiences of one membership table by their `audience` column, storage inserts by
 * their run's own objects.
 */
import { mirrorObject } from '../catalog/api/destinations/storage.js';
import { settingTemplate, storageFormat } from '../catalog/api/http.js';
import type { Template } from '../contract/api-steps.js';
import { nameKey } from '../dialect/index.js';
import type { Span } from '../span.js';
import type { CheckedSync, Dialect } from './model.js';
import type { Reporter } from './report.js';

/** A template as one comparable text: literal parts joined, anything known only at run time as its JSON. */
function flat(t: Template): string {
  if (typeof t === 'string') return t;
  const parts = typeof t === 'object' && t !== null && '$concat' in t ? (t as { $concat: Template[] }).$concat : undefined;
  return parts ? parts.map(flat).join('') : `\u0000${JSON.stringify(t)}\u0000`;
}

/** What a sync writes that another may not share, and whether it owns it (a mirror); undefined when it shares it safely. */
function targetOf(s: CheckedSync): { key: string; what: string; owns: boolean } | undefined {
  const d = s.destination;
  if (d.category === 'warehouse' && s.target) {
    const dialect = d.type as Dialect;
    return {
      key: `table\u0000${d.name}\u0000${s.target.map((p) => nameKey(dialect, p)).join('\u0000')}`,
      what: `table ${s.target.map((p) => p.text).join('.')} of \`${d.name}\``,
      owns: s.kind === 'record' && s.mode === 'mirror',
    };
  }
  if (d.category === 'storage' && s.mode === 'mirror') {
    const object = flat(mirrorObject(settingTemplate(d.settings.prefix), s.target?.map((p) => p.text).join('.') ?? s.name, storageFormat(s.format)));
    return { key: `object\u0000${d.name}\u0000${object}`, what: `object ${object.replace(/\u0000/g, '')} of \`${d.name}\``, owns: true };
  }
  return undefined;
}

/** `spans`: where each sync's name is, for the caret. */
export function checkSharedTargets(syncs: readonly CheckedSync[], spans: ReadonlyMap<string, Span>, r: Reporter): void {
  const groups = new Map<string, { what: string; owned: boolean; syncs: CheckedSync[] }>();
  for (const s of syncs) {
    const t = targetOf(s);
    if (!t) continue;
    let g = groups.get(t.key);
    if (!g) groups.set(t.key, (g = { what: t.what, owned: false, syncs: [] }));
    g.owned ||= t.owns;
    g.syncs.push(s);
  }
  const inFileOrder = (a: CheckedSync, b: CheckedSync) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.span.offset - b.span.offset);
  for (const { what, owned, syncs: group } of groups.values()) {
    if (!owned || group.length < 2) continue;
    const [first, ...rest] = [...group].sort(inFileOrder);
    const mirror = group.find((s) => s.mode === 'mirror')!;
    for (const s of rest) {
      r.report(
        'shared-target',
        spans.get(s.name) ?? s.span,
        { name: s.name, first: first!.name, what },
        {
          hints: [
            `\`${mirror.name}\` mirrors its model into it, so each run ${mirror.destination.category === 'storage' ? 'overwrites' : 'deletes'} what the other writes there`,
            'write to another table or path, or make one sync of the two (a model that unions both)',
          ],
          related: [{ message: `\`${first!.name}\` writes it too`, span: spans.get(first!.name) ?? first!.span }],
        },
      );
    }
  }
}
