/**
 * AST -> layout tree for the formatter: every printed line is a row (`key value`) or a group
 * (`head {` rows and groups `}`). Each node keeps the span it came from, which is how
 * comments find their place.
 */
import type * as A from './ast.js';
import type { Span } from './span.js';
import {
  exprText,
  identText,
  mappingTargetText,
  mappingText,
  orderKeysText,
  pathText,
  settingValueText,
  targetText,
  typeText,
} from './format-values.js';

/** One line. Rows with a value in one block share a key column; a row without one is printed as its key. */
export interface LayoutRow {
  kind: 'row';
  key: string;
  value: string;
  span: Span;
}

/** `head {` children `}`: the span runs from the head's first token to the closing brace. */
export interface LayoutGroup {
  kind: 'group';
  head: string;
  children: LayoutNode[];
  span: Span;
}

export type LayoutNode = LayoutRow | LayoutGroup;

function row(key: string, value: string, span: Span): LayoutRow {
  return { kind: 'row', key, value, span };
}

function group(head: string, children: LayoutNode[], span: Span): LayoutGroup {
  return { kind: 'group', head, children, span };
}

function settingRows(settings: A.Setting[], source: string): LayoutRow[] {
  return settings.map((s) => row(identText(s.name, source), settingValueText(s.value, source), s.span));
}

function modelItem(item: A.ModelItem, source: string): LayoutNode {
  switch (item.kind) {
    case 'from':
      return row('from', identText(item.name, source), item.span);
    case 'table':
      return row('table', pathText(item.path, source), item.span);
    case 'sql':
      return row('sql', item.query.raw, item.span);
    case 'primaryKey':
      return row('primary key', identText(item.column, source), item.span);
    case 'orderBy':
      return row('order by', orderKeysText(item.keys, source), item.span);
    case 'columns':
      return group(
        'columns',
        item.columns.map((c) => row(identText(c.name, source), typeText(c.type) + (c.nullable ? '?' : ''), c.span)),
        item.span,
      );
  }
}

function audienceItem(item: A.AudienceItem, source: string): LayoutRow {
  return item.kind === 'from'
    ? row('from', identText(item.name, source), item.span)
    : row('where', exprText(item.expr, source), item.span);
}

function syncItem(item: A.SyncItem, source: string): LayoutNode {
  switch (item.kind) {
    case 'from':
      return row('from', identText(item.name, source), item.span);
    case 'to':
      return row('to', targetText(item, source), item.span);
    case 'mode':
      return row('mode', identText(item.mode, source), item.span);
    case 'identifier':
      return row('identifier', mappingText(item.mapping, source), item.span);
    case 'map':
      // A mapping without `->` has nothing to align, so it is all key.
      return group(
        'map',
        item.mappings.map((m) =>
          m.field
            ? row(identText(m.column, source), mappingTargetText(m), m.span)
            : row(mappingText(m, source), '', m.span),
        ),
        item.span,
      );
    case 'batch':
      return row('batch', item.size.raw, item.span);
    case 'guardDeletes':
      return row('guard', `deletes <= ${item.limit.raw}${item.percent ? '%' : ''}`, item.span);
    case 'guardAllowEmpty':
      return row('guard', 'allow empty', item.span);
    case 'schedule':
      return row('schedule', item.cron.raw, item.span);
    case 'message':
      return row('message', item.template.raw, item.span);
    case 'format':
      return row('format', identText(item.format, source), item.span);
  }
}

function definition(def: A.Definition, source: string): LayoutGroup {
  const name = identText(def.name, source);
  switch (def.kind) {
    case 'source':
      return group(`source ${name} : ${identText(def.dialect, source)}`, settingRows(def.settings, source), def.span);
    case 'destination':
      return group(`destination ${name} : ${identText(def.type, source)}`, settingRows(def.settings, source), def.span);
    case 'model':
      return group(`model ${name}`, def.items.map((i) => modelItem(i, source)), def.span);
    case 'audience':
      return group(`audience ${name}`, def.items.map((i) => audienceItem(i, source)), def.span);
    case 'sync':
      return group(`sync ${name}`, def.items.map((i) => syncItem(i, source)), def.span);
  }
}

/** The definitions of a file as layout groups, in source order. */
export function layoutFile(ast: A.SyncFile, source: string): LayoutGroup[] {
  return ast.definitions.map((d) => definition(d, source));
}
