import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: forks keep PGlite instances and servers isolated per file.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    // Self-checks (the parser's grammar, every JSON Schema against the meta-schema)
    // cost start-up time on every CLI run, so they run only when asked: here, in every test run.
    env: { SYNCWRIGHT_SELF_CHECKS: '1' },
    hookTimeout: 120_000,
  },
});
