/**
 * Whether this process runs the checks of its own building blocks: Chevrotain's grammar and
 * token validations, Ajv's meta-schema validation and compiling every schema rather than
 * using the build's precompiled validators. They cost a CLI run more start-up time than they
 * could catch there, so only the test suite turns them on (vitest.config.ts).
 */
export const selfChecks = process.env.SYNCWRIGHT_SELF_CHECKS === '1';
