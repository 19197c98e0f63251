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
  // An endpoint the destination names but renders empty (a variable set to ""): left out, the client
  // would send the rows to the service itself, or wherever its own variables point, not to that server.
  // Under --sink no address is used: the folder stands in for the service.
  if (
    override === undefined &&
    env.options.sink === undefined &&
    Object.hasOwn(rendered, 'endpoint') &&
    (typeof rendered.endpoint !== 'string' || rendered.endpoint === '')
  )
    throw new Error(`the destination's endpoint is empty: its setting names another address, so the service's own is not used in its place`);
  return {
    connection: rendered,
    endpoint: override ?? (typeof rendered.endpoint === 'string' ? rendered.endpoint : undefined),
    secret: (value) => env.options.secrets.add(value),
  };
}
