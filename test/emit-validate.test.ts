/**
 * Every plan, warehouse and API, is validated against schemas/plan.schema.json before the
 * build folder is written: a plan the schema rejects is an internal error, and the previous
 * output stays as it was.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { writeTreeAtomically } from '../src/output/artifact-tree.js';
import type { Plan, SyncArtifacts } from '../src/contract/plan.js';
import { compile as compileInMemory } from '../src/index.js';
import { findSyncFiles, readSources } from '../src/files.js';
import { PlanWriter } from '../src/emit/plan-schema.js';

// The emitters as compile uses them, with one plan damaged on request.
const damage = vi.hoisted(() => ({ sync: undefined as string | undefined }));
vi.mock('../src/emit/warehouse-artifacts.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/emit/warehouse-artifacts.js')>();
  return { ...real, emitWarehouseSync: (...args: Parameters<typeof real.emitWarehouseSync>) => damaged(real.emitWarehouseSync(...args)) };
});
vi.mock('../src/emit/api-sql.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/emit/api-sql.js')>();
  return { ...real, emitApiSync: (...args: Parameters<typeof real.emitApiSync>) => damaged(real.emitApiSync(...args)) };
});

function damaged(a: SyncArtifacts): SyncArtifacts {
  if (a.plan.sync.name === damage.sync) broken(a);
  return a;
}

/** An unknown property and a wrong type, neither of them copied into manifest.json: two errors the schema names. */
function broken(a: SyncArtifacts): void {
  Object.assign(a.plan, { extra: true });
  Object.assign(a.plan.source, { settings: 5 });
}

const example = join(import.meta.dirname, '..', 'examples', 'ecommerce');
// One warehouse destination and API destinations of several categories.
const warehouseSync = 'vip_membership_to_bigquery';
const apiSyncs = ['customers_to_braze', 'high_value_to_meta', 'orders_to_amplitude'];

let dir: string;
let out: string;
const io = (): Io => ({ out: () => {}, err: () => {}, colour: false, cwd: process.cwd() });
const compile = () => main(['compile', example, '--out', out], io());

function tree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(relative(root, p), readFileSync(p, 'utf8'));
    }
  };
  walk(root);
  return files;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncwright-validate-'));
  out = join(dir, 'build');
  damage.sync = undefined;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('plans are validated before anything is written', () => {
  it('compiles the example, warehouse and API plans alike', async () => {
    expect(await compile()).toBe(0);
    const names = [...tree(out).keys()];
    for (const sync of [warehouseSync, ...apiSyncs]) expect(names).toContain(`${sync}/plan.json`);
  });

  it.each([warehouseSync, ...apiSyncs])('refuses a damaged plan of %s and leaves the previous output intact', async (sync) => {
    expect(await compile()).toBe(0);
    const before = tree(out);
    // Without the record of the output's files, every sync is emitted again (none is taken from the output).
    rmSync(join(dir, '.build.syncwright', 'previous', '.syncwright-syncs.json'));
    damage.sync = sync;
    const refused = compile();
    await expect(refused).rejects.toThrow(`${sync}/plan.json does not match schemas/plan.schema.json:`);
    await expect(refused).rejects.toThrow("/ has an unknown property 'extra'");
    await expect(refused).rejects.toThrow('/source/settings must be object');
    expect(tree(out)).toEqual(before);
    // No folder the compile made on its way is left: the output's own folder, and the outputs' folder's marker.
    expect(readdirSync(dir).sort()).toEqual(['.build.syncwright', 'build']);
    expect(readdirSync(join(dir, '.build.syncwright')).sort()).toEqual(['.gitignore', basename(readlinkSync(out))]);
  });

  it('writes nothing at all when there was no previous output', async () => {
    damage.sync = apiSyncs[0];
    await expect(compile()).rejects.toThrow(/does not match schemas\/plan\.schema\.json/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the artifact tree refuses an invalid plan, and the output is never created', async () => {
    const plan = { $schema: 'x', planVersion: 1, sync: { name: 'bad' } } as unknown as SyncArtifacts['plan'];
    const refused = writeTreeAtomically(out, (tree) => tree.addSync({ plan, files: [] }));
    await expect(refused).rejects.toThrow(/^bad\/plan\.json does not match schemas\/plan\.schema\.json:\n {2}/);
    await expect(refused).rejects.toThrow("/ must have required property 'source'");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("plan.json's text", () => {
  const plans = (): Plan[] => {
    const result = compileInMemory(readSources(findSyncFiles([example], example).files, example));
    if (!result.ok) throw new Error(result.diagnostics.map((d) => d.message).join('\n'));
    return result.artifacts.map((a) => a.plan);
  };

  it('is the plan as JSON; a step unlike every step validated before is validated, and its plan refused', () => {
    const writer = new PlanWriter();
    const all = plans();
    for (const plan of all) expect(writer.text(plan, 'p')).toBe(`${JSON.stringify(plan, null, 2)}\n`);
    // A send step broken as no step before was: its plan is refused, its error naming its own step.
    const plan = all.find((p) => p.steps.some((s) => s.kind === 'send'))!;
    const at = plan.steps.findIndex((s) => s.kind === 'send');
    const broken = { ...plan, steps: plan.steps.map((s, i) => (i === at ? { ...s, batch: { ...(s as { batch: object }).batch, size: 'many' } } : s)) } as Plan;
    expect(() => writer.text(broken, 'broken/plan.json')).toThrow(
      `broken/plan.json does not match schemas/plan.schema.json:\n  /steps/${at}/batch/size must be integer`,
    );
  });

  it('validates the rule on the list of steps with every plan: a call that runs a job, seen before, still needs a jobs step', () => {
    const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'golden', 'api', 'google_ads', 'audience-add.json'), 'utf8')) as Plan;
    expect(golden.steps.some((s) => s.kind === 'call' && 'job' in s)).toBe(true);
    const writer = new PlanWriter();
    expect(writer.text(golden, 'p')).toBe(`${JSON.stringify(golden, null, 2)}\n`);
    // Every step seen before: the plan without its jobs step is refused.
    expect(golden.steps[0]!.kind).not.toBe('call');
    const withoutJobs = { ...golden, steps: golden.steps.filter((s) => s.kind !== 'jobs') } as Plan;
    expect(() => writer.text(withoutJobs, 'no-jobs/plan.json')).toThrow('no-jobs/plan.json does not match schemas/plan.schema.json');
    // The first step made unseen (its keys in another order, the same step): the call seen before is validated with it.
    const reordered = { ...withoutJobs, steps: withoutJobs.steps.map((s, i) => (i === 0 ? Object.fromEntries(Object.entries(s).reverse()) : s)) } as Plan;
    expect(() => writer.text(reordered, 'reordered/plan.json')).toThrow('reordered/plan.json does not match schemas/plan.schema.json');
  });

  // Each is validated once, then known by its identity: one not seen before is validated, however many plans shared the others.
  it.each<[string, (p: Plan) => object | undefined, string, unknown, string]>([
    ['session', (p) => p.source.session, 'rollback', 5, '/source/session/rollback must be string'],
    ['settings', (p) => p.source.settings, 'port', [1], '/source/settings/port must be string'],
  ])("validates an endpoint's %s object it has not seen, after one many plans shared", (part, of, key, bad, error) => {
    const writer = new PlanWriter();
    const all = plans().filter((p) => of(p) !== undefined);
    expect(new Set(all.map(of)).size).toBeLessThan(all.length);
    for (const plan of all) expect(writer.text(plan, 'p')).toBe(`${JSON.stringify(plan, null, 2)}\n`);
    const plan = all[0]!;
    const broken = { ...plan, source: { ...plan.source, [part]: { ...of(plan), [key]: bad } } } as unknown as Plan;
    expect(() => writer.text(broken, 'broken/plan.json')).toThrow(`broken/plan.json does not match schemas/plan.schema.json:\n  ${error}`);
  });
});
