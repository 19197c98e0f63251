/**
 * The planner: one plan per sync, in the checked project's order, as data (the intermediate
 * form src/emit/ renders to plan.json and SQL). Warehouse destinations are merged in SQL
 * (warehouse.ts); every other category goes through the API planner (api.ts).
 */
import type { CheckedSync } from '../check/model.js';
import type { PlanOptions } from '../contract/options.js';
import { planWarehouse, type WarehouseSyncPlan } from './warehouse.js';
import { planApiSync, type ApiSyncPlan } from './api.js';

export type { PlanOptions } from '../contract/options.js';
export type { WarehouseSyncPlan } from './warehouse.js';
export type { ApiSyncPlan } from './api.js';

/** One sync's plan, before emitting: `kind` says which emitter renders it. */
export type SyncPlan = WarehouseSyncPlan | ApiSyncPlan;

export function planSync(sync: CheckedSync, options: PlanOptions = {}): SyncPlan {
  return sync.destination.category === 'warehouse' ? planWarehouse(sync, options) : planApiSync(sync, options);
}

export function planProject(project: { syncs: readonly CheckedSync[] }, options: PlanOptions = {}): SyncPlan[] {
  return project.syncs.map((s) => planSync(s, options));
}
