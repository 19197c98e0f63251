/**
 * Go to definition, find references, rename (across the project's files), the outline of a
 * file and its folding ranges, read off the symbol index and the file's tree.
 */
import { DocumentSymbol, FoldingRangeKind, SymbolKind, type FoldingRange, type Location, type Range, type TextEdit } from 'vscode-languageserver/node';
import { referencesTo, symbolAt } from '../check/symbols.js';
import type { Definition, SyncFile } from '../syntax/ast.js';
import type { Span } from '../span.js';
import { toLocation, toRange, type UriOf } from './convert.js';
import type { Lookup } from './lookup.js';

export function definitionAt(lookup: Lookup, file: string, offset: number, uriOf: UriOf): Location | undefined {
  const found = symbolAt(lookup.index, file, offset);
  return found ? toLocation(found.definition.span, uriOf) : undefined;
}

export function referencesAt(lookup: Lookup, file: string, offset: number, includeDeclaration: boolean, uriOf: UriOf): Location[] {
  const found = symbolAt(lookup.index, file, offset);
  if (!found) return [];
  const refs = referencesTo(lookup.index, found.definition).map((r) => r.span);
  return (includeDeclaration ? [found.definition.span, ...refs] : refs).map((s) => toLocation(s, uriOf));
}

/** The name a rename at the position would change: its range where the position is, and the name. */
export function renameTarget(lookup: Lookup, file: string, offset: number): { range: Range; placeholder: string } | undefined {
  const found = symbolAt(lookup.index, file, offset);
  if (!found) return undefined;
  const span = found.reference?.span ?? found.definition.span;
  return { range: toRange(span), placeholder: lookup.project.text(file)?.slice(span.offset, span.endOffset) ?? found.definition.name };
}

/** Why a rename cannot be made, for the editor to show. */
export class RenameRefused extends Error {}

const bare = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const quoted = /^(`[^`\n\r]+`|"(?:[^"\\\n\r]|\\.)+")$/;

/**
 * The edits of a rename, by file: the definition and every reference. A mapping that names
 * no field (`identifier email`) sends the column under its own name: it gains `-> email`, so
 * the destination's field stays as it was.
 */
export function renameEdits(lookup: Lookup, file: string, offset: number, newName: string): Map<string, TextEdit[]> {
  const found = symbolAt(lookup.index, file, offset);
  if (!found) throw new RenameRefused('nothing to rename here');
  const target = found.definition;
  if (target.kind === 'column' ? !bare.test(newName) && !quoted.test(newName) : !bare.test(newName)) {
    throw new RenameRefused(
      target.kind === 'column'
        ? `\`${newName}\` is not a name: write a bare name, or an exact one in backticks`
        : `\`${newName}\` is not a name: letters, digits, _ and $, not starting with a digit`,
    );
  }
  const plain = newName.replace(/^[`"]|[`"]$/g, '');
  if (target.kind === 'column') {
    if (lookup.columns(target.parent!).some((c) => c !== target && c.name.toLowerCase() === plain.toLowerCase())) {
      throw new RenameRefused(`model \`${target.parent!.name}\` already has a column \`${plain}\``);
    }
  } else if (lookup.index.definitions.some((d) => d.kind !== 'column' && d.name === newName && d !== target)) {
    throw new RenameRefused(`\`${newName}\` is already defined: names are shared by every kind of definition`);
  }
  const implicitFields = target.kind === 'column' ? mappingsWithoutField(lookup) : new Set<string>();
  const edits = new Map<string, TextEdit[]>();
  const edit = (span: Span, text: string) => {
    const list = edits.get(span.file) ?? [];
    list.push({ range: toRange(span), newText: text });
    edits.set(span.file, list);
  };
  edit(target.span, newName);
  for (const r of referencesTo(lookup.index, target)) {
    const written = lookup.project.text(r.span.file)?.slice(r.span.offset, r.span.endOffset) ?? r.name;
    edit(r.span, implicitFields.has(`${r.span.file}:${r.span.offset}`) ? `${newName} -> ${written}` : newName);
  }
  return edits;
}

/** The places (`file:offset`) of the columns of mappings that name no field. */
function mappingsWithoutField(lookup: Lookup): Set<string> {
  const places = new Set<string>();
  for (const path of lookup.project.paths) {
    for (const def of lookup.project.parsed(path)?.ast.definitions ?? []) {
      if (def.kind !== 'sync') continue;
      for (const item of def.items) {
        const mappings = item.kind === 'identifier' ? [item.mapping] : item.kind === 'map' ? item.mappings : [];
        for (const m of mappings) if (!m.field) places.add(`${m.column.span.file}:${m.column.span.offset}`);
      }
    }
  }
  return places;
}

const symbolKinds: Record<Definition['kind'], SymbolKind> = {
  source: SymbolKind.Package,
  destination: SymbolKind.Interface,
  model: SymbolKind.Class,
  audience: SymbolKind.Enum,
  sync: SymbolKind.Event,
};

/** The outline of a file: its definitions, a model's columns under it. */
export function documentSymbols(tree: SyncFile): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const def of tree.definitions) {
    if (def.name.missing) continue;
    const children: DocumentSymbol[] = [];
    if (def.kind === 'model') {
      for (const item of def.items) {
        if (item.kind !== 'columns') continue;
        for (const c of item.columns) {
          if (!c.name.missing)
            children.push(
              DocumentSymbol.create(c.name.text, `${c.type.name}${c.nullable ? '?' : ''}`, SymbolKind.Field, toRange(c.span), toRange(c.name.span)),
            );
        }
      }
    }
    out.push(
      DocumentSymbol.create(
        def.name.text,
        detailOf(def),
        symbolKinds[def.kind],
        toRange(def.span),
        toRange(def.name.span),
        children.length ? children : undefined,
      ),
    );
  }
  return out;
}

function detailOf(def: Definition): string {
  switch (def.kind) {
    case 'source':
      return `source : ${def.dialect.text}`;
    case 'destination':
      return `destination : ${def.type.text}`;
    case 'sync': {
      const to = def.items.find((i) => i.kind === 'to');
      const mode = def.items.find((i) => i.kind === 'mode');
      return ['sync', to?.kind === 'to' ? `→ ${to.destination.text}` : '', mode?.kind === 'mode' ? mode.mode.text : ''].filter(Boolean).join(' ');
    }
    default:
      return def.kind;
  }
}

/** Definitions, `columns` and `map` blocks, queries over several lines, block comments and runs of line comments. */
export function foldingRanges(tree: SyncFile, text: string): FoldingRange[] {
  const out: FoldingRange[] = [];
  // A block keeps its closing `}` in sight.
  const block = (span: Span, kind?: FoldingRangeKind) => {
    const closing = text.slice(text.lastIndexOf('\n', span.endOffset - 1) + 1, span.endOffset).trim() === '}';
    const end = span.endLine - 1 - (closing ? 1 : 0);
    if (end > span.line - 1) out.push({ startLine: span.line - 1, endLine: end, ...(kind ? { kind } : {}) });
  };
  for (const def of tree.definitions) {
    block(def.span);
    if (def.kind === 'model' || def.kind === 'sync') {
      for (const item of def.items) if (item.kind === 'columns' || item.kind === 'map' || item.kind === 'sql') block(item.span);
    }
  }
  let run: Span | undefined;
  let last: Span | undefined;
  const flush = () => {
    if (run && last && last.line > run.line) out.push({ startLine: run.line - 1, endLine: last.line - 1, kind: FoldingRangeKind.Comment });
    run = last = undefined;
  };
  for (const c of tree.comments) {
    if (c.text.startsWith('/*')) {
      flush();
      if (c.span.endLine > c.span.line) out.push({ startLine: c.span.line - 1, endLine: c.span.endLine - 1, kind: FoldingRangeKind.Comment });
      continue;
    }
    const ownLine = text.slice(text.lastIndexOf('\n', c.span.offset - 1) + 1, c.span.offset).trim() === '';
    if (ownLine && last && c.span.line === last.line + 1) last = c.span;
    else {
      flush();
      if (ownLine) run = last = c.span;
    }
  }
  flush();
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}
