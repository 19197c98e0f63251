/** `syncwright diff BASE [HEAD]`: two versions of a project compared by meaning, riskiest first. */
import { join } from 'node:path';
import { checkProject } from '../check/check.js';
import { dbtProjectsFrom } from '../dbt/load.js';
import { compareProjects, type Version } from '../diff/compare.js';
import { loadVersion, type LoadedVersion } from '../diff/load.js';
import { renderDiff } from '../diff/render.js';
import type { OutputFormat } from '../diagnostics/render.js';
import { printDiagnostics, type Io } from './output.js';

export interface DiffOptions {
  /** A folder, or a git revision. */
  base: string;
  /** The same; default: the project folder as it is on disk. */
  head?: string;
  /** The project's folder: read on disk, and at that path in revisions. */
  project: string;
  /** `github`: Markdown for a pull-request comment. */
  format: OutputFormat;
  failOnDestructive: boolean;
}

export function runDiff(opts: DiffOptions, io: Io): number {
  const sides: [string, LoadedVersion][] = [
    ['base', loadVersion(opts.base, opts.project, io.cwd)],
    [
      'head',
      opts.head !== undefined
        ? loadVersion(opts.head, opts.project, io.cwd)
        : { ...loadVersion(opts.project, opts.project, io.cwd), label: opts.project === '.' ? 'the working tree' : opts.project },
    ],
  ];
  const versions: Version[] = [];
  let broken = false;
  for (const [side, loaded] of sides) {
    // Models read from dbt take their relations and columns from its artifacts, as `check` does.
    const result = checkProject(loaded.files, { dbtProjects: dbtProjectsFrom((name) => join(loaded.dir, name)) });
    // A diff of what checked would show a sync with an error as removed: only projects that check are compared.
    if (!result.ok) {
      io.err(`syncwright diff: the ${side} (${loaded.label}) has errors; fix them to compare (\`syncwright check\`):`);
      printDiagnostics(
        'text',
        result.diagnostics.filter((d) => d.severity === 'error'),
        loaded.files,
        io,
      );
      broken = true;
    }
    versions.push({ project: result.project, texts: new Map(loaded.files.map((f) => [f.path, f.text])) });
  }
  if (broken) return 1;
  const changes = compareProjects(versions[0]!, versions[1]!);
  io.out(renderDiff(opts.format === 'github' ? 'markdown' : opts.format, changes, { base: sides[0]![1].label, head: sides[1]![1].label }));
  return opts.failOnDestructive && changes.some((c) => c.risk === 'destructive') ? 1 : 0;
}
