/** JSON Pointer (RFC 6901) lookups into parsed response bodies. */

/**
 * The values at a pointer whose `*` segments take every item of an array (so an object key `*`
 * cannot be named: no plan needs one): in document order; none where a step is missing or a
 * `*` meets no array.
 */
export function pointerAll(doc: unknown, pointer: string): unknown[] {
  const at = pointer.indexOf('/*');
  if (at < 0 || (pointer[at + 2] !== undefined && pointer[at + 2] !== '/')) {
    const v = pointerGet(doc, pointer);
    return v === undefined ? [] : [v];
  }
  const list = pointerGet(doc, pointer.slice(0, at));
  return Array.isArray(list) ? list.flatMap((item) => pointerAll(item, pointer.slice(at + 2))) : [];
}

/** The value at `pointer` ("" is the whole document), or undefined when any step is missing. */
export function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) throw new Error(`a JSON Pointer starts with "/": ${JSON.stringify(pointer)}`);
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      cur = cur[Number(token)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, token) ? (cur as Record<string, unknown>)[token] : undefined;
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}
