/**
 * Where the language server is: the syncwright package the project installed (its
 * `node_modules/syncwright`, looked up from each workspace folder towards the root), so that
 * the editor checks with the same version as the project's CI; or the package or script a
 * setting names. A checkout of syncwright itself serves itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface ServerLocation {
  /** The script to run with Node: `<package>/bin/syncwright.js`. */
  script: string;
  /** Why this one: for the output channel. */
  from: string;
}

const script = (pkg: string) => join(pkg, 'bin', 'syncwright.js');

function isSyncwright(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'syncwright' && existsSync(script(dir));
  } catch {
    return false;
  }
}

/** `setting`: the `syncwright.server.path` setting, relative to the first folder; `folders`: the workspace folders. */
export function findServer(folders: readonly string[], setting: string | undefined): ServerLocation | undefined {
  if (setting) {
    const path = isAbsolute(setting) ? setting : resolve(folders[0] ?? '.', setting);
    if (path.endsWith('.js') && existsSync(path)) return { script: path, from: 'the syncwright.server.path setting' };
    if (isSyncwright(path)) return { script: script(path), from: 'the syncwright.server.path setting' };
    return undefined;
  }
  for (const folder of folders) {
    for (let dir = resolve(folder); ; dir = dirname(dir)) {
      const installed = join(dir, 'node_modules', 'syncwright');
      if (isSyncwright(installed)) return { script: script(installed), from: `the project's ${installed}` };
      if (isSyncwright(dir)) return { script: script(dir), from: `the syncwright checkout ${dir}` };
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}
