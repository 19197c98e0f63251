/**
 * A path appended to a url's path, before its query and fragment: `https://h/in?token=t` and
 * `/orders?v=2` make `https://h/in/orders?token=t&v=2`. Appending the text would put the path
 * inside the query. The compiler joins a literal url so; an executor joins a url known at run
 * time (`$url`, api-steps.ts) by the same function.
 */
export function urlWithPath(url: string, path: string): string {
  const at = url.search(/[?#]/);
  if (at < 0) return `${url}${path}`;
  const [pathPart = '', pathQuery = ''] = path.split(/\?(.*)/s);
  const [query = '', hash = ''] = url.slice(at).split(/(?=#)/);
  const queries = [query.startsWith('?') ? query.slice(1) : '', pathQuery].filter((q) => q.length > 0);
  return `${url.slice(0, at)}${pathPart}${queries.length ? `?${queries.join('&')}` : ''}${hash}`;
}
