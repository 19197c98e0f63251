// A generated project of API and warehouse syncs mixed as real projects mix them: whole copies
// of the example projects (b2b-saas, ecommerce, events-pipeline), every name they define given
// a copy's suffix, so destination types, modes, audiences and settings come in the examples'
// proportions. Shared by the benches; not a bench itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './cli-timer.js';

const { findSyncFiles, readSources } = await import('../dist/files.js');

const EXAMPLES = ['b2b-saas', 'ecommerce', 'events-pipeline'];
const DEFINITION = /^(source|destination|model|audience|sync)\s+([A-Za-z_][A-Za-z0-9_]*)/gm;

/** The text of every .sync file of a folder, found and read as `syncwright check` does. */
function syncTexts(dir) {
  return readSources(findSyncFiles([dir], dir).files, dir).map((f) => f.text);
}

/** Each example as one text and the names it defines (replaced whole-word in a copy, but not after `:`, where a
 * destination type stands, nor first on a line, where a setting or column stands). */
const projects = EXAMPLES.map((name) => {
  const text = syncTexts(join(root, 'examples', name)).join('\n');
  const names = [...new Set([...text.matchAll(DEFINITION)].map((m) => m[2]))];
  return { name, text, names, syncs: [...text.matchAll(/^sync\s/gm)].length, pattern: new RegExp(`(?<!:\\s*)(?<!^[ \\t]*)\\b(${names.join('|')})\\b`, 'gm') };
});

const { warehouseIdentity } = await import('../dist/catalog/connection-settings.js');

/** The settings that say which warehouse or bucket a block is: the last of each `warehouseIdentity`, and a bucket. */
const PLACE = new RegExp(`\\b(${[...new Set([...Object.values(warehouseIdentity).map((names) => names.at(-1)), 'bucket'])].join('|')})\\s*$`);

function copyOf(project, suffix) {
  // Names, and the strings that say where a destination writes: each copy writes warehouses and
  // buckets of its own, as two companies' projects would (two copies writing one table or object
  // would be refused, SW0124). Other quoted strings (audience and list names, URLs) stay as written.
  const parts = project.text.split(/("(?:[^"\\\n]|\\.)*")/);
  return parts
    .map((part, i) => {
      if (i % 2 === 0) return part.replace(project.pattern, `$1_${suffix}`);
      const setting = PLACE.exec(parts[i - 1])?.[1];
      // Bucket names and project ids take hyphens, not underscores.
      if (setting) return `${part.slice(0, -1)}${setting === 'bucket' || setting === 'project' ? '-' : '_'}${suffix}"`;
      return part;
    })
    .join('');
}

/**
 * Writes `files` .sync files into `dir` holding whole copies of the examples, round-robin,
 * until at least `syncs` syncs; returns the number of syncs written.
 */
export function writeMixedProject(dir, { syncs, files }) {
  mkdirSync(dir, { recursive: true });
  const texts = Array.from({ length: files }, () => []);
  let written = 0;
  for (let copy = 0; written < syncs; copy++) {
    const project = projects[copy % projects.length];
    texts[copy % files].push(copyOf(project, `c${copy}`));
    written += project.syncs;
  }
  texts.forEach((parts, f) => writeFileSync(join(dir, `f${String(f).padStart(3, '0')}.sync`), parts.join('\n')));
  return written;
}
