/**
 * The command line. The only module that touches process state: exit codes are 0 (success),
 * 1 (errors in the .sync files or a failed run) and 2 (usage or I/O error). A stack trace is
 * printed only for an internal error, never for bad input.
 */
import yargs from 'yargs';
import { runCheck } from './check-command.js';
import { runFmt } from './fmt-command.js';
import { runCompile } from './compile-command.js';
import { UsageError } from './files.js';
import { processIo, type Io } from './output.js';
import type { OutputFormat } from '../diagnostics/render.js';

const formats: OutputFormat[] = ['text', 'json', 'github'];

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
      (args) => {
        code = runCheck({ paths: args.paths, format: args.format, strict: args.strict }, io);
      },
    )
    .command(
      'fmt [paths..]',
      'rewrite .sync files in canonical layout',
      (y) => y.positional('paths', { type: 'string', array: true, default: [] as string[] }).option('check', { type: 'boolean', default: false, describe: 'change nothing; exit 1 if a file is not formatted' }),
      (args) => {
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
      (args) => {
        code = runCompile({ paths: args.paths, out: args.out, format: args.format, strict: args.strict, postgresVersion: args['postgres-version'] }, io);
      },
    )
    .demandCommand(1, 'name a command: check, fmt, compile')
    .strict()
    .help()
    .version()
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
