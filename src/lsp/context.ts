/**
 * Where in the language a position is, read off the tokens before it: which block (the top
 * level, a source's or destination's settings, a model, its `columns`, an audience, a sync,
 * its `map`) and what the item being written there expects next. Tokens rather than the tree,
 * since the text being typed is most often not yet valid: `mo`, `mode `, `to crm `.
 */
import type { IToken } from 'chevrotain';
import { lex } from '../syntax/tokens.js';

export type Block = 'top' | 'source' | 'destination' | 'model' | 'columns' | 'audience' | 'sync' | 'map' | 'other';

/** What may be written at the position. */
export type Expect =
  | { what: 'definition' }
  | { what: 'dialect' }
  | { what: 'destinationType' }
  | { what: 'setting'; present: string[] }
  | { what: 'settingValue'; setting: string }
  | { what: 'item'; present: string[] }
  | { what: 'reference'; kinds: ('source' | 'model' | 'audience' | 'destination')[] }
  | { what: 'column'; also?: string[] }
  | { what: 'columnType' }
  | { what: 'keywords'; words: string[]; orItem?: boolean }
  | { what: 'mode' }
  | { what: 'objectKind' }
  | { what: 'field'; identifier: boolean; column: string }
  | { what: 'format' }
  | { what: 'condition'; after: 'operand' | 'column' | 'value' };

export interface Context {
  block: Block;
  /** The head of the definition the position is in: `sync users_to_crm`, `destination crm : hubspot`. */
  definition?: { keyword: string; name?: string; type?: string };
  expect: Expect;
  /** The word being written, up to the position: what the editor filters by. */
  word: { start: number; text: string };
}

const definitionKeywords = ['source', 'model', 'audience', 'destination', 'sync'];
export const modelItems = ['from', 'table', 'sql', 'primary key', 'order by', 'columns'];
export const audienceItems = ['from', 'where'];
export const syncItems = ['from', 'to', 'mode', 'identifier', 'map', 'batch', 'guard', 'schedule', 'message', 'format'];

const isName = (t: IToken | undefined): t is IToken => t !== undefined && /^[A-Za-z_]/.test(t.image);
const isString = (t: IToken | undefined) => t !== undefined && /^["'`]/.test(t.image) && t.tokenType.name !== 'Backtick';
const isValue = (t: IToken | undefined) =>
  t !== undefined && (isString(t) || /^-?\d/.test(t.image) || t.image === 'true' || t.image === 'false' || t.image === 'null');

interface Frame {
  block: Block;
  /** Tokens before the `{`: the definition's head, or `columns` / `map`. */
  head: IToken[];
  /** Tokens inside the block so far; a nested block appears as its `{` and `}`. */
  body: IToken[];
}

/** The context at `offset` of `text`, or undefined inside a comment or a string. */
export function contextAt(text: string, offset: number): Context | undefined {
  const lexed = lex(text);
  const inside = (t: IToken, closedAtEnd: boolean) =>
    t.startOffset < offset && (offset < t.startOffset + t.image.length || (!closedAtEnd && offset === t.startOffset + t.image.length));
  for (const c of lexed.groups.comments ?? []) if (inside(c, c.image.startsWith('/*') && c.image.endsWith('*/'))) return undefined;
  for (const s of lexed.groups.slips ?? []) if (/^["']/.test(s.image) && inside(s, false)) return undefined;
  const tokens = lexed.tokens.filter((t) => t.startOffset < offset);
  const last = tokens[tokens.length - 1];
  let word = { start: offset, text: '' };
  if (last && last.startOffset + last.image.length >= offset) {
    if (isString(last) || last.tokenType.name === 'TripleString' || last.tokenType.name === 'Backtick') return undefined;
    if (isName(last)) {
      word = { start: last.startOffset, text: text.slice(last.startOffset, offset) };
      tokens.pop();
    }
  }

  const stack: Frame[] = [{ block: 'top', head: [], body: [] }];
  for (const t of tokens) {
    const frame = stack[stack.length - 1]!;
    if (t.image === '{') {
      frame.body.push(t);
      const before = frame.body[frame.body.length - 2];
      const head = frame.block === 'top' ? frame.body.slice(0, -1) : before ? [before] : [];
      const keyword = head[0]?.image ?? '';
      const block: Block =
        frame.block === 'top'
          ? ((definitionKeywords.includes(keyword) ? keyword : 'other') as Block)
          : frame.block === 'model' && keyword === 'columns'
            ? 'columns'
            : frame.block === 'sync' && keyword === 'map'
              ? 'map'
              : 'other';
      stack.push({ block, head, body: [] });
    } else if (t.image === '}') {
      if (stack.length > 1) stack.pop();
      const parent = stack[stack.length - 1]!;
      // A definition ends: the top level starts the next one's head afresh.
      if (parent.block === 'top') parent.body = [];
      else parent.body.push(t);
    } else frame.body.push(t);
  }
  const frame = stack[stack.length - 1]!;
  const outer = stack[1] ?? frame;
  const head = stack.length > 1 ? outer.head : frame.body;
  const definition =
    head[0] && definitionKeywords.includes(head[0].image)
      ? {
          keyword: head[0].image,
          ...(isName(head[1]) ? { name: head[1].image } : {}),
          ...(head[2]?.image === ':' && isName(head[3]) ? { type: head[3].image } : {}),
        }
      : undefined;
  const expect = expectIn(frame.block, frame.body);
  if (!expect) return undefined;
  return { block: frame.block, ...(definition ? { definition } : {}), expect, word };
}

function expectIn(block: Block, body: IToken[]): Expect | undefined {
  switch (block) {
    case 'top':
      return topLevel(body);
    case 'source':
    case 'destination':
      return settings(body);
    case 'model':
      return modelItem(body);
    case 'columns':
      return column(body);
    case 'audience':
      return audienceItem(body);
    case 'sync':
      return syncItem(body);
    case 'map':
      return mapping(body);
    default:
      return undefined;
  }
}

function topLevel(body: IToken[]): Expect | undefined {
  if (body.length === 0) return { what: 'definition' };
  const [keyword, , colon] = body;
  if (body.length === 3 && colon?.image === ':') {
    if (keyword?.image === 'source') return { what: 'dialect' };
    if (keyword?.image === 'destination') return { what: 'destinationType' };
  }
  return undefined;
}

/** `name value` pairs; a value is a literal, `env("X")` or a dotted path. */
function settings(body: IToken[]): Expect {
  const present: string[] = [];
  let state: 'name' | 'value' | 'env' | 'path' | 'dot' = 'name';
  let setting = '';
  let depth = 0;
  for (const t of body) {
    if (state === 'env') {
      if (t.image === '(') depth++;
      else if (t.image === ')' && --depth <= 0) state = 'name';
      continue;
    }
    if (state === 'path') {
      if (t.image === '.') {
        state = 'dot';
        continue;
      }
      state = 'name';
    }
    if (state === 'dot') {
      state = 'path';
      continue;
    }
    if (state === 'name') {
      if (isName(t)) {
        setting = t.image;
        present.push(setting);
        state = 'value';
      }
    } else if (t.image === 'env') {
      state = 'env';
      depth = 0;
    } else if (isValue(t)) state = 'name';
    else if (isName(t)) state = 'path';
    else state = 'name';
  }
  if (state === 'value') return { what: 'settingValue', setting };
  if (state === 'name' || state === 'path') return { what: 'setting', present };
  return { what: 'setting', present: [] };
}

/** Item keywords already written in a block, for keywords that may appear once. */
function written(body: IToken[], keywords: readonly string[]): string[] {
  const words = body.map((t) => t.image);
  return keywords.filter((k) => words.includes(k.split(' ')[0]!));
}

function modelItem(body: IToken[]): Expect | undefined {
  type S = 'item' | 'from' | 'table' | 'tablePath' | 'sql' | 'primary' | 'key' | 'order' | 'orderCol' | 'orderDir' | 'columns' | 'block';
  let s: S = 'item';
  for (let i = 0; i < body.length; i++) {
    const t = body[i]!;
    const w = t.image;
    switch (s) {
      case 'item':
        s =
          w === 'from'
            ? 'from'
            : w === 'table'
              ? 'table'
              : w === 'sql'
                ? 'sql'
                : w === 'primary'
                  ? 'primary'
                  : w === 'order'
                    ? 'order'
                    : w === 'columns'
                      ? 'columns'
                      : 'item';
        break;
      case 'from':
      case 'sql':
        s = 'item';
        break;
      case 'table':
        s = 'tablePath';
        break;
      case 'tablePath':
        if (w === '.') s = 'table';
        else (s = 'item'), i--;
        break;
      case 'primary':
        s = w === 'key' ? 'key' : 'item';
        break;
      case 'key':
        s = 'item';
        break;
      case 'order':
        s = w === 'by' ? 'orderCol' : 'item';
        break;
      case 'orderCol':
        s = 'orderDir';
        break;
      case 'orderDir':
        if (w === ',') s = 'orderCol';
        else if (w === 'asc' || w === 'desc') s = 'orderDir';
        else (s = 'item'), i--;
        break;
      case 'columns':
        s = w === '{' ? 'block' : 'item';
        break;
      case 'block':
        if (w === '}') s = 'item';
        break;
    }
  }
  const item: Expect = { what: 'item', present: written(body, modelItems) };
  switch (s) {
    case 'item':
    case 'tablePath':
      return item;
    case 'from':
      return { what: 'reference', kinds: ['source'] };
    case 'primary':
      return { what: 'keywords', words: ['key'] };
    case 'order':
      return { what: 'keywords', words: ['by'] };
    case 'key':
    case 'orderCol':
      return { what: 'column' };
    case 'orderDir':
      return { what: 'keywords', words: ['asc', 'desc'], orItem: true };
    default:
      return undefined;
  }
}

/** `name type[(p, s)][?]` pairs. */
function column(body: IToken[]): Expect | undefined {
  let s: 'name' | 'type' | 'after' | 'paren' = 'name';
  for (const t of body) {
    const w = t.image;
    if (s === 'name') s = 'type';
    else if (s === 'type') s = 'after';
    else if (s === 'paren') s = w === ')' ? 'after' : 'paren';
    else if (w === '(') s = 'paren';
    else if (w === '?') s = 'name';
    else s = 'type';
  }
  return s === 'type' ? { what: 'columnType' } : undefined;
}

const comparisons = new Set(['=', '!=', '<>', '<', '<=', '>', '>=', 'in', 'like', 'between', 'and', 'or', 'not', 'is', '(', ',']);

function audienceItem(body: IToken[]): Expect | undefined {
  let s: 'item' | 'from' | 'where' = 'item';
  let whereAt = -1;
  body.forEach((t, i) => {
    if (s === 'item') {
      if (t.image === 'from') s = 'from';
      else if (t.image === 'where') (s = 'where'), (whereAt = i);
    } else if (s === 'from') s = 'item';
  });
  if (s === 'item') return { what: 'item', present: written(body, audienceItems) };
  if (s === 'from') return { what: 'reference', kinds: ['model'] };
  const prev = body[body.length - 1];
  if (body.length - 1 === whereAt || (prev && comparisons.has(prev.image))) return { what: 'condition', after: 'operand' };
  return { what: 'condition', after: isValue(prev) || prev?.image === ')' ? 'value' : 'column' };
}

function syncItem(body: IToken[]): Expect | undefined {
  type S =
    | 'item'
    | 'from'
    | 'to'
    | 'toDest'
    | 'toKind'
    | 'toRef'
    | 'toDot'
    | 'mode'
    | 'identifier'
    | 'idCol'
    | 'idArrow'
    | 'idField'
    | 'map'
    | 'block'
    | 'value'
    | 'guard'
    | 'guardDeletes'
    | 'guardLe'
    | 'guardNum'
    | 'guardAllow'
    | 'format';
  let s: S = 'item';
  let column = '';
  for (let i = 0; i < body.length; i++) {
    const t = body[i]!;
    const w = t.image;
    switch (s) {
      case 'item':
        s =
          w === 'from'
            ? 'from'
            : w === 'to'
              ? 'to'
              : w === 'mode'
                ? 'mode'
                : w === 'identifier'
                  ? 'identifier'
                  : w === 'map'
                    ? 'map'
                    : w === 'guard'
                      ? 'guard'
                      : w === 'format'
                        ? 'format'
                        : w === 'batch' || w === 'schedule' || w === 'message'
                          ? 'value'
                          : 'item';
        break;
      case 'from':
      case 'mode':
      case 'format':
      case 'value':
        s = 'item';
        break;
      case 'to':
        s = 'toDest';
        break;
      case 'toDest':
        if (syncItems.includes(w)) (s = 'item'), i--;
        else s = 'toKind';
        break;
      case 'toKind':
        s = 'toRef';
        break;
      case 'toRef':
        if (w === '.') s = 'toDot';
        else (s = 'item'), i--;
        break;
      case 'toDot':
        s = 'toRef';
        break;
      case 'identifier':
        column = w;
        s = 'idCol';
        break;
      case 'idCol':
        if (w === '->') s = 'idArrow';
        else if (w === 'hashed') s = 'item';
        else (s = 'item'), i--;
        break;
      case 'idArrow':
        s = 'idField';
        break;
      case 'idField':
        if (w === 'hashed') s = 'item';
        else (s = 'item'), i--;
        break;
      case 'map':
        s = w === '{' ? 'block' : 'item';
        break;
      case 'block':
        if (w === '}') s = 'item';
        break;
      case 'guard':
        s = w === 'deletes' ? 'guardDeletes' : w === 'allow' ? 'guardAllow' : 'item';
        break;
      case 'guardDeletes':
        s = w === '<=' ? 'guardLe' : 'item';
        break;
      case 'guardLe':
        s = 'guardNum';
        break;
      case 'guardNum':
        if (w === '%') s = 'item';
        else (s = 'item'), i--;
        break;
      case 'guardAllow':
        s = 'item';
        break;
    }
  }
  const present = written(body, syncItems);
  switch (s) {
    case 'item':
    case 'toRef':
    case 'guardNum':
      return { what: 'item', present };
    case 'from':
      return { what: 'reference', kinds: ['model', 'audience'] };
    case 'to':
      return { what: 'reference', kinds: ['destination', 'source'] };
    case 'toDest':
      return { what: 'objectKind' };
    case 'mode':
      return { what: 'mode' };
    case 'identifier':
      return { what: 'column' };
    case 'idCol':
      return { what: 'keywords', words: ['hashed'], orItem: true };
    case 'idArrow':
      return { what: 'field', identifier: true, column };
    case 'idField':
      return { what: 'keywords', words: ['hashed'], orItem: true };
    case 'guard':
      return { what: 'keywords', words: ['deletes', 'allow empty'] };
    case 'guardAllow':
      return { what: 'keywords', words: ['empty'] };
    case 'format':
      return { what: 'format' };
    default:
      return undefined;
  }
}

/** `column [-> field] [hashed]` entries of a `map`. */
function mapping(body: IToken[]): Expect | undefined {
  let s: 'col' | 'afterCol' | 'arrow' | 'field' = 'col';
  let column = '';
  for (let i = 0; i < body.length; i++) {
    const w = body[i]!.image;
    if (s === 'col') (column = w), (s = 'afterCol');
    else if (s === 'afterCol') {
      if (w === '->') s = 'arrow';
      else if (w === 'hashed') s = 'col';
      else (s = 'col'), i--;
    } else if (s === 'arrow') s = 'field';
    else if (w === 'hashed') s = 'col';
    else (s = 'col'), i--;
  }
  if (s === 'arrow') return { what: 'field', identifier: false, column };
  if (s === 'afterCol' || s === 'field') return { what: 'column', also: ['hashed'] };
  return { what: 'column' };
}
