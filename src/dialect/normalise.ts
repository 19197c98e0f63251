import type { NormaliseStep } from '../catalog/fields.js';
import { fillSnippet } from './snippet.js';

/**
 * `expr` through normalisation steps, each as the dialect spells it (`changeSet.normalise` of
 * dialects/<d>.json): the one rendering of a field's normalisation, for API change sets and
 * warehouse scripts alike, so that `hashed` gives the same digest whichever way a value goes.
 */
export function normaliseSql(spelling: Readonly<Record<NormaliseStep, string>>, steps: readonly NormaliseStep[], expr: string): string {
  return steps.reduce((inner, step) => fillSnippet(spelling[step], { v: inner }), expr);
}
