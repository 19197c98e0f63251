/**
 * An object's name under a storage prefix, with one `/` between them: `exports/` or `exports`
 * and `people` (or `/people`) make `exports/people`. S3 and GCS take `exports//people` as
 * another name, where no reader of exports/ looks. An empty prefix leaves the path as it is.
 * The compiler joins a literal prefix so; an executor joins a prefix known at run time (a
 * variable's value, `$under`, api-steps.ts) by the same function.
 */
export function underPrefix(prefix: string, path: string): string {
  if (prefix === '') return path;
  return `${prefix.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
