/**
 * The command line. The only module that touches process state: exit codes are 0 (success),
 * 1 (errors in the .sync files or a failed run) and 2 (usage or I/O error). A stack trace is
 * printed only for an internal error, never for bad input.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { UsageError } from './files.js';
import { processIo, type Io } from './output.js';
import type { OutputFormat } from '../diagnostics/render.js';

const formats: OutputFormat[] = ['text', 'json', 'github'];

// Said explicitly: yargs would look for a package.json from the folder it runs in, which may be the user's project.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// Each command's module is loaded when it runs: `check` need not load the SQL formatter,
// the executor or the embedded database, which would cost more start-up time than it checks.
const commands = {
  check: () => import('./check-command.js'),
  fmt: () => import('./fmt-command.js'),
  compile: () => import('./compile-command.js'),
  run: () => import('./run-command.js'),
  demo: () => import('./demo-command.js'),
};

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = 0;
  const cli = yargs(argv)
    .scriptName('syncwright')
    .usage('$0 <command> [options]\n\nCompile .sync files into warehouse SQL and API execution plans.')
    .option('format', { choices: formats, default: 'text' as OutputFormat, describe: 'how diagnostics are printed' })
    .command(
      'check [paths..]',
      'parse and check .sync files (files or folders; default: the current folder)',
      (y) => y.positional('paths', { type: 'string', array: true, default: [] as string[] }).option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' }),
      async (args) => {
        const { runCheck } = await commands.check();
        code = runCheck({ paths: args.paths, format: args.format, strict: args.strict }, io);
      },
    )
    .command(
      'fmt [paths..]',
      'rewrite .sync files in canonical layout',
      (y) => y.positional('paths', { type: 'string', array: true, default: [] as string[] }).option('check', { type: 'boolean', default: false, describe: 'change nothing; exit 1 if a file is not formatted' }),
      async (args) => {
        const { runFmt } = await commands.fmt();
        code = runFmt({ paths: args.paths, check: args.check, format: args.format }, io);
      },
    )
    .command(
      'compile [paths..]',
      'check, then write SQL scripts, plan.json files and manifest.json into the output folder',
      (y) =>
        y
          .positional('paths', { type: 'string', array: true, default: [] as string[] })
          .option('out', { type: 'string', default: 'build', describe: 'output folder, replaced as a whole' })
          .option('postgres-version', { choices: [15, 16, 17, 18], type: 'number', describe: 'Postgres major version to generate for (default: the version setting, else 15)' })
          .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' }),
      async (args) => {
        const { runCompile } = await commands.compile();
        code = await runCompile({ paths: args.paths, out: args.out, format: args.format, strict: args.strict, postgresVersion: args['postgres-version'] }, io);
      },
    )
    .command(
      'run [paths..]',
      'compile and run syncs (or run compiled plans with --plan): SQL on Postgres, requests to the destinations',
      (y) =>
        y
          .positional('paths', { type: 'string', array: true, default: [] as string[] })
          .option('sync', { type: 'string', array: true, default: [] as string[], describe: 'run only these syncs' })
          .option('plan', { type: 'string', array: true, default: [] as string[], describe: 'run compiled plans (build/<sync>/plan.json) instead of compiling' })
          .option('out', { type: 'string', default: 'build', describe: 'where the plans are compiled to' })
          .option('postgres-version', { choices: [15, 16, 17, 18], type: 'number', describe: 'Postgres major version to generate for' })
          .option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' })
          .option('database', { type: 'string', array: true, default: [] as string[], describe: 'Postgres URL (default $DATABASE_URL, else the embedded database); NAME=URL for one source or destination' })
          .option('db', { type: 'string', describe: 'folder of the embedded database (default .syncwright/db)' })
          .option('endpoint', { type: 'string', array: true, default: [] as string[], describe: 'NAME=URL: send a destination\'s requests to another base URL' })
          .option('sink', { type: 'string', describe: 'folder for storage objects and stream messages, or - for stdout (default .syncwright/sink)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'build the change set and show what would be sent; send and commit nothing' })
          .option('report', { type: 'string', describe: 'write a JSON run report to this file' })
          .option('concurrency', { type: 'number', default: 4, describe: 'requests in flight per step' })
          .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for each response' }),
      async (args) => {
        const { runRun } = await commands.run();
        code = await runRun(
          {
            paths: args.paths,
            syncs: args.sync,
            plans: args.plan,
            out: args.out,
            format: args.format,
            strict: args.strict,
            ...(args['postgres-version'] ? { postgresVersion: args['postgres-version'] } : {}),
            databases: args.database,
            ...(args.db ? { db: args.db } : {}),
            endpoints: args.endpoint,
            ...(args.sink ? { sink: args.sink } : {}),
            dryRun: args['dry-run'],
            ...(args.report ? { report: args.report } : {}),
            concurrency: args.concurrency,
            timeoutSeconds: args.timeout,
          },
          io,
        );
      },
    )
    .command(
      'demo',
      'run the bundled demo end to end: seed an embedded database, compile, sync, change rows, sync again',
      (y) => y,
      async () => {
        const { runDemo } = await commands.demo();
        code = await runDemo(io);
      },
    )
    .demandCommand(1, 'name a command: check, fmt, compile, run, demo')
    .strict()
    .help()
    .version(version)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await cli.parseAsync();
    return code;
  } catch (e) {
    if (e instanceof UsageError || (e as Error).name === 'YError') {
      io.err(`syncwright: ${(e as Error).message}\nRun 'syncwright --help' for usage.`);
      return 2;
    }
    throw e;
  }
}
