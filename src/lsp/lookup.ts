/**
 * Questions the editor's features ask of a project's symbol index and trees: the definition
 * around a position, its tree, the model a sync or audience reads, the destination type a
 * sync writes to. Names resolve as the checker resolves them (symbols.ts).
 */
import { getDestinationType, objectKindOf, type DestinationType } from '../catalog/index.js';
import type { SymbolDef, SymbolIndex } from '../check/symbols.js';
import type { Definition } from '../syntax/ast.js';
import type { Project } from '../check/project.js';

export class Lookup {
  readonly index: SymbolIndex;

  constructor(readonly project: Project) {
    this.index = project.index();
  }

  /** The definition of a file that the position is in, or after the start of (a definition the parser cut short still holds what follows). */
  definitionAround(file: string, offset: number): SymbolDef | undefined {
    let best: SymbolDef | undefined;
    for (const d of this.index.definitions) {
      if (d.kind === 'column' || d.span.file !== file || d.extent.offset > offset) continue;
      if (!best || d.extent.offset > best.extent.offset) best = d;
    }
    return best;
  }

  /** The tree of a definition. */
  tree(symbol: SymbolDef): Definition | undefined {
    return this.project.parsed(symbol.span.file)?.ast.definitions.find((d) => d.span.offset === symbol.extent.offset);
  }

  /** What a reference inside a definition names, for a reference taking one of `kinds`. */
  #read(symbol: SymbolDef, kinds: SymbolDef['kind'][]): SymbolDef | undefined {
    const ref = this.index.references.find(
      (r) =>
        r.span.file === symbol.span.file &&
        r.span.offset >= symbol.extent.offset &&
        r.span.offset <= symbol.extent.endOffset &&
        kinds.every((k) => r.accepts.includes(k)),
    );
    return ref?.target;
  }

  /** The model whose columns a model, audience or sync reads. */
  modelOf(symbol: SymbolDef): SymbolDef | undefined {
    if (symbol.kind === 'model') return symbol;
    if (symbol.kind === 'column') return symbol.parent;
    if (symbol.kind === 'audience') return this.#read(symbol, ['model']);
    if (symbol.kind !== 'sync') return undefined;
    const from = this.#read(symbol, ['model', 'audience']);
    return from?.kind === 'audience' ? this.modelOf(from) : from;
  }

  /** Record or audience: what a sync reads. */
  syncKind(sync: SymbolDef): 'record' | 'audience' | undefined {
    const from = this.#read(sync, ['model', 'audience']);
    return from ? (from.kind === 'audience' ? 'audience' : 'record') : undefined;
  }

  /** The destination type of a destination or source (a source is also a warehouse destination). */
  typeOf(destination: SymbolDef): DestinationType | undefined {
    const def = this.tree(destination);
    if (def?.kind === 'destination') return def.type.missing ? undefined : getDestinationType(def.type.text);
    if (def?.kind === 'source') return def.dialect.missing ? undefined : getDestinationType(def.dialect.text);
    return undefined;
  }

  /** The destination a sync writes to, and its type. */
  destinationOf(sync: SymbolDef): { symbol: SymbolDef; type: DestinationType | undefined } | undefined {
    const to = this.#read(sync, ['destination', 'source']);
    return to ? { symbol: to, type: this.typeOf(to) } : undefined;
  }

  /** The columns of a model, the first of each name. */
  columns(model: SymbolDef): SymbolDef[] {
    const seen = new Set<string>();
    return this.index.definitions.filter((d) => d.kind === 'column' && d.parent === model && !seen.has(d.name) && seen.add(d.name));
  }

  /** The definitions of these kinds, the first of each name (the one names resolve to). */
  named(kinds: readonly SymbolDef['kind'][]): SymbolDef[] {
    const first = new Map<string, SymbolDef>();
    for (const d of this.index.definitions) if (d.kind !== 'column' && !first.has(d.name)) first.set(d.name, d);
    return [...first.values()].filter((d) => kinds.includes(d.kind));
  }

  /** The object kind a sync writes to, as its `to` says or by default. */
  objectKindOf(sync: SymbolDef, type: DestinationType): string | undefined {
    const def = this.tree(sync);
    const to = def?.kind === 'sync' ? def.items.find((i) => i.kind === 'to') : undefined;
    const kind = to?.kind === 'to' && to.objectKind && !to.objectKind.missing ? to.objectKind.text : undefined;
    return objectKindOf(type, kind, this.syncKind(sync) ?? 'record')?.kind;
  }
}

/**
 * The fields a destination's object kind takes where its set is closed (Meta's customer-file
 * keys, Google's identifiers), from the catalog's field rules: for the identifier, those the
 * API matches users by; in a `map`, those a sync may map. One spelling of each (the first
 * listed). None where the set is open.
 */
export function closedFields(
  type: DestinationType,
  kind: string | undefined,
  syncKind: 'record' | 'audience',
  identifier: boolean,
): { names: string[]; describes: string } {
  const rules = objectKindOf(type, kind, syncKind)?.fields;
  if (!rules?.closed) return { names: [], describes: '' };
  const seen = new Set<string>();
  const names = Object.entries(rules.fields).flatMap(([name, spec]) => {
    const sent = spec.as ?? name;
    if (seen.has(sent) || spec.setBy || (!identifier && spec.identifierOnly)) return [];
    if (identifier && rules.identifiers && !rules.identifiers.fields.includes(name)) return [];
    seen.add(sent);
    return [name];
  });
  return { names, describes: rules.describes };
}
