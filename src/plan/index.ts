/**
 * The planner: one plan (plan.json and the files it names) per sync, in the checked
 * project's order. Warehouse destinations are merged in SQL (warehouse*.ts); every other
 * category goes through the API planner (api.ts).
 */
import type { CheckedProject, CheckedSync } from '../check/model.js';
import type { PlanOptions } from '../contract/options.js';
import type { SyncArtifacts } from '../contract/plan.js';
import { planWarehouseSync } from '../emit/warehouse-artifacts.js';
import { planApiSync } from './api.js';

export type { PlanOptions } from '../contract/options.js';

export function planSync(sync: CheckedSync, options: PlanOptions = {}): SyncArtifacts {
  return sync.destination.category === 'warehouse' ? planWarehouseSync(sync, options) : planApiSync(sync, options);
}

export function planProject(project: CheckedProject, options: PlanOptions = {}): SyncArtifacts[] {
  return project.syncs.map((s) => planSync(s, options));
}
