/**
 * Reading a file whole, as the compiler reads a project's files and the executor a plan: a
 * device or socket is refused rather than read, as one may have no end (/dev/zero); a pipe is
 * read, as it ends when its writer does (`check <(git show ...)`).
 */
import { readFileSync, statSync, type Stats } from 'node:fs';

/** Why a path of this kind is not read; undefined for a file, a folder or a pipe. */
export function notReadable(st: Stats): string | undefined {
  return st.isFile() || st.isDirectory() || st.isFIFO() ? undefined : 'a device or socket';
}

/** A file's text, read whole; throws the file system's error, or why its kind is not read. */
export function readWholeFile(path: string): string {
  const why = notReadable(statSync(path));
  if (why !== undefined) throw new Error(`${why}, not a file`);
  return readFileSync(path, 'utf8');
}
