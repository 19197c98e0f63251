/**
 * Go to definition, find references, rename (across the project's files), the outline of a
 * file and its folding ranges, read off the symbol index and the file's tree.
 */
import { DocumentSymbol, FoldingRangeKind, SymbolKind, type FoldingRange, type Location, type Range, type TextEdit } from 'vscode-languageserver/node';
import { indexProject, referencesTo, symbolAt, type SymbolDef, type SymbolIndex } from '../check/symbols.js';
import { parsedTemplate, templateUses } from '../check/syncs.js';
import type { Definition, SyncFile } from '../syntax/ast.js';
import { parseFile } from '../syntax/parse.js';
import type { Span } from '../span.js';
import { LineMap, toLocation, toRange, type Files } from './convert.js';
import type { Lookup } from './lookup.js';

export function definitionAt(lookup: Lookup, file: string, offset: number, files: Files): Location | undefined {
  const found = symbolAt(lookup.index, file, offset);
  return found ? toLocation(found.definition.span, files) : undefined;
}

export function referencesAt(lookup: Lookup, file: string, offset: number, includeDeclaration: boolean, files: Files): Location[] {
  const found = symbolAt(lookup.index, file, offset);
  if (!found) return [];
  const refs = referencesTo(lookup.index, found.definition).map((r) => r.span);
  return (includeDeclaration ? [found.definition.span, ...refs] : refs).map((s) => toLocation(s, files));
}

/** The name a rename at the position would change: its range where the position is, and the name. */
export function renameTarget(lookup: Lookup, file: string, offset: number, files: Files): { range: Range; placeholder: string } | undefined {
  const found = symbolAt(lookup.index, file, offset);
  if (!found) return undefined;
  const span = found.reference?.span ?? found.definition.span;
  return { range: toRange(span, files), placeholder: lookup.project.text(file)?.slice(span.offset, span.endOffset) ?? found.definition.name };
}

/** Why a rename cannot be made, for the editor to show. */
export class RenameRefused extends Error {}

const bare = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const quoted = /^(`[^`\n\r]+`|"(?:[^"\\\n\r]|\\.)+")$/;

/** The exact name a column declared as `written` has (a quoted name without its quotes and escapes). */
function columnName(written: string): string | undefined {
  const tree = parseFile('', `model m { columns { ${written} string } }`);
  const model = tree.ok ? tree.ast.definitions[0] : undefined;
  const columns = model?.kind === 'model' ? model.items.find((i) => i.kind === 'columns') : undefined;
  return columns?.kind === 'columns' && columns.columns.length === 1 ? columns.columns[0]!.name.text : undefined;
}

/** One place a rename writes: the definition's name or a reference, and what it may write there, in order of preference. */
interface Place {
  span: Span;
  spellings: string[];
}

/**
 * The edits of a rename, by file: the definition and every reference. A mapping that names
 * no field (`identifier email`) sends the column under its own name: it gains `-> email`, so
 * the destination's field stays as it was.
 *
 * A name is not read the same everywhere: in a `where`, a double-quoted name is a string and
 * `true`, `null` or `and` are the language's words, and a word that starts an item is a name
 * only where the item allows. Each place gets the name as written where it is read back as the
 * renamed symbol, else (a column) the exact name in backticks; where neither is, the rename
 * is refused rather than made to mean something else.
 */
export function renameEdits(lookup: Lookup, file: string, offset: number, newName: string, files: Files): Map<string, TextEdit[]> {
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
  const exact = target.kind === 'column' ? columnName(newName) : newName;
  if (exact === undefined) throw new RenameRefused(`\`${newName}\` is not a name: write a bare name, or an exact one in backticks`);
  if (target.kind === 'column') {
    if (lookup.columns(target.parent!).some((c) => c !== target && c.name.toLowerCase() === exact.toLowerCase())) {
      throw new RenameRefused(`model \`${target.parent!.name}\` already has a column \`${exact}\``);
    }
  } else if (lookup.index.definitions.some((d) => d.kind !== 'column' && d.name === newName && d !== target)) {
    throw new RenameRefused(`\`${newName}\` is already defined: names are shared by every kind of definition`);
  }
  if (target.kind === 'column') {
    const used = templateUse(lookup, target.parent!.name, target.name);
    if (used) {
      throw new RenameRefused(
        `\`${target.name}\` is used in the message of sync \`${used.sync}\` (${used.span.file}:${used.span.line}), which a rename does not edit: rename it there by hand`,
      );
    }
  }
  // A backtick-quoted name has no escapes: one holding a backtick or a line break has no such spelling.
  const spellings = target.kind === 'column' && !/[`\n\r]/.test(exact) ? [...new Set([newName, `\`${exact}\``])] : [newName];
  const implicitFields = target.kind === 'column' ? mappingsWithoutField(lookup) : new Set<string>();
  const written = (span: Span) => lookup.project.text(span.file)?.slice(span.offset, span.endOffset) ?? '';
  const places: Place[] = [
    { span: target.span, spellings },
    ...referencesTo(lookup.index, target).map((r) => ({
      span: r.span,
      spellings: implicitFields.has(`${r.span.file}:${r.span.offset}`) ? spellings.map((s) => `${s} -> ${written(r.span)}`) : spellings,
    })),
  ];
  const choice = places.map(() => 0);
  for (;;) {
    const wrong = misread(lookup, target, places, choice);
    if (wrong.length === 0) break;
    const stuck = wrong.find((i) => choice[i]! + 1 >= places[i]!.spellings.length);
    if (stuck !== undefined) {
      const at = places[stuck]!.span;
      throw new RenameRefused(
        `\`${newName}\` cannot be written at ${at.file}:${at.line}: ${spellings.map((s) => `\`${s}\``).join(' or ')} would not name the ${target.kind} there`,
      );
    }
    for (const i of wrong) choice[i]!++;
  }
  const edits = new Map<string, TextEdit[]>();
  places.forEach((p, i) => {
    const list = edits.get(p.span.file) ?? [];
    list.push({ range: toRange(p.span, files), newText: p.spellings[choice[i]!]! });
    edits.set(p.span.file, list);
  });
  return edits;
}

/**
 * The places (indexes into `places`) that the project, with each place written as `choice`
 * says, does not read as the renamed symbol: the definition's name where it was, each
 * reference naming it.
 */
function misread(lookup: Lookup, target: SymbolDef, places: readonly Place[], choice: readonly number[]): number[] {
  // Where each place starts once the edits before it in its file are made.
  const moved = new Map<string, { place: number; from: number; to: number; text: string }[]>();
  places.forEach((p, i) => {
    const list = moved.get(p.span.file) ?? [];
    list.push({ place: i, from: p.span.offset, to: p.span.endOffset, text: p.spellings[choice[i]!]! });
    moved.set(p.span.file, list);
  });
  const starts = new Map<number, string>();
  const trees: SyncFile[] = [];
  const broken = new Set<string>();
  for (const path of lookup.project.paths) {
    const parsed = lookup.project.parsed(path);
    const edits = moved.get(path);
    if (!edits) {
      if (parsed) trees.push(parsed.ast);
      continue;
    }
    edits.sort((a, b) => a.from - b.from);
    const old = lookup.project.text(path) ?? '';
    let text = '';
    let at = 0;
    for (const e of edits) {
      text += old.slice(at, e.from);
      starts.set(e.place, `${path}:${text.length}`);
      text += e.text;
      at = e.to;
    }
    text += old.slice(at);
    const reparsed = parseFile(path, text);
    // A file that parsed before and does not now is misread wherever the rename writes in it.
    if (parsed?.ok && !reparsed.ok) broken.add(path);
    trees.push(reparsed.ast);
  }
  const index: SymbolIndex = indexProject(trees);
  const defAt = starts.get(0);
  const renamed = index.definitions.find((d) => d.kind === target.kind && `${d.span.file}:${d.span.offset}` === defAt);
  const named = new Set(renamed ? referencesTo(index, renamed).map((r) => `${r.span.file}:${r.span.offset}`) : []);
  return places.flatMap((p, i) => {
    if (broken.has(p.span.file)) return [i];
    if (i === 0) return renamed ? [] : [i];
    return named.has(starts.get(i)!) ? [] : [i];
  });
}

/**
 * A sync of `model` (read directly or through an audience) whose message template reads
 * `column` (a path's head, without case, as the checker finds columns): templates are text the
 * symbol index does not read. One that does not parse is taken to read it, to be safe.
 */
function templateUse(lookup: Lookup, model: string, column: string): { sync: string; span: Span } | undefined {
  const defs = lookup.project.paths.flatMap((path) => lookup.project.parsed(path)?.ast.definitions ?? []);
  const fromOf = (d: Definition) => (d.kind === 'audience' || d.kind === 'sync' ? d.items.find((i) => i.kind === 'from')?.name.text : undefined);
  const audiences = new Set(defs.filter((d) => d.kind === 'audience' && fromOf(d) === model).map((d) => d.name.text));
  const word = column.toLowerCase();
  for (const def of defs) {
    if (def.kind !== 'sync') continue;
    const from = fromOf(def);
    if (from !== model && !audiences.has(from ?? '')) continue;
    for (const item of def.items) {
      if (item.kind !== 'message') continue;
      const program = parsedTemplate(item.template.value);
      const reads = program
        ? templateUses(program).some((u) => u.kind === 'column' && u.head.toLowerCase() === word)
        : item.template.value.toLowerCase().includes(word);
      if (reads) return { sync: def.name.text, span: item.span };
    }
  }
  return undefined;
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

/** The outline of a file: its definitions, a model's columns under it. `lines`: the file's. */
export function documentSymbols(tree: SyncFile, lines: LineMap): DocumentSymbol[] {
  // A quoted name may be empty or blank (`""`): an editor refuses a symbol of such a name, and with it the whole outline, so it is shown as written.
  const shown = (name: { text: string; span: Span }) => (name.text.trim() !== '' ? name.text : lines.text.slice(name.span.offset, name.span.endOffset));
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
              DocumentSymbol.create(shown(c.name), `${c.type.name}${c.nullable ? '?' : ''}`, SymbolKind.Field, lines.range(c.span), lines.range(c.name.span)),
            );
        }
      }
    }
    out.push(
      DocumentSymbol.create(
        shown(def.name),
        detailOf(def),
        symbolKinds[def.kind],
        lines.range(def.span),
        lines.range(def.name.span),
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
  const lines = new LineMap(text);
  const out: FoldingRange[] = [];
  // A block keeps its closing `}` in sight.
  const block = (span: Span, kind?: FoldingRangeKind) => {
    const start = lines.line(span.offset);
    const last = lines.line(span.endOffset);
    const closing = text.slice(lines.lineStart(last), span.endOffset).trim() === '}';
    const end = last - (closing ? 1 : 0);
    if (end > start) out.push({ startLine: start, endLine: end, ...(kind ? { kind } : {}) });
  };
  for (const def of tree.definitions) {
    block(def.span);
    if (def.kind === 'model' || def.kind === 'sync') {
      for (const item of def.items) if (item.kind === 'columns' || item.kind === 'map' || item.kind === 'sql') block(item.span);
    }
  }
  // A run of line comments, each on its own line, by their first and last line.
  let run: number | undefined;
  let last: number | undefined;
  const flush = () => {
    if (run !== undefined && last !== undefined && last > run) out.push({ startLine: run, endLine: last, kind: FoldingRangeKind.Comment });
    run = last = undefined;
  };
  for (const c of tree.comments) {
    const line = lines.line(c.span.offset);
    if (c.text.startsWith('/*')) {
      flush();
      const end = lines.line(c.span.endOffset);
      if (end > line) out.push({ startLine: line, endLine: end, kind: FoldingRangeKind.Comment });
      continue;
    }
    const ownLine = text.slice(lines.lineStart(line), c.span.offset).trim() === '';
    if (ownLine && last !== undefined && line === last + 1) last = line;
    else {
      flush();
      if (ownLine) run = last = line;
    }
  }
  flush();
  return out.sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
}
