/**
 * A path appended to a url's path, before its query and fragment, with one `/` between them:
 * `https://h/in?token=t` and `/orders?v=2` (or `orders?v=2`) make `https://h/in/orders?token=t&v=2`;
 * `https://h/in/` and `/orders` make `https://h/in/orders`. Appending the text would put the path
 * inside the query, or run it into the url's host or last segment (`https://h` and `users`:
 * the host `husers`). A path of a query alone is joined to the url's query. The compiler joins a
 * literal url so; an executor joins a url known at run time (`$url`, api-steps.ts) by the same
 * function.
 */
export function urlWithPath(written: string, path: string): string {
  // As the URL parser will (WHATWG URL: surrounding C0 controls and spaces dropped): a url from the
  // environment or a file often ends in a line break, which would stand between its `/` and the path's.
  const url = written.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const at = url.search(/[?#]/);
  const base = at < 0 ? url : url.slice(0, at);
  const [pathPart = '', pathQuery = ''] = path.split(/\?(.*)/s);
  const joined = pathPart === '' ? base : `${base.replace(/\/$/, '')}/${pathPart.replace(/^\//, '')}`;
  const [query = '', hash = ''] = at < 0 ? [] : url.slice(at).split(/(?=#)/);
  const queries = [query.startsWith('?') ? query.slice(1) : '', pathQuery].filter((q) => q.length > 0);
  return `${joined}${queries.length ? `?${queries.join('&')}` : ''}${hash}`;
}
