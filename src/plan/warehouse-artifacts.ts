/** A warehouse sync's plan.json and SQL files: the plan of src/plan/warehouse.ts, emitted. */
import type { CheckedSync } from '../check/model.js';
import { storedName, getDialect } from '../dialect/index.js';
import { emitWarehouse } from '../emit/warehouse.js';
import type { PlanOptions } from './options.js';
import { planHead, type Plan, type PlanEndpoint, type SyncArtifacts } from './plan.js';
import { planWarehouse, type WarehouseEndpoint } from './warehouse.js';

// Optional fields are added by assignment, in plan.json's order: a spread after other
// properties in an object literal costs far more, and this runs once per sync.
function endpoint(e: WarehouseEndpoint): PlanEndpoint {
  return e.version === undefined ? { name: e.name, dialect: e.dialect, settings: e.settings } : { name: e.name, dialect: e.dialect, version: e.version, settings: e.settings };
}

export function planWarehouseSync(sync: CheckedSync, options: PlanOptions): SyncArtifacts {
  const ir = planWarehouse(sync, options);
  const { steps, files, columns } = emitWarehouse(ir);
  const spec = getDialect(ir.destination.dialect);
  const destination: Plan['destination'] = { ...endpoint(ir.destination), type: ir.destination.type, category: sync.destination.category };
  if (sync.objectKind) destination.objectKind = sync.objectKind;
  destination.target = ir.destination.target.map((p) => storedName(spec, p));
  destination.columns = columns;
  const plan: Plan = { ...planHead(sync), source: endpoint(ir.source), destination, lock: { key: String(ir.lockKey), on: 'destination' }, steps };
  return { plan, files };
}
