/**
 * Hovers: a destination type's modes and limits with the matrix's reason, a dialect's rule
 * for names, a setting's description, a mode's meaning for this sync's destination, a name's
 * definition (a column's type and where it is declared), a keyword's use.
 */
import { MarkupKind, type Hover } from 'vscode-languageserver/node';
import { getDestinationType, getSourceSettingsSchema, isSourceDialect } from '../catalog/index.js';
import { code, escapeMarkdown } from '../diagnostics/markdown.js';
import { symbolAt, type SymbolDef } from '../check/symbols.js';
import type { Definition } from '../syntax/ast.js';
import { Lines, type Span } from '../span.js';
import { lex } from '../syntax/tokens.js';
import { toRange, type Files } from './convert.js';
import { destinationTypeDoc, dialectDoc, keywordDocs, modeDoc, settingDoc, settingsOf } from './docs.js';
import type { Lookup } from './lookup.js';

const on = (span: Span, offset: number) => span.offset <= offset && offset <= span.endOffset && span.endOffset > span.offset;
/** A hover's text and the span it is about, placed in the client's terms last. */
interface Shown {
  value: string;
  span: Span;
}
const hover = (value: string, span: Span): Shown => ({ value, span });
/** Names, a column's text and files are the project's: in a code span, or escaped, they write no markup into the hover. */
const name = (text: string | undefined) => code(text ?? '', false);
const where = (s: SymbolDef) => escapeMarkdown(`${s.span.file}:${s.span.line}`);

export function hoverAt(lookup: Lookup, file: string, offset: number, files: Files): Hover | undefined {
  const shown = shownAt(lookup, file, offset);
  return shown && { contents: { kind: MarkupKind.Markdown, value: shown.value }, range: toRange(shown.span, files) };
}

function shownAt(lookup: Lookup, file: string, offset: number): Shown | undefined {
  const found = symbolAt(lookup.index, file, offset);
  if (found) return hover(describe(lookup, found.definition), found.reference?.span ?? found.definition.span);
  const def = lookup.project.parsed(file)?.ast.definitions.find((d) => d.span.offset <= offset && offset <= d.span.endOffset);
  return (def && inDefinition(lookup, def, offset)) ?? onKeyword(file, lookup.project.text(file) ?? '', offset);
}

/** What a name names. */
function describe(lookup: Lookup, s: SymbolDef): string {
  const text = (span: Span) => lookup.project.text(span.file)?.slice(span.offset, span.endOffset) ?? '';
  switch (s.kind) {
    case 'column':
      return `**column** ${name(text(s.extent).replace(/\s+/g, ' '))} of model ${name(s.parent?.name)}, declared at ${where(s)}`;
    case 'destination':
    case 'source': {
      const type = lookup.typeOf(s);
      const tree = lookup.tree(s);
      const head = `**${s.kind}** ${name(s.name)}${tree && (tree.kind === 'destination' || tree.kind === 'source') ? ` : ${tree.kind === 'destination' ? tree.type.text : tree.dialect.text}` : ''}, defined at ${where(s)}`;
      if (s.kind === 'source' && tree?.kind === 'source' && isSourceDialect(tree.dialect.text)) {
        return `${head}\n\n${dialectDoc(tree.dialect.text)}  \nalso a warehouse destination: \`to ${s.name} table schema.name\``;
      }
      return type ? `${head}\n\n${destinationTypeDoc(type)}` : head;
    }
    case 'model': {
      const columns = lookup.columns(s).length;
      return `**model** ${name(s.name)}, defined at ${where(s)}: ${columns} column${columns === 1 ? '' : 's'}`;
    }
    case 'audience': {
      const model = lookup.modelOf(s);
      return `**audience** ${name(s.name)}, defined at ${where(s)}${model ? `: rows of model ${name(model.name)}` : ''}`;
    }
    case 'sync': {
      const dest = lookup.destinationOf(s);
      const tree = lookup.tree(s);
      const mode = tree?.kind === 'sync' ? tree.items.find((i) => i.kind === 'mode') : undefined;
      return `**sync** ${name(s.name)}, defined at ${where(s)}${dest ? ` → ${name(dest.symbol.name)}${dest.type ? ` (${dest.type.type})` : ''}` : ''}${mode?.kind === 'mode' ? `, mode ${mode.mode.text}` : ''}`;
    }
  }
}

/** The catalog's words inside a definition: a type, a dialect, a setting, a mode, an object kind. */
function inDefinition(lookup: Lookup, def: Definition, offset: number): Shown | undefined {
  switch (def.kind) {
    case 'destination': {
      const type = def.type.missing ? undefined : getDestinationType(def.type.text);
      if (type && on(def.type.span, offset)) return hover(destinationTypeDoc(type), def.type.span);
      const setting = def.settings.find((s) => on(s.name.span, offset));
      const info = type && setting && settingsOf(type.settings).find((s) => s.name === setting.name.text);
      return info ? hover(settingDoc(info, type.type), setting!.name.span) : undefined;
    }
    case 'source': {
      const dialect = def.dialect.text;
      if (isSourceDialect(dialect) && on(def.dialect.span, offset)) return hover(dialectDoc(dialect), def.dialect.span);
      const setting = def.settings.find((s) => on(s.name.span, offset));
      const schema = getSourceSettingsSchema(dialect);
      const info = schema && setting && settingsOf(schema).find((s) => s.name === setting.name.text);
      return info ? hover(settingDoc(info, `${def.dialect.text} source`), setting!.name.span) : undefined;
    }
    case 'sync': {
      const sync = lookup.index.definitions.find((d) => d.kind === 'sync' && d.extent.offset === def.span.offset && d.span.file === def.span.file);
      const dest = sync && lookup.destinationOf(sync);
      for (const item of def.items) {
        if (item.kind === 'mode' && !item.mode.missing && on(item.mode.span, offset)) {
          return hover(modeDoc(item.mode.text, sync && lookup.syncKind(sync), dest?.type), item.mode.span);
        }
        if (item.kind === 'to' && item.objectKind && on(item.objectKind.span, offset)) {
          const kind = dest?.type?.objectKinds.find((k) => k.kind === item.objectKind!.text);
          if (kind) return hover(`**${kind.kind}** (${dest!.type!.type}): ${kind.describes}`, item.objectKind.span);
        }
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A keyword's use: `guard`, `identifier`, `hashed`, `order by`... (a word inside a string or comment is none). */
function onKeyword(file: string, text: string, offset: number): Shown | undefined {
  const tokens = lex(text).tokens;
  const i = tokens.findIndex((t) => t.startOffset <= offset && offset <= t.startOffset + t.image.length);
  const token = tokens[i];
  if (!token) return undefined;
  const two = token.image === 'primary' || token.image === 'order';
  const word = two ? `${token.image} ${tokens[i + 1]?.image ?? ''}` : token.image;
  const doc = keywordDocs[word];
  if (!doc) return undefined;
  // The span is of this file (the client's range is read off its lines), over both words of `primary key`.
  const last = two ? tokens[i + 1]! : token;
  const span = new Lines(file, text).span(token.startOffset, last.startOffset + last.image.length);
  return hover(`**${word}**: ${doc}`, span);
}
