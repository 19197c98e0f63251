/**
 * Reading a dbt project's artifacts from disk, for the checker: the folder a source's
 * `dbt_project` names (relative to the `.sync` file that defines the source), its
 * `target/manifest.json` and `target/catalog.json`, or with a target name, those of
 * `target/<name>/` (as `dbt compile --target prod --target-path target/prod` writes them), so
 * the same `.sync` files compile for each target. Each project is read once per command.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CheckedSource } from '../check/model.js';
import type { DbtProjects } from '../check/models.js';
import { DbtArtifactError, readDbtProject, type DbtProject } from '../check/dbt/artifacts.js';

/** The folder of a target's artifacts: `target/`, or `target/<name>/` for a named target. */
export function artifactsFolder(project: string, target?: string): string {
  return target ? join(project, 'target', target) : join(project, 'target');
}

/**
 * `fileOf`: the file system path of a project file by its name in the project (what spans say).
 * `target`: the target whose artifacts are read (`--target`); none reads `target/` itself.
 * `onRead`: told of every artifact file read, with its text (undefined when it could not be read).
 */
export function dbtProjectsFrom(fileOf: (name: string) => string, target?: string, onRead?: (path: string, text: string | undefined) => void): DbtProjects {
  const read = new Map<string, ReturnType<DbtProjects>>();
  return (source: CheckedSource) => {
    const setting = source.settings.dbt_project;
    if (typeof setting !== 'string') {
      return {
        problem: `source \`${source.name}\` names no dbt project`,
        hint: `set \`dbt_project "path/to/dbt"\` in source \`${source.name}\`: the folder of dbt_project.yml, relative to the file`,
      };
    }
    const folder = resolve(dirname(fileOf(source.span.file)), setting);
    let project = read.get(folder);
    if (!project) read.set(folder, (project = load(folder, setting, target, onRead)));
    return project;
  };
}

function load(
  folder: string,
  setting: string,
  target: string | undefined,
  onRead: ((path: string, text: string | undefined) => void) | undefined,
): DbtProject | { problem: string; hint: string } {
  const where = artifactsFolder(setting, target);
  const json = (file: string, optional: boolean): unknown => {
    const path = join(artifactsFolder(folder, target), file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
      onRead?.(path, text);
    } catch (e) {
      onRead?.(path, undefined);
      if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DbtArtifactError(`cannot read ${where}/${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new DbtArtifactError(`${where}/${file} is not JSON: ${(e as Error).message}`);
    }
  };
  try {
    return readDbtProject(json('manifest.json', false), json('catalog.json', true));
  } catch (e) {
    if (!(e instanceof DbtArtifactError)) throw e;
    const make = target ? `dbt compile --target ${target} --target-path target/${target}` : 'dbt compile';
    return { problem: e.message, hint: `run \`${make}\` (and \`dbt docs generate\` for column types) in ${setting}` };
  }
}
