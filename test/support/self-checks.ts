// The suite's own processes run the compiler's self-checks (src/self-checks.ts: Chevrotain's
// grammar validations, Ajv's meta-schema validation, every schema and template compiled from
// source). The commands the tests start as child processes run as users run them, on the
// build's precompiled validators and templates: the variable is set only while the module
// reads it, so that children do not inherit it (a compile in a child took twice as long with it).
const outer = process.env.SYNCWRIGHT_SELF_CHECKS;
process.env.SYNCWRIGHT_SELF_CHECKS = '1';
const { selfChecks } = await import('../../src/self-checks.js');
if (outer === undefined) delete process.env.SYNCWRIGHT_SELF_CHECKS;
else process.env.SYNCWRIGHT_SELF_CHECKS = outer;
// Loaded without the variable: a test file of a shared process reloaded the modules (vi.resetModules).
if (!selfChecks)
  throw new Error(
    'src/self-checks.ts was loaded without SYNCWRIGHT_SELF_CHECKS: list the test file that reloads modules among the isolated ones (vitest.config.ts)',
  );
