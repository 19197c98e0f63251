import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The longest files start first, so they overlap the rest instead of trailing it: sqlfluff
// parsing of generated Snowflake/BigQuery SQL is single-threaded and takes minutes.
const longest = ['api-dialects', 'warehouse-dialects', 'run-warehouse', 'run-crash', 'run-destinations'];
const rank = (spec: TestSpecification) => {
  const i = longest.findIndex((name) => spec.moduleId.endsWith(`/${name}.test.ts`));
  return i === -1 ? longest.length : i;
};

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    return base
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map((x) => x.spec);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: forks keep PGlite instances and servers isolated per file.
    pool: 'forks',
    maxWorkers: 2,
    // A guard against a hang, not a speed check: on a loaded machine the property tests and
    // end-to-end runs take minutes (speed is measured by `npm run bench`).
    testTimeout: 300_000,
    globalSetup: ['test/support/global-setup.ts'],
    // Self-checks (the parser's grammar, every JSON Schema against the meta-schema)
    // cost start-up time on every CLI run, so they run only when asked: here, in every test run.
    env: { SYNCWRIGHT_SELF_CHECKS: '1' },
    hookTimeout: 300_000,
    sequence: { sequencer: LongestFirst },
  },
});
