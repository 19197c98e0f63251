/** What a step tells its store or producer: the destination's settings rendered, and `--endpoint`. */
import type { Template } from '../../contract/api-steps.js';
import { baseContext, type StepEnv } from '../step-env.js';
import { render } from '../template.js';
import type { Connection, OutletContext } from './outlets.js';

/** The step's settings rendered (`$env` read), and the `--endpoint` given for its destination. */
export function connectionOf(env: StepEnv, connection: Readonly<Record<string, Template>>): OutletContext {
  const rendered: Record<string, Connection[string]> = {};
  for (const [name, t] of Object.entries(connection)) {
    const v = render(t, baseContext(env), env.render);
    if (v === null || typeof v !== 'object') rendered[name] = v;
  }
  const override = env.options.endpoints[env.plan.destination.name];
  return {
    connection: rendered,
    endpoint: override ?? (typeof rendered.endpoint === 'string' ? rendered.endpoint : undefined),
    secret: (value) => env.options.secrets.add(value),
  };
}
