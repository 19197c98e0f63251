/** What a step tells its store or producer: the destination's settings rendered, and `--endpoint`. */
import type { Template } from '../../contract/api-steps.js';
import { baseContext, type StepEnv } from '../step-env.js';
import { render } from '../template.js';
import { named, type Connection, type OutletContext } from './outlets.js';

/** The step's settings rendered (`$env` read), and the `--endpoint` given for its destination. */
export function connectionOf(env: StepEnv, connection: Readonly<Record<string, Template>>): OutletContext {
  const rendered: Record<string, Connection[string]> = {};
  for (const [name, t] of Object.entries(connection)) {
    const v = render(t, baseContext(env), env.render);
    if (v === null || typeof v !== 'object') rendered[name] = v;
  }
  const override = env.options.endpoints[env.plan.destination.name];
  // An endpoint the destination names but renders empty (a variable set to "") stops the step (`named`): left out, the
  // client would send the rows to the service itself, or wherever its own variables point. Under --sink no address is
  // used: the folder stands in for the service.
  return {
    connection: rendered,
    endpoint: override ?? (env.options.sink === undefined ? named(rendered, 'endpoint') : undefined),
    secret: (value) => env.options.secrets.add(value),
  };
}
