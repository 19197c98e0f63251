/**
 * Handlebars, loaded on first use by the front end: checking a project with no message
 * templates and no problems to report never needs it, and loading it costs a `check` run a
 * tenth of its time. (The back ends, which always need it, import it directly.)
 */
import { createRequire } from 'node:module';

type Handlebars = typeof import('handlebars');

let loaded: Handlebars | undefined;

export function handlebars(): Handlebars {
  return (loaded ??= createRequire(import.meta.url)('handlebars') as Handlebars);
}
