/** A warehouse sync's plan.json and SQL files: the plan of src/plan/warehouse.ts, emitted. */
import type { CheckedSync } from '../check/model.js';
import { storedName, getDialect } from '../dialect/index.js';
import { emitWarehouse } from '../emit/warehouse.js';
import type { PlanOptions } from './options.js';
import { planHead, type Plan, type PlanEndpoint, type SyncArtifacts } from './plan.js';
import { planWarehouse, type WarehouseEndpoint } from './warehouse.js';

function endpoint(e: WarehouseEndpoint): PlanEndpoint {
  return { name: e.name, dialect: e.dialect, ...(e.version === undefined ? {} : { version: e.version }), settings: e.settings };
}

export function planWarehouseSync(sync: CheckedSync, options: PlanOptions): SyncArtifacts {
  const ir = planWarehouse(sync, options);
  const { steps, files } = emitWarehouse(ir);
  const spec = getDialect(ir.destination.dialect);
  const plan: Plan = {
    ...planHead(sync),
    source: endpoint(ir.source),
    destination: {
      ...endpoint(ir.destination),
      type: ir.destination.type,
      category: sync.destination.category,
      ...(sync.objectKind ? { objectKind: sync.objectKind } : {}),
      target: ir.destination.target.map((p) => storedName(spec, p)),
    },
    steps,
  };
  return { plan, files };
}
