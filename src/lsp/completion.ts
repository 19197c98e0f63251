/**
 * Completion: what may be written at a position (context.ts), offered from the catalog and
 * the project: definition and item keywords, dialects and destination types, a type's
 * settings, the modes this destination takes for this sync (the mode matrix), object kinds,
 * formats, the names of sources, models, audiences and destinations, the columns of the
 * model being read, and the fields of a destination whose set is closed.
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem } from 'vscode-languageserver/node';
import {
  audienceModes,
  columnTypes,
  destinationTypes,
  getDestinationType,
  getSourceSettingsSchema,
  recordModes,
  takesAudiences,
  takesRecords,
  type DestinationType,
} from '../catalog/index.js';
import { code, escapeMarkdown } from '../diagnostics/markdown.js';
import { dialectNames } from '../dialect/index.js';
import type { SymbolDef } from '../check/symbols.js';
import { audienceItems, contextAt, modelItems, syncItems, type Context, type Expect } from './context.js';
import { destinationTypeDoc, dialectDoc, keywordDocs, modeDoc, settingDoc, settingsOf } from './docs.js';
import { closedFields, type Lookup } from './lookup.js';

const markdown = (value: string) => ({ kind: MarkupKind.Markdown, value });

const definitionSnippets: Record<string, string> = {
  source: 'source ${1:warehouse} : ${2|postgres,snowflake,bigquery|} {\n\t$0\n}',
  model:
    'model ${1:name} {\n\tfrom        ${2:warehouse}\n\ttable       ${3:schema.table}\n\tprimary key ${4:id}\n\tcolumns {\n\t\t${4:id} ${5:bigint}\n\t\t$0\n\t}\n}',
  audience: 'audience ${1:name} {\n\tfrom  ${2:model}\n\twhere ${0:condition}\n}',
  destination: 'destination ${1:name} : ${2:type} {\n\t$0\n}',
  sync: 'sync ${1:name} {\n\tfrom       ${2:model}\n\tto         ${3:destination}\n\tmode       ${4:upsert}\n\tidentifier ${5:column} -> ${6:field}\n\t$0\n}',
};

const kindOfSymbol: Record<SymbolDef['kind'], CompletionItemKind> = {
  source: CompletionItemKind.Module,
  destination: CompletionItemKind.Interface,
  model: CompletionItemKind.Class,
  audience: CompletionItemKind.Enum,
  sync: CompletionItemKind.Function,
  column: CompletionItemKind.Field,
};

function keyword(word: string, kind: CompletionItemKind = CompletionItemKind.Keyword): CompletionItem {
  const doc = keywordDocs[word];
  return { label: word, kind, ...(doc ? { documentation: markdown(doc) } : {}) };
}

/** The completions at `offset` of `file` (its text `text`). */
export function completionsAt(lookup: Lookup, file: string, text: string, offset: number): CompletionItem[] {
  const context = contextAt(text, offset);
  if (!context) return [];
  const items = offer(lookup, file, offset, context, context.expect);
  // Keep the order given: what fits best first.
  return items.map((item, i) => ({ ...item, sortText: String(i).padStart(4, '0') }));
}

function offer(lookup: Lookup, file: string, offset: number, context: Context, expect: Expect): CompletionItem[] {
  const around = () => lookup.definitionAround(file, offset);
  switch (expect.what) {
    case 'definition':
      return Object.entries(definitionSnippets).map(([word, snippet]) => ({
        ...keyword(word),
        insertText: snippet,
        insertTextFormat: InsertTextFormat.Snippet,
      }));
    case 'dialect':
      return dialectNames.map((d) => ({ label: d, kind: CompletionItemKind.EnumMember, documentation: markdown(dialectDoc(d)) }));
    case 'destinationType':
      return [...destinationTypes.values()].map((t) => ({
        label: t.type,
        kind: CompletionItemKind.Class,
        detail: `${t.title} (${t.category})`,
        documentation: markdown(destinationTypeDoc(t)),
      }));
    case 'setting': {
      const block = settingsBlock(context);
      if (!block) return [];
      return settingsOf(block.schema)
        .filter((s) => !expect.present.includes(s.name))
        .map((s) => ({
          label: s.name,
          kind: CompletionItemKind.Property,
          detail: s.secret ? 'secret: env("NAME")' : s.kind,
          documentation: markdown(settingDoc(s, block.owner)),
          ...(s.secret ? { insertText: `${s.name} env("\${1:${s.name.toUpperCase()}}")`, insertTextFormat: InsertTextFormat.Snippet } : {}),
        }));
    }
    case 'settingValue': {
      const block = settingsBlock(context);
      const setting = block && settingsOf(block.schema).find((s) => s.name === expect.setting);
      const values: CompletionItem[] = [];
      if (setting && !setting.secret) {
        for (const v of setting.values ?? []) values.push({ label: typeof v === 'string' ? JSON.stringify(v) : String(v), kind: CompletionItemKind.Value });
        if (setting.kind.startsWith('`true`'))
          values.push({ label: 'true', kind: CompletionItemKind.Value }, { label: 'false', kind: CompletionItemKind.Value });
      }
      values.push({
        label: 'env("…")',
        kind: CompletionItemKind.Function,
        insertText: 'env("${1:NAME}")',
        insertTextFormat: InsertTextFormat.Snippet,
        documentation: markdown('the value of an environment variable where the sync runs'),
      });
      return values;
    }
    case 'item': {
      const all = context.block === 'model' ? modelItems : context.block === 'audience' ? audienceItems : syncItems;
      return all.filter((k) => !expect.present.includes(k)).map((k) => keyword(k));
    }
    case 'reference':
      return lookup.named(expect.kinds).map((d) => ({
        label: d.name,
        kind: kindOfSymbol[d.kind],
        detail: `${d.kind} (${d.span.file}:${d.span.line})`,
      }));
    case 'column':
      return [...columnItems(lookup, around()), ...(expect.also ?? []).map((w) => keyword(w))];
    case 'columnType':
      return columnTypes.map((t) =>
        t === 'decimal'
          ? { label: 'decimal', kind: CompletionItemKind.TypeParameter, insertText: 'decimal(${1:12}, ${2:2})', insertTextFormat: InsertTextFormat.Snippet }
          : { label: t, kind: CompletionItemKind.TypeParameter },
      );
    case 'keywords':
      return [...expect.words.map((w) => keyword(w)), ...(expect.orItem ? offer(lookup, file, offset, context, { what: 'item', present: [] }) : [])];
    case 'mode': {
      const sync = around();
      const dest = sync && lookup.destinationOf(sync);
      const kind = sync && lookup.syncKind(sync);
      const modes =
        dest?.type && kind ? (kind === 'record' ? dest.type.recordModes : dest.type.audienceModes) : kind === 'audience' ? audienceModes : recordModes;
      return modes.map((m) => ({ label: m, kind: CompletionItemKind.EnumMember, documentation: markdown(modeDoc(m, kind, dest?.type)) }));
    }
    case 'objectKind': {
      const sync = around();
      const type = sync && lookup.destinationOf(sync)?.type;
      const audience = sync && lookup.syncKind(sync) === 'audience';
      const kinds = (type?.objectKinds ?? []).filter((k) => (audience ? takesAudiences(k) : takesRecords(k)));
      return [
        ...kinds.map((k) => ({ label: k.kind, kind: CompletionItemKind.EnumMember, detail: k.describes })),
        ...offer(lookup, file, offset, context, { what: 'item', present: [] }),
      ];
    }
    case 'field': {
      const sync = around();
      const type = sync && lookup.destinationOf(sync)?.type;
      const closed =
        sync && type ? closedFields(type, lookup.objectKindOf(sync, type), lookup.syncKind(sync) ?? 'record', expect.identifier) : { names: [], describes: '' };
      if (closed.names.length > 0) return closed.names.map((f) => ({ label: f, kind: CompletionItemKind.Field, detail: closed.describes }));
      // An open set: the column's own name is the likeliest field.
      return expect.column ? [{ label: expect.column, kind: CompletionItemKind.Field }] : [];
    }
    case 'format': {
      const sync = around();
      const type = sync && lookup.destinationOf(sync)?.type;
      return (type?.formats ?? []).map((f) => ({ label: f, kind: CompletionItemKind.EnumMember }));
    }
    case 'condition':
      if (expect.after === 'operand') return columnItems(lookup, around());
      if (expect.after === 'column')
        return ['in', 'not in', 'is null', 'is not null', 'like', 'not like', 'between'].map((w) => keyword(w, CompletionItemKind.Operator));
      return ['and', 'or'].map((w) => keyword(w, CompletionItemKind.Operator));
  }
}

/** The columns of the model a definition reads, each with its declaration. */
function columnItems(lookup: Lookup, definition: SymbolDef | undefined): CompletionItem[] {
  const model = definition && lookup.modelOf(definition);
  if (!model) return [];
  return lookup.columns(model).map((c) => ({
    label: c.name,
    kind: CompletionItemKind.Field,
    detail: lookup.project.text(c.span.file)?.slice(c.extent.offset, c.extent.endOffset).replace(/\s+/g, ' '),
    documentation: markdown(`column of model ${code(model.name, false)} (${escapeMarkdown(`${c.span.file}:${c.span.line}`)})`),
  }));
}

/** The settings schema of the block the position is in, and what owns it. */
function settingsBlock(context: Context): { schema: Record<string, unknown>; owner: string } | undefined {
  const d = context.definition;
  if (!d?.type) return undefined;
  if (d.keyword === 'source') {
    const schema = getSourceSettingsSchema(d.type);
    return schema ? { schema, owner: `${d.type} source` } : undefined;
  }
  const type: DestinationType | undefined = getDestinationType(d.type);
  return type ? { schema: type.settings, owner: type.type } : undefined;
}
