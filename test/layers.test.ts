/**
 * The stages import one way: each folder of src/ (and each file at its top) is a layer, and a
 * module imports only layers below its own. The executor is apart: it reads the published
 * contract (plan.json and the SQL files), never the compiler's stages, so another team's
 * executor could replace it. Edges are read from the import and export statements of the source.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src');

/** Lowest first. A layer imports only layers of a lower rank; those of one rank do not import each other. */
const layers: string[][] = [
  ['self-checks', 'span', 'handlebars', 'heap', 'hash', 'numbers', 'whole-file', 'printable'],
  ['schema'],
  ['contract'],
  ['diagnostics'],
  ['syntax'],
  ['catalog'],
  ['dialect'],
  ['check'],
  ['plan'],
  ['emit'],
  ['output'],
  ['run'],
  // The library, and the reading of a project's files from disk.
  ['index', 'files'],
  // Integrations: built on the library (and the executor), below the command line that starts them.
  ['dbt', 'airflow'],
  ['lsp', 'diff'],
  ['cli'],
];

/** Layers that may import only these, whatever their rank. */
const only: Record<string, string[]> = {
  // Nothing: the contract is the leaf every stage and every executor can depend on.
  contract: [],
  // The executor reads plans, not the compiler.
  run: ['self-checks', 'span', 'handlebars', 'heap', 'numbers', 'whole-file', 'printable', 'schema', 'contract'],
};

const rank = new Map(layers.flatMap((names, i) => names.map((n) => [n, i] as const)));

/** `check` for src/check/x.ts, `index` for src/index.ts. */
function layerOf(root: string, file: string): string {
  const [first, ...rest] = relative(root, file).split(/[\\/]/);
  return rest.length === 0 ? first!.replace(/\.[jt]s$/, '') : first!;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports of a module: `import ... from`, `export ... from`, `import '...'` and `import('...')`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"](\.[^'"]+)['"]|^\s*import\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm,
  )) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}

interface Edge {
  from: string;
  to: string;
  /** One module of `from` that imports `to`, and what it imports. */
  example: string;
}

/** Layer-to-layer edges of the source under `root`. */
function layerEdges(root: string): Edge[] {
  const edges = new Map<string, Edge>();
  for (const file of sources(root)) {
    const from = layerOf(root, file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec);
      const to = layerOf(root, target);
      if (from === to || edges.has(`${from} -> ${to}`)) continue;
      edges.set(`${from} -> ${to}`, { from, to, example: `${relative(root, file)} imports ${relative(root, target)}` });
    }
  }
  return [...edges.values()].sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`));
}

/** Why an edge goes the wrong way, or undefined when it is allowed. */
function wrongWay(e: Edge): string | undefined {
  const allowed = only[e.from];
  if (allowed && !allowed.includes(e.to)) return `${e.from} may import only ${allowed.join(', ') || 'nothing'}`;
  const [a, b] = [rank.get(e.from), rank.get(e.to)];
  if (a === undefined || b === undefined) return `${a === undefined ? e.from : e.to} has no place in the table of layers`;
  if (b >= a) return `${e.to} is not below ${e.from}`;
  return undefined;
}

describe('import directions', () => {
  it('every folder of src/ has a place in the table of layers', () => {
    const unplaced = [...new Set(sources(src).map((f) => layerOf(src, f)))].filter((l) => !rank.has(l));
    expect(unplaced).toEqual([]);
  });

  it('no module imports a layer above its own (nor the executor the compiler)', () => {
    const edges = layerEdges(src);
    expect(edges.length).toBeGreaterThan(30);
    const wrong = edges.flatMap((e) => {
      const why = wrongWay(e);
      return why ? [`${e.from} -> ${e.to}: ${why} (${e.example})`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('reads every kind of import statement', () => {
    const text = [
      "import type { A } from './a.js';",
      "import {\n  b,\n  c,\n} from '../b.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "import './f.js';",
      "const g = await import('../g.js');",
      "import { h } from 'node:fs';",
    ].join('\n');
    expect(importsOf(text)).toEqual(['./a.js', '../b.js', './d.js', './e.js', './f.js', '../g.js']);
  });
});
