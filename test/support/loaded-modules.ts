// What a command a test starts has loaded: a `node -r` hook prints, as the process exits, every
// module in require.cache. The packages the CLI bundle leaves out (scripts/bundle-cli.js) are
// CommonJS, so they are there once loaded, imported or required.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const marker = 'loaded modules: ';

/** Writes the hook into `dir`; returns the node arguments that load it (before the script). */
export function loadedModulesHook(dir: string): string[] {
  const hook = join(dir, 'loaded-modules.cjs');
  writeFileSync(
    hook,
    `process.on('exit', () => require('node:fs').writeSync(2, '\\n${marker}' + JSON.stringify(Object.keys(require.cache).map((k) => k.replaceAll('\\\\', '/'))) + '\\n'));`,
  );
  return ['-r', hook];
}

/** The process's stderr without the hook's line, and the modules it listed (paths with `/`). */
export function loadedModules(stderr: string): { stderr: string; modules: string[] } {
  const at = stderr.lastIndexOf(`\n${marker}`);
  if (at < 0) throw new Error(`the process listed no loaded modules; its stderr:\n${stderr}`);
  // Its own line; what a crash prints may follow it.
  const end = stderr.indexOf('\n', at + 1);
  return {
    stderr: stderr.slice(0, at) + (end < 0 ? '' : stderr.slice(end + 1)),
    modules: JSON.parse(stderr.slice(at + 1 + marker.length, end < 0 ? undefined : end)) as string[],
  };
}
