/**
 * AST -> layout tree for the formatter: every printed line is a row (`key value`) or a group
 * (`head {` rows and groups `}`). Each node keeps the source range it came from, which is how
 * comments find their place. A `where` condition too long for one line is its row followed by
 * rows that continue it.
 */
import type * as A from './ast.js';
import { largest } from '../numbers.js';
import { conditionLines } from './format-condition.js';
import type { CodeScanner, Range } from './format-scan.js';
import {
  exprText,
  identText,
  indentUnit,
  mappingTargetText,
  mappingText,
  orderKeysText,
  pathText,
  settingValueText,
  targetText,
  typeText,
  width,
} from './format-values.js';

/** One line. Rows with a value in one block share a key column; a row without one is printed as its key. */
export interface LayoutRow {
  kind: 'row';
  key: string;
  value: string;
  span: Range;
  /** On a line that continues the row before it: this many levels deeper than the block, outside its key column. */
  continues?: number;
}

/** `head {` children `}`: the span runs from the head's first token to the closing brace. */
export interface LayoutGroup {
  kind: 'group';
  head: string;
  children: LayoutNode[];
  span: Range;
}

export type LayoutNode = LayoutRow | LayoutGroup;

/** Whether a row is in its block's key column: not when its value spans lines (a """string""") or it continues a condition. */
export function aligned(row: LayoutRow): boolean {
  return row.value !== '' && !row.value.includes('\n') && row.continues === undefined;
}

/** How wide the key column of a block is. */
export function keyWidth(children: LayoutNode[]): number {
  return largest(children.map((n) => (n.kind === 'row' && aligned(n) ? width(n.key) : 0)));
}

/** Items of a definition sit one level in. */
const definitionItemColumn = indentUnit.length;

function row(key: string, value: string, span: Range): LayoutRow {
  return { kind: 'row', key, value, span };
}

function group(head: string, children: LayoutNode[], span: Range): LayoutGroup {
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
    case 'dbt':
      return row('dbt', identText(item.model, source), item.span);
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
  return item.kind === 'from' ? row('from', identText(item.name, source), item.span) : row('where', exprText(item.expr, source), item.span);
}

/** The `where` row, ending where its first line does, then the rows that continue it. */
function whereRows(item: Extract<A.AudienceItem, { kind: 'where' }>, column: number, source: string, scanner: CodeScanner): LayoutRow[] {
  const [first, ...rest] = conditionLines(item.expr, { first: column, row: definitionItemColumn }, source, scanner);
  if (!first) return [];
  return [
    row('where', first.text, { offset: item.span.offset, endOffset: first.range.endOffset }),
    ...rest.map((line): LayoutRow => ({ ...row('', line.text, line.range), continues: line.depth })),
  ];
}

/** The condition starts after the block's key column, which its one-line rows decide. */
function audienceRows(def: A.AudienceDef, source: string, scanner: CodeScanner): LayoutRow[] {
  const rows = def.items.map((i) => audienceItem(i, source));
  const column = definitionItemColumn + keyWidth(rows) + 1;
  return def.items.flatMap((item, i) => (item.kind === 'where' ? whereRows(item, column, source, scanner) : rows.slice(i, i + 1)));
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
        item.mappings.map((m) => (m.field ? row(identText(m.column, source), mappingTargetText(m), m.span) : row(mappingText(m, source), '', m.span))),
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

function definition(def: A.Definition, source: string, scanner: CodeScanner): LayoutGroup {
  const name = identText(def.name, source);
  switch (def.kind) {
    case 'source':
      return group(`source ${name} : ${identText(def.dialect, source)}`, settingRows(def.settings, source), def.span);
    case 'destination':
      return group(`destination ${name} : ${identText(def.type, source)}`, settingRows(def.settings, source), def.span);
    case 'model':
      return group(
        `model ${name}`,
        def.items.map((i) => modelItem(i, source)),
        def.span,
      );
    case 'audience':
      return group(`audience ${name}`, audienceRows(def, source, scanner), def.span);
    case 'sync':
      return group(
        `sync ${name}`,
        def.items.map((i) => syncItem(i, source)),
        def.span,
      );
  }
}

/** The definitions of a file as layout groups, in source order. */
export function layoutFile(ast: A.SyncFile, source: string, scanner: CodeScanner): LayoutGroup[] {
  return ast.definitions.map((d) => definition(d, source, scanner));
}
