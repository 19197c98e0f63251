/** schemas/plan.schema.json rejects malformed plans, each with a message that says where and why. */
import { describe, expect, it } from 'vitest';
import { planErrors, validatePlan } from '../src/emit/plan-schema.js';
import { allApiCases } from './fixtures/api/destinations.js';
import { compileSync } from './fixtures/api/compile.js';

const c = allApiCases().find((x) => x.type === 'hubspot' && x.kind === 'record' && x.mode === 'mirror')!;
const valid = () => JSON.parse(JSON.stringify(compileSync(c.project, c.sync).plan)) as Record<string, any>;
const sendIndex = (plan: Record<string, any>) => (plan.steps as { kind: string }[]).findIndex((s) => s.kind === 'send');

describe('malformed plans', () => {
  it('accepts the plan as compiled', () => {
    expect(planErrors(valid())).toEqual([]);
  });

  it('rejects a missing field, naming it and the step', () => {
    const plan = valid();
    delete plan.steps[0].file;
    expect(planErrors(plan)).toContain("/steps/0 must have required property 'file'");
  });

  it('rejects a wrong type', () => {
    const plan = valid();
    const i = sendIndex(plan);
    plan.steps[i].batch.size = '100';
    expect(planErrors(plan)).toContain(`/steps/${i}/batch/size must be integer`);
  });

  it('rejects an unknown step kind, listing the kinds', () => {
    const plan = valid();
    plan.steps.push({ kind: 'teleport', description: 'x' });
    const errors = planErrors(plan);
    expect(errors.find((e) => e.startsWith(`/steps/${plan.steps.length - 1}/kind must be one of:`))).toMatch(/"sql", "load", "jobs", "changes".*"commit"/);
  });

  it('rejects an unknown property and a wrong version', () => {
    const plan = valid();
    plan.extra = true;
    plan.planVersion = 2;
    const errors = planErrors(plan);
    expect(errors).toContain("/ has an unknown property 'extra'");
    expect(errors).toContain('/planVersion must be equal to constant');
  });

  it('rejects a malformed template directive', () => {
    const plan = valid();
    const i = sendIndex(plan);
    plan.steps[i].requests[0].request.headers.Authorization = { $env: 5 };
    expect(planErrors(plan).some((e) => e.startsWith(`/steps/${i}/requests/0/request/headers/Authorization/$env must be string`))).toBe(true);
  });

  it('takes `when: changed` on call, send and write_object steps and `deferAccept` on send; rejects other values', () => {
    const compiled = (type: string) => {
      const c = allApiCases().find((x) => x.type === type && x.kind === 'record' && x.mode === 'mirror')!;
      return JSON.parse(JSON.stringify(compileSync(c.project, c.sync).plan)) as Record<string, any>;
    };
    const indexOf = (plan: Record<string, any>, kind: string) => (plan.steps as { kind: string }[]).findIndex((s) => s.kind === kind);
    const google = compiled('google_ads');
    const storage = compiled('s3');
    const [call, send, write] = [indexOf(google, 'call'), indexOf(google, 'send'), indexOf(storage, 'write_object')];
    google.steps[call].when = 'changed';
    expect(google.steps[send]).toMatchObject({ when: 'changed', deferAccept: true });
    expect(storage.steps[write].when).toBe('changed');
    expect(planErrors(google)).toEqual([]);
    expect(planErrors(storage)).toEqual([]);

    google.steps[call].when = 'sometimes';
    google.steps[send].when = 'always';
    google.steps[send].deferAccept = 'yes';
    storage.steps[write].when = true;
    expect(planErrors(google)).toEqual(
      expect.arrayContaining([
        `/steps/${call}/when must be one of: "changed", "emptied"`,
        `/steps/${send}/when must be one of: "changed", "emptied"`,
        `/steps/${send}/deferAccept must be boolean`,
      ]),
    );
    expect(planErrors(storage)).toContain(`/steps/${write}/when must be one of: "changed", "emptied"`);

    // Steps that neither call nor send take no condition.
    const plan = valid();
    plan.steps[0].when = 'changed';
    expect(planErrors(plan)).toContain("/steps/0 has an unknown property 'when'");
  });

  it("takes Meta mirror's `when: emptied` delete and its accept's `unless: emptied`; rejects other values", () => {
    const c = allApiCases().find((x) => x.type === 'facebook_ads' && x.kind === 'audience' && x.mode === 'mirror')!;
    const meta = JSON.parse(JSON.stringify(compileSync(c.project, c.sync).plan)) as { steps: Record<string, unknown>[] };
    const remove = meta.steps.findIndex((s) => s.operation === 'remove_members');
    const accept = meta.steps.findIndex((s) => s.kind === 'accept');
    expect(meta.steps[remove]).toMatchObject({ when: 'emptied', changes: ['removed'], requests: [{ request: { method: 'DELETE' } }] });
    expect(meta.steps[accept]).toMatchObject({ when: 'all_accepted', unless: 'emptied' });
    expect(planErrors(meta)).toEqual([]);

    (meta.steps[accept] as Record<string, unknown>).unless = 'empty';
    expect(planErrors(meta)).toContain(`/steps/${accept}/unless must be one of: "changed", "emptied"`);
  });

  it("takes a rule by status's `unsure` codes only beside its `success`, without which they could never apply", () => {
    const c = allApiCases().find((x) => x.type === 'slack')!;
    const plan = JSON.parse(JSON.stringify(compileSync(c.project, c.sync).plan)) as ReturnType<typeof valid>;
    const i = sendIndex(plan);
    const accept = plan.steps[i].requests[0].accept;
    expect(accept.unsure).toBeDefined();
    expect(planErrors(plan)).toEqual([]);
    delete accept.success;
    expect(planErrors(plan).some((e) => e.startsWith(`/steps/${i}/requests/0/accept`) && e.includes('success'))).toBe(true);
  });

  it('rejects a call that runs a job in a plan without the jobs step that watches it', () => {
    const g = allApiCases().find((x) => x.type === 'google_ads' && x.kind === 'audience' && x.mode === 'add')!;
    const plan = JSON.parse(JSON.stringify(compileSync(g.project, g.sync).plan)) as { steps: { kind: string }[] };
    expect(planErrors(plan)).toEqual([]);
    plan.steps = plan.steps.filter((s) => s.kind !== 'jobs');
    expect(planErrors(plan)).toContain('/steps must match "then" schema');
  });

  it('makes validatePlan throw with every error', () => {
    const plan = valid();
    delete plan.sync;
    expect(() => validatePlan(plan)).toThrow(/plan.json does not match schemas\/plan.schema.json:\n {2}\/ must have required property 'sync'/);
  });
});
