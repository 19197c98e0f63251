/**
 * syncwright as a library: one function per stage, and `compile`, which only chains them.
 *
 *   parse   files -> each file's tree (a tree even where the text has errors) and syntax diagnostics
 *   check   trees -> the checked project, the symbol index, diagnostics
 *   plan    checked project -> one plan per sync, as data
 *   emit    plans -> plan.json, the SQL files and manifest.json, in memory
 *
 * Writing the build folder is apart (`writeBuild`, src/output/): compiling never touches the
 * disk. State lives in the `CompileContext` of one compile, never in the process.
 */
import type { CheckResult } from './check/check.js';
import { checkParsed } from './check/check.js';
import { syntaxWords } from './catalog/index.js';
import type { CheckedSync } from './check/model.js';
import type { Manifest } from './contract/manifest.js';
import type { PlanOptions } from './contract/options.js';
import type { SyncArtifacts } from './contract/plan.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import { emitBuild, type Build, type Reuse, type Unchanged } from './emit/index.js';
import { SqlFormatter } from './emit/format.js';
import { newCheckMemo, type CheckMemo } from './check/syncs.js';
import type { DbtProjects } from './check/models.js';
import { writeTreeAtomically, type ArtifactTree } from './output/artifact-tree.js';
import type { BuildInputs } from './output/kept-syncs.js';
import { planProject, planSync, type SyncPlan } from './plan/index.js';
import { parseProject, type ParsedFile, type SourceText } from './syntax/parse.js';
import { formatSource, type FormatResult } from './syntax/format.js';

export type { CheckResult } from './check/check.js';
export type { CheckedProject, CheckedSync } from './check/model.js';
export { completionAt, referencesTo, symbolAt, type SymbolDef, type SymbolIndex, type SymbolKind, type SymbolRef } from './check/symbols.js';
export type { Manifest, ManifestSync, SyncSummary } from './contract/manifest.js';
export type { PlanOptions } from './contract/options.js';
export type { Plan, PlanStep, SyncArtifacts } from './contract/plan.js';
export type { ApiStep } from './contract/api-steps.js';
export type { WarehouseStep } from './contract/warehouse-steps.js';
export { dialectNames, type Dialect } from './contract/dialect-names.js';
export type { Diagnostic, Fix, Related, Severity } from './diagnostics/diagnostic.js';
export { renderDiagnostics, type OutputFormat } from './diagnostics/render.js';
export { syncsOf, type Build, type Reuse, type Unchanged } from './emit/index.js';
export { OutputRefused } from './output/artifact-tree.js';
export { inputsKey, textHash, unchangedBuild, type BuildInputs } from './output/kept-syncs.js';
export type { SyncPlan } from './plan/index.js';
export type { ParsedFile, SourceText } from './syntax/parse.js';
export { type FormatResult } from './syntax/format.js';

/**
 * What one compile holds: its options, its files' text (the manifest's input hashes are over
 * it), and every cache of its stages. Nothing of a compile stays in the process after it.
 */
export interface CompileContext {
  readonly options: PlanOptions;
  /** Each file's text by its path. */
  readonly texts: ReadonlyMap<string, string>;
  /** The checker's: message templates and schedules read once each. */
  readonly memo: CheckMemo;
  /** The SQL formatting and its caches; what `writeBuild` carries to the next compile of the folder. */
  readonly formatter: SqlFormatter;
  /** Where models read from dbt are found: the dbt project a source names (src/dbt/). */
  readonly dbtProjects?: DbtProjects;
}

export function compileContext(files: readonly SourceText[], options: PlanOptions = {}): CompileContext {
  return { options, texts: new Map(files.map((f) => [f.path, f.text])), memo: newCheckMemo(), formatter: new SqlFormatter() };
}

/** Each file's tree and syntax diagnostics; a file that is not text gets one diagnostic and no tree. */
export function parse(files: readonly SourceText[]): ParsedFile[] {
  return parseProject(files, syntaxWords);
}

/** The project checked from its trees: `ok` when there is no error, and only then is `project` whole. */
export function check(parsed: readonly ParsedFile[], context?: Pick<CompileContext, 'memo' | 'dbtProjects'>): CheckResult {
  return checkParsed(parsed, context);
}

/** A file laid out as `syncwright fmt` lays it out; no text when it has syntax errors (they are in `diagnostics`). */
export function format(file: SourceText): FormatResult {
  return formatSource(file.path, file.text, syntaxWords);
}

/** One plan per sync, in the project's order: data, rendered by `emit`. */
export function plan(project: { syncs: readonly CheckedSync[] }, context: CompileContext): SyncPlan[] {
  return planProject(project, context.options);
}

/** Every plan rendered to its plan.json and files, and the manifest. `onSync` gets each sync's artifacts as they come. */
export function emit(plans: readonly SyncPlan[], context: CompileContext, onSync?: (a: SyncArtifacts) => void): Build {
  const planOf = new Map(plans.map((p) => [p.sync, p]));
  return emitBuild(
    plans.map((p) => p.sync),
    (sync) => planOf.get(sync)!,
    context.texts,
    context.options,
    context.formatter,
    onSync,
  );
}

/**
 * `plan` and `emit` sync by sync. A sync `reuse` finds (the build folder holds it as it would
 * be emitted: `writeBuild` gives it) is neither planned nor emitted: it is in the build's `kept`,
 * with its manifest entry's text, and not in `manifest` (`syncsOf` lists every sync). With
 * `reuse`, the artifacts go to `onSync` (the build folder) alone: the build's are empty.
 */
export function planAndEmit(
  project: { syncs: readonly CheckedSync[] },
  context: CompileContext,
  onSync?: (a: SyncArtifacts) => void,
  reuse?: Reuse,
  unchanged?: Unchanged,
): Build {
  return emitBuild(project.syncs, (sync) => planSync(sync, context.options), context.texts, context.options, context.formatter, onSync, reuse, unchanged);
}

/** What `compile` gives: the diagnostics (sorted, warnings too), and when there is no error, the build. */
export type CompileResult =
  | { ok: true; diagnostics: Diagnostic[]; artifacts: SyncArtifacts[]; manifest: Manifest }
  | { ok: false; diagnostics: Diagnostic[]; artifacts: []; manifest?: undefined };

/** parse, check, plan, emit: the .sync files in, every artifact out (in memory), or the diagnostics that stop it. */
export function compile(files: readonly SourceText[], options: PlanOptions = {}, context = compileContext(files, options)): CompileResult {
  const checked = check(parse(files), context);
  if (!checked.ok) return { ok: false, diagnostics: checked.diagnostics, artifacts: [] };
  const { artifacts, manifest } = emit(plan(checked.project, context), context);
  return { ok: true, diagnostics: checked.diagnostics, artifacts, manifest };
}

/**
 * Writes a build as the folder `out`, replacing what is there in one step (a link switched by
 * one rename; the previous output kept for the next compile to reuse). `build` may be a
 * function that makes it, given where to hand each sync's artifacts: the folder is then
 * written while the rest is still being emitted. With the `context` that emits it, the
 * previous compile's formatted statements are loaded into it first, and its own kept. The
 * function is also given `reuse`, which takes a sync from the folder as it is when the folder
 * holds it as this compile would write it (see `planAndEmit`). With `inputs` (what the build
 * was compiled from), a later compile of the same inputs finds the folder unchanged
 * (`unchangedBuild`) and writes nothing. Refuses (`OutputRefused`) a folder
 * that is not a build's, or one another compile is writing. Where a file of a sync taken from
 * the folder is found edited, replaced or removed as it is written, `build` is called once
 * more, and the syncs it then does not take are emitted (src/output/artifact-tree.ts).
 */
export async function writeBuild(
  out: string,
  build: Build | ((onSync: (a: SyncArtifacts) => void, reuse: Reuse, keep: ArtifactTree['keep']) => Build),
  context?: Pick<CompileContext, 'formatter'>,
  inputs?: BuildInputs,
): Promise<Build> {
  return writeTreeAtomically(
    out,
    (tree: ArtifactTree) => {
      const made = typeof build === 'function' ? build((a) => tree.addSync(a), tree.reuse, tree.keep) : build;
      if (typeof build !== 'function') for (const a of made.artifacts) tree.addSync(a);
      tree.addManifest(made.manifest, made.kept ?? []);
      return made;
    },
    // The formatted statements go to the next compile of this folder, which loads them before it emits.
    context?.formatter,
    inputs,
  );
}
