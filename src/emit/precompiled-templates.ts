/**
 * The build's precompiled SQL templates (scripts/precompile-templates.js): each
 * templates/**\/*.hbs as Handlebars' template code, keyed by a hash of its text, the compile
 * options and the Handlebars version. A compile then renders with the Handlebars runtime (a
 * fraction of the package) and compiles nothing; a template edited since the build has no
 * code under its new key and is compiled as before.
 */
import { hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { handlebars, handlebarsRuntime, handlebarsVersion } from '../handlebars.js';
import { selfChecks } from '../self-checks.js';

/** Every SQL template is compiled so: it writes SQL, not HTML, and a missing value is an error. */
export const compileOptions = Object.freeze({ noEscape: true, strict: true } as const);

// Beside dist/emit/*.js, named so that a module of the bundled CLI (dist/<folder>/) finds it too.
export const precompiledTemplatesFile = fileURLToPath(new URL('../emit/templates.precompiled.cjs', import.meta.url));

export function templateKey(text: string): string {
  return hash('sha256', `handlebars ${handlebarsVersion()} ${JSON.stringify(compileOptions)}\n${text}`);
}

type Environment = ReturnType<typeof import('handlebars')['create']>;
type Spec = TemplateSpecification;

let specs: Readonly<Record<string, Spec>> | null | undefined;

/** The build's code of a template text, if it has one (never under the test suite's self-checks, which compile). */
function specOf(text: string): Spec | undefined {
  if (specs === undefined)
    specs = !selfChecks && existsSync(precompiledTemplatesFile) ? (createRequire(import.meta.url)(precompiledTemplatesFile) as Record<string, Spec>) : null;
  return specs?.[templateKey(text)];
}

/**
 * A new Handlebars environment for these template texts and the function that makes each a
 * template in it: the runtime's, from the build's code, when every text has code; else the
 * full package's, compiling them.
 */
export function templateEnvironment(texts: Iterable<string>): { env: Environment; template: (text: string) => HandlebarsTemplateDelegate } {
  const found = new Map([...texts].map((t) => [t, specOf(t)]));
  if ([...found.values()].every((spec) => spec !== undefined)) {
    const env = handlebarsRuntime().create() as Environment;
    return { env, template: (text) => env.template(found.get(text)!) };
  }
  const env = handlebars().create();
  return { env, template: (text) => env.compile(text, { ...compileOptions }) };
}
