/** A warehouse sync's plan.json and SQL files: the plan of src/plan/warehouse.ts, emitted. */
import { storedName, getDialect } from '../dialect/index.js';
import { emitWarehouse } from './warehouse.js';
import type { SqlFormatter } from './format.js';
import { targetCheck, withLockTable, withSession } from './session-sql.js';
import type { Plan, PlanEndpoint, SyncArtifacts } from '../contract/plan.js';
import { planHead } from '../plan/head.js';
import type { WarehouseEndpoint, WarehouseSyncPlan } from '../plan/warehouse.js';

// Optional fields are added by assignment, in plan.json's order: a spread after other
// properties in an object literal costs far more, and this runs once per sync.
function endpoint(e: WarehouseEndpoint): PlanEndpoint {
  return e.version === undefined
    ? { name: e.name, dialect: e.dialect, settings: e.settings }
    : { name: e.name, dialect: e.dialect, version: e.version, settings: e.settings };
}

export function emitWarehouseSync(ir: WarehouseSyncPlan, fmt: SqlFormatter): SyncArtifacts {
  const { sync } = ir;
  const { steps, files, columns } = emitWarehouse(ir, fmt);
  const spec = getDialect(ir.destination.dialect);
  const destination: Plan['destination'] = { ...endpoint(ir.destination), type: ir.destination.type, category: sync.destination.category };
  if (sync.objectKind) destination.objectKind = sync.objectKind;
  destination.target = ir.destination.target.map((p) => storedName(spec, p));
  destination.columns = columns;
  const check = targetCheck(ir.destination.dialect, destination.target, columns);
  if (check) destination.check = check;
  const plan: Plan = {
    ...planHead(sync),
    source: withSession(endpoint(ir.source)),
    destination: withSession(destination),
    lock: withLockTable({ key: String(ir.lockKey), on: 'destination' }, ir.destination.dialect, destination.target.slice(0, -1)),
    steps,
  };
  return { plan, files };
}
