import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The longest files start first, so they overlap the rest instead of trailing it (in the order
// of their times in CI: the end-to-end runs and sqlfluff's parses of Snowflake/BigQuery SQL).
const longest = [
  'run-bigquery',
  'run-cloud-sinks',
  'api-dialects',
  'run-destinations',
  'action',
  'run-cli',
  'package',
  'run-crash',
  'dbt-airflow',
  'warehouse-dialects',
  'run-warehouse',
  'run-snowflake',
  'run-sql',
];
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

// Files that replace or reload modules (vi.mock, vi.resetModules) need a module cache of their own.
const isolated = ['test/emit-validate.test.ts', 'test/emit-format-carry.test.ts'];

export default defineConfig({
  test: {
    // Two cores: two processes, each running its share of the files one after another.
    pool: 'forks',
    maxWorkers: 2,
    // A guard against a hang, not a speed check: on a loaded machine the property tests and
    // end-to-end runs take minutes (speed is measured by `npm run bench`).
    testTimeout: 300_000,
    // Self-checks (the parser's grammar, every JSON Schema against the meta-schema) cost
    // start-up time on every CLI run, so they run only when asked: here, in the tests' own
    // processes (not in the commands they start, which run as users run them).
    setupFiles: ['test/support/self-checks.ts'],
    hookTimeout: 300_000,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: isolated,
          // The files of a process share its modules: each file's import of the compiler (and
          // its first compile's set-up) was a sixth of the suite's time. Every file closes the
          // servers and databases it opens and restores what it changes of the process.
          isolate: false,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'isolated', include: isolated } },
    ],
  },
});
