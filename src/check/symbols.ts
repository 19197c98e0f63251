/**
 * The symbol index of a project: every name a definition gives (sources, destinations,
 * models, audiences, syncs, and the columns of models) and every reference to one, resolved
 * to the definition it names. It is read off the trees of all files, those with syntax errors
 * too (a placeholder is a reference with no name, which is what completion needs), and does
 * not depend on the checker's verdicts: what an editor needs for go to definition, find
 * references, rename, the outline of a file and completion.
 *
 * Names resolve as the checker resolves them: definitions share one namespace and the first
 * of a name is the one used; a column reference names a column of the model it reads, folded
 * by that model's warehouse dialect. References in message templates (`{{email}}`) are not
 * indexed.
 */
import type { Definition, Expr, Ident, SyncFile } from '../syntax/ast.js';
import type { Span } from '../span.js';
import { dialectNames, nameKey } from '../dialect/index.js';
import type { Dialect } from './model.js';

export type SymbolKind = 'source' | 'destination' | 'model' | 'audience' | 'sync' | 'column';

export interface SymbolDef {
  kind: SymbolKind;
  name: string;
  /** The name where it is defined: where "go to definition" lands and what a rename rewrites. */
  span: Span;
  /** All of it: the whole definition, or a column's declaration (`email string?`). */
  extent: Span;
  /** The model a column belongs to. */
  parent?: SymbolDef;
}

export interface SymbolRef {
  /** The name as the reference writes it; empty where it is missing (a syntax error). */
  name: string;
  span: Span;
  /** The kinds of definition it may name: `from` in a sync takes a model or an audience. */
  accepts: SymbolKind[];
  /** For a column: the model whose columns it names, when that model is known. */
  scope?: SymbolDef;
  /** The definition it names; absent when it names none. */
  target?: SymbolDef;
}

export interface SymbolIndex {
  /** In file order, each model followed by its columns. */
  definitions: SymbolDef[];
  /** In file order. */
  references: SymbolRef[];
}

/** How a dialect reads a name; a model whose source is unknown reads bare names case-insensitively, as every dialect compares two bare names. */
function keyOf(dialect: Dialect | undefined, name: Pick<Ident, 'text' | 'quoted'>): string {
  return dialect ? nameKey(dialect, name) : name.quoted ? name.text : name.text.toLowerCase();
}

/** A definition and its symbol. */
interface Named {
  symbol: SymbolDef;
  def: Definition;
}

export function indexProject(files: readonly SyncFile[]): SymbolIndex {
  const definitions: SymbolDef[] = [];
  const references: SymbolRef[] = [];
  const first = new Map<string, Named>();
  const symbols = new Map<Definition, SymbolDef>();
  const columns = new Map<SymbolDef, { symbol: SymbolDef; name: Ident }[]>();

  for (const file of files) {
    for (const def of file.definitions) {
      if (def.name.missing) continue;
      const symbol: SymbolDef = { kind: def.kind, name: def.name.text, span: def.name.span, extent: def.span };
      definitions.push(symbol);
      symbols.set(def, symbol);
      if (!first.has(symbol.name)) first.set(symbol.name, { symbol, def });
      if (def.kind !== 'model') continue;
      const own: { symbol: SymbolDef; name: Ident }[] = [];
      for (const item of def.items) {
        if (item.kind !== 'columns') continue;
        for (const c of item.columns) {
          if (c.name.missing) continue;
          const column: SymbolDef = { kind: 'column', name: c.name.text, span: c.name.span, extent: c.span, parent: symbol };
          definitions.push(column);
          own.push({ symbol: column, name: c.name });
        }
      }
      columns.set(symbol, own);
    }
  }

  // An empty name (missing, or quoted as "") names nothing: the checker reports it, and nothing links it.
  const namesNothing = (name: Ident) => name.missing || name.text === '';
  /** The definition of `name` when it is of a kind `accepts` holds. */
  const lookup = (name: Ident, accepts: SymbolKind[]) => {
    const found = namesNothing(name) ? undefined : first.get(name.text);
    return found && accepts.includes(found.symbol.kind) ? found : undefined;
  };
  const refer = (name: Ident, accepts: SymbolKind[]) => {
    const ref: SymbolRef = { name: name.text, span: name.span, accepts };
    const found = lookup(name, accepts);
    if (found) ref.target = found.symbol;
    references.push(ref);
    return found;
  };

  // A model's dialect and its columns by how the dialect reads them, the first of a name winning; made when first needed.
  const readers = new Map<SymbolDef, { dialect: Dialect | undefined; keys: Map<string, SymbolDef> }>();
  const readerOf = (model: Named) => {
    let reader = readers.get(model.symbol);
    if (!reader) {
      const from = model.def.kind === 'model' ? model.def.items.find((i) => i.kind === 'from') : undefined;
      const source = from ? lookup(from.name, ['source'])?.def : undefined;
      const name = source?.kind === 'source' ? source.dialect.text : '';
      const dialect = (dialectNames as readonly string[]).includes(name) ? (name as Dialect) : undefined;
      const keys = new Map<string, SymbolDef>();
      for (const c of columns.get(model.symbol) ?? []) {
        const key = keyOf(dialect, c.name);
        if (!keys.has(key)) keys.set(key, c.symbol);
      }
      readers.set(model.symbol, (reader = { dialect, keys }));
    }
    return reader;
  };
  const referColumn = (name: Ident, model: Named | undefined) => {
    const ref: SymbolRef = { name: name.text, span: name.span, accepts: ['column'] };
    if (model) {
      ref.scope = model.symbol;
      const reader = readerOf(model);
      const target = namesNothing(name) ? undefined : reader.keys.get(keyOf(reader.dialect, name));
      if (target) ref.target = target;
    }
    references.push(ref);
  };

  for (const file of files) {
    for (const def of file.definitions) {
      const symbol = symbols.get(def);
      if (!symbol) continue;
      // A second definition of a name is indexed too; the columns its own items name are its own.
      const own: Named = { symbol, def };
      switch (def.kind) {
        case 'model':
          for (const item of def.items) {
            if (item.kind === 'from') refer(item.name, ['source']);
            else if (item.kind === 'primaryKey') referColumn(item.column, own);
            else if (item.kind === 'orderBy') for (const k of item.keys) referColumn(k.column, own);
          }
          break;
        case 'audience': {
          let model: Named | undefined;
          for (const item of def.items) {
            if (item.kind === 'from') model = refer(item.name, ['model']);
            else for (const name of columnsOf(item.expr)) referColumn(name, model);
          }
          break;
        }
        case 'sync': {
          let model: Named | undefined;
          for (const item of def.items) {
            if (item.kind === 'from') {
              const read = refer(item.name, ['model', 'audience']);
              // An audience's columns are those of the model it selects from.
              const from = read?.def.kind === 'audience' ? read.def.items.find((i) => i.kind === 'from') : undefined;
              model = read?.def.kind === 'audience' ? from && lookup(from.name, ['model']) : read;
            } else if (item.kind === 'to') refer(item.destination, ['destination', 'source']);
            else if (item.kind === 'identifier') referColumn(item.mapping.column, model);
            else if (item.kind === 'map') for (const m of item.mappings) referColumn(m.column, model);
          }
          break;
        }
        default:
          break;
      }
    }
  }
  return { definitions, references };
}

/** The column names a condition reads, in order; walked with a stack, as a condition may nest as deep as it is long. */
function columnsOf(e: Expr): Ident[] {
  const names: Ident[] = [];
  const stack: Expr[] = [e];
  while (stack.length > 0) {
    const x = stack.pop()!;
    switch (x.kind) {
      case 'logical':
        stack.push(x.right, x.left);
        break;
      case 'not':
      case 'paren':
        stack.push(x.expr);
        break;
      case 'compare':
        stack.push(x.right, x.left);
        break;
      case 'in':
      case 'isNull':
      case 'like':
        stack.push(x.operand);
        break;
      case 'between':
        stack.push(x.high, x.low, x.operand);
        break;
      case 'column':
        names.push(x.name);
        break;
      case 'literal':
        break;
    }
  }
  return names;
}

/** The definition a position names, as a definition's name or through a reference; `offset` may be just past the name. */
export function symbolAt(index: SymbolIndex, file: string, offset: number): { definition: SymbolDef; reference?: SymbolRef } | undefined {
  const on = (s: Span) => s.file === file && s.offset <= offset && offset <= s.endOffset;
  const reference = index.references.find((r) => r.target && on(r.span));
  if (reference) return { definition: reference.target!, reference };
  const definition = index.definitions.find((d) => on(d.span));
  return definition ? { definition } : undefined;
}

/** Every reference to a definition, in file order. */
export function referencesTo(index: SymbolIndex, definition: SymbolDef): SymbolRef[] {
  return index.references.filter((r) => r.target === definition);
}

/**
 * Where a name is being written at `offset` of `file` (`text`): the reference, and the
 * definitions it may name (the first of each name; for a column, those of its model). The
 * cursor may be on the name, just past it, or after the blanks that follow a keyword whose
 * name is missing (`from |`).
 */
export function completionAt(index: SymbolIndex, file: string, text: string, offset: number): { reference: SymbolRef; candidates: SymbolDef[] } | undefined {
  const before = text.slice(0, offset).replace(/[ \t]+$/, '').length;
  const reference = index.references.find(
    (r) => r.span.file === file && ((r.span.offset <= offset && offset <= r.span.endOffset) || (r.name === '' && r.span.offset === before)),
  );
  if (!reference) return undefined;
  // The first definition of each name, as names resolve: among the columns of one model, or among all others.
  const seen = new Set<string>();
  const candidates = index.definitions.filter((d) => {
    const key = d.kind === 'column' ? `${d.parent?.span.file}:${d.parent?.span.offset} ${d.name}` : d.name;
    const firstOfName = !seen.has(key);
    seen.add(key);
    return firstOfName && reference.accepts.includes(d.kind) && (d.kind !== 'column' || d.parent === reference.scope);
  });
  return { reference, candidates };
}
