/** Reading a compiled plan: plan.json, checked against the published schema, and the SQL files its steps name. */
import { dirname, join, resolve } from 'node:path';
import { readWholeFile } from '../whole-file.js';
import { schemaErrors } from '../schema/compile.js';
import type { Plan, SyncArtifacts } from '../contract/plan.js';

export interface LoadedPlan {
  plan: Plan;
  /** plan.json's path as given. */
  path: string;
  /** File name (relative to plan.json) -> SQL text. */
  files: Map<string, string>;
}

export class PlanError extends Error {}

/** The executor understands plan format 1. */
export const supportedPlanVersion = 1;

function checkSchema(doc: unknown, path: string): void {
  const problems = schemaErrors('plan', doc);
  if (problems.length > 0) throw new PlanError(`${path} does not match the plan schema: ${problems.slice(0, 5).join('; ')}`);
}

export function loadPlan(path: string): LoadedPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(readWholeFile(path));
  } catch (e) {
    throw new PlanError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const version = (doc as { planVersion?: unknown } | null)?.planVersion;
  if (version !== supportedPlanVersion) {
    throw new PlanError(`${path} has plan format ${JSON.stringify(version)}; this executor runs format ${supportedPlanVersion}`);
  }
  checkSchema(doc, path);
  const plan = doc as Plan;
  const dir = dirname(resolve(path));
  const files = new Map<string, string>();
  for (const step of plan.steps) {
    if (!('file' in step) || typeof step.file !== 'string' || files.has(step.file)) continue;
    try {
      files.set(step.file, readWholeFile(join(dir, step.file)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new PlanError(
        code === 'ENOENT'
          ? `${path} names ${step.file}, which is not beside it`
          : `${path} names ${step.file}, which cannot be read: ${code ?? (e as Error).message}`,
      );
    }
  }
  return { plan, path, files };
}

/** A plan compiled in this process (never written), checked as a plan read from disk is; `path` is where it would be. */
export function planInMemory(artifacts: SyncArtifacts, path: string): LoadedPlan {
  checkSchema(artifacts.plan, path);
  return { plan: artifacts.plan, path, files: new Map(artifacts.files.map((f) => [f.name, f.content])) };
}
