/** The comment heading every generated SQL file: which sync, which mode, where it is written. */
import type { CheckedSync } from '../check/model.js';

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

export function sqlHeader(sync: Pick<CheckedSync, 'name' | 'kind' | 'mode' | 'file' | 'line'>, what: string): string {
  return `-- syncwright: sync ${sync.name}, ${sync.kind} mode ${sync.mode}, ${oneLine(sync.file)} line ${sync.line}\n-- ${oneLine(what)}\n\n`;
}
