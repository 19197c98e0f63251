/**
 * Names given where the sync runs (`env("X")` in a table path): the plan lists their variables
 * and carries each endpoint's identifier rule, by which an executor folds and quotes the
 * values into the placeholders the SQL holds (src/contract/names.ts).
 */
import type { CheckedSync } from '../check/model.js';
import type { SyncArtifacts } from '../contract/plan.js';
import { getDialect } from '../dialect/index.js';

/** The variables that name the sync's tables, in order of their names. */
export function nameVariablesOf(sync: CheckedSync): string[] {
  const parts = [...(sync.model.relation.kind === 'table' ? sync.model.relation.path : []), ...(sync.target ?? [])];
  return [...new Set(parts.flatMap((p) => (p.env ? [p.env.value] : [])))].sort();
}

/** The artifacts, with the plan's `nameVariables` and its endpoints' `identifiers` where the sync has such names. */
export function withNameVariables(sync: CheckedSync, artifacts: SyncArtifacts): SyncArtifacts {
  const variables = nameVariablesOf(sync);
  if (variables.length === 0) return artifacts;
  const { plan } = artifacts;
  for (const endpoint of [plan.source, plan.destination]) if (endpoint.dialect) endpoint.identifiers = getDialect(endpoint.dialect).identifiers;
  plan.nameVariables = variables;
  return artifacts;
}
