/**
 * The command line. The only module that touches process state: exit codes are 0 (success),
 * 1 (errors in the .sync files) and 2 (usage or I/O error), and for `run` those of
 * `runExitCodes` (src/cli/run-command.ts). A stack trace is printed only for an internal
 * error, never for bad input.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { UsageError } from '../files.js';
import { processIo, type Io } from './output.js';
import type { OutputFormat } from '../diagnostics/render.js';

const formats: OutputFormat[] = ['text', 'json', 'github'];

// Said explicitly: yargs would look for a package.json from the folder it runs in, which may be the user's project.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Global = { format: OutputFormat };
type Options<T> = (y: Argv<Global>) => Argv<T>;
/** What yargs parses for a command whose options `build` declares. */
type Parsed<B extends Options<unknown>> = Awaited<ReturnType<B>['argv']>;

const paths = <T>(y: Argv<T>) => y.positional('paths', { type: 'string', array: true, default: [] as string[] });
const strict = <T>(y: Argv<T>) => y.option('strict', { type: 'boolean', default: false, describe: 'treat warnings as errors' });
const postgresVersion = { choices: [15, 16, 17, 18], type: 'number' } as const;

const target = <T>(y: Argv<T>) =>
  y.option('target', {
    type: 'string',
    describe: 'dbt target whose artifacts models read from dbt take: <dbt project>/target/<name>/ (default: target/ itself)',
  });
const checkOptions = (y: Argv<Global>) =>
  target(strict(paths(y))).option('cache', {
    type: 'boolean',
    default: true,
    describe: 'resume from what the last check of these paths kept in .syncwright/check/, and keep this one (--no-cache: neither)',
  });
const fmtOptions = (y: Argv<Global>) =>
  paths(y).option('check', { type: 'boolean', default: false, describe: 'change nothing; exit 1 if a file is not formatted' });
const compileOptions = (y: Argv<Global>) =>
  target(strict(paths(y)))
    .option('out', { type: 'string', default: 'build', describe: 'output folder, replaced as a whole' })
    .option('postgres-version', { ...postgresVersion, describe: 'Postgres major version to generate for (default: the version setting, else 15)' });
const runOptions = (y: Argv<Global>) =>
  target(strict(paths(y)))
    .option('sync', { type: 'string', array: true, default: [] as string[], describe: 'run only these syncs' })
    .option('cache', {
      type: 'boolean',
      default: true,
      describe: 'with --sync and no --out: check resuming from .syncwright/check/, as check does, and keep it there (--no-cache: neither)',
    })
    .option('plan', { type: 'string', array: true, default: [] as string[], describe: 'run compiled plans (build/<sync>/plan.json) instead of compiling' })
    .option('out', { type: 'string', describe: 'keep the compiled plans in this folder (default: a private folder, removed after the run)' })
    .option('postgres-version', { ...postgresVersion, describe: 'Postgres major version to generate for' })
    .option('database', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Postgres URL (default $DATABASE_URL, else the embedded database); NAME=URL for one source or destination',
    })
    .option('db', { type: 'string', describe: 'folder of the embedded database (default .syncwright/db)' })
    .option('endpoint', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: "NAME=URL: send a destination's requests (or a BigQuery source's) to another base URL",
    })
    .option('sink', {
      type: 'string',
      describe: 'write storage objects and stream messages to this folder, or - for stdout, instead of S3, GCS, Kafka or Kinesis',
    })
    .option('dry-run', { type: 'boolean', default: false, describe: 'build the change set and show what would be sent; send and commit nothing' })
    .option('report', { type: 'string', describe: 'write a JSON run report to this file' })
    .option('concurrency', { type: 'number', default: 4, describe: 'requests in flight per step (1-1000)' })
    .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for each response (up to 3600), unless the destination sets its own' })
    .option('wait', {
      type: 'number',
      default: 0,
      describe: 'seconds to wait for another run of the same sync (or of the embedded database) to finish; 0: stop at once',
    })
    .option('max-refused', {
      type: 'string',
      default: '0',
      describe: 'refused rows (N) or share of rows (P%) per sync that still exit 0; they stay in the report and are sent again next run',
    });
const diffOptions = (y: Argv<Global>) =>
  y
    .positional('base', { type: 'string', demandOption: true, describe: 'the version compared from: a folder, or a git revision' })
    .positional('head', { type: 'string', describe: 'the version compared to: a folder or a git revision (default: the project folder on disk)' })
    .option('project', { type: 'string', default: '.', describe: "the project's folder, on disk and in revisions" })
    .option('fail-on-destructive', { type: 'boolean', default: false, describe: 'exit 1 when a change is destructive' });
const demoOptions = (y: Argv<Global>) => y;
const dbtOptions = (y: Argv<Global>) =>
  target(strict(paths(y.positional('action', { choices: ['exposures'] as const, demandOption: true }))))
    .option('out', { type: 'string', describe: 'the property file to write (e.g. dbt/models/syncwright_exposures.yml); default: print it' })
    .option('owner-name', { type: 'string', describe: "the exposures' owner (dbt needs a name or an email)" })
    .option('owner-email', { type: 'string', describe: "the exposures' owner's email" })
    .option('url', { type: 'string', describe: 'a link for each exposure; {sync} is replaced by the sync name' });
const airflowOptions = (y: Argv<Global>) =>
  y
    .option('manifest', { type: 'string', default: 'build/manifest.json', describe: "the compiled output's manifest.json" })
    .option('out', { type: 'string', describe: 'folder for the DAG files (the Airflow dags folder, or one it reads); required' })
    .option('build', { type: 'string', describe: 'where the compiled output lies on the Airflow workers (default: the folder of --manifest)' })
    .option('dag-prefix', { type: 'string', default: 'syncwright', describe: 'prefix of the DAG ids' })
    .option('syncwright', { type: 'string', default: 'syncwright', describe: 'how the Bash tasks call syncwright on the workers' });
// What language clients pass; stdio is the only transport, and the protocol library watches the client's process itself.
const lspOptions = (y: Argv<Global>) =>
  y
    .option('stdio', { type: 'boolean', describe: 'talk over stdin and stdout (the only transport)' })
    .option('clientProcessId', { type: 'number', describe: 'stop when this process ends' });

/**
 * Each command: its usage, its options, and what runs it. A command's module is loaded when it
 * runs: `check` need not load the SQL formatter, the executor or the embedded database, which
 * would cost more start-up time than it checks. Commands are dispatched here, after parsing,
 * rather than by yargs handlers: yargs renders the whole help text after running a handler.
 */
const commands = {
  check: {
    usage: 'check [paths..]',
    describe: 'parse and check .sync files (files or folders; default: the current folder)',
    options: checkOptions,
    run: async (a: Parsed<typeof checkOptions>, io: Io) =>
      (await import('./check-command.js')).runCheck(
        { paths: a.paths, format: a.format, strict: a.strict, cache: a.cache, ...(a.target ? { target: a.target } : {}) },
        io,
      ),
  },
  fmt: {
    usage: 'fmt [paths..]',
    describe: 'rewrite .sync files in canonical layout',
    options: fmtOptions,
    run: async (a: Parsed<typeof fmtOptions>, io: Io) => (await import('./fmt-command.js')).runFmt({ paths: a.paths, check: a.check, format: a.format }, io),
  },
  compile: {
    usage: 'compile [paths..]',
    describe: 'check, then write SQL scripts, plan.json files and manifest.json into the output folder',
    options: compileOptions,
    run: async (a: Parsed<typeof compileOptions>, io: Io) =>
      (await import('./compile-command.js')).runCompile(
        { paths: a.paths, out: a.out, format: a.format, strict: a.strict, postgresVersion: a['postgres-version'], ...(a.target ? { target: a.target } : {}) },
        io,
      ),
  },
  run: {
    usage: 'run [paths..]',
    describe: 'compile and run syncs (or run compiled plans with --plan): SQL on Postgres, requests to the destinations',
    options: runOptions,
    run: async (a: Parsed<typeof runOptions>, io: Io) =>
      (await import('./run-command.js')).runRun(
        {
          paths: a.paths,
          syncs: a.sync,
          cache: a.cache,
          plans: a.plan,
          ...(a.out === undefined ? {} : { out: a.out }),
          format: a.format,
          strict: a.strict,
          ...(a.target ? { target: a.target } : {}),
          ...(a['postgres-version'] ? { postgresVersion: a['postgres-version'] } : {}),
          databases: a.database,
          ...(a.db ? { db: a.db } : {}),
          endpoints: a.endpoint,
          ...(a.sink === undefined ? {} : { sink: a.sink }),
          dryRun: a['dry-run'],
          ...(a.report ? { report: a.report } : {}),
          concurrency: a.concurrency,
          timeoutSeconds: a.timeout,
          waitSeconds: a.wait,
          maxRefused: a['max-refused'],
        },
        io,
      ),
  },
  dbt: {
    usage: 'dbt <action> [paths..]',
    describe: 'dbt integration: `exposures` writes a dbt exposure per sync that reads a dbt model',
    options: dbtOptions,
    run: async (a: Parsed<typeof dbtOptions>, io: Io) =>
      (await import('./dbt-command.js')).runDbtExposures(
        {
          paths: a.paths,
          format: a.format,
          strict: a.strict,
          ...(a.out ? { out: a.out } : {}),
          ...(a.target ? { target: a.target } : {}),
          ...(a['owner-name'] ? { ownerName: a['owner-name'] } : {}),
          ...(a['owner-email'] ? { ownerEmail: a['owner-email'] } : {}),
          ...(a.url ? { url: a.url } : {}),
        },
        io,
      ),
  },
  airflow: {
    usage: 'airflow',
    describe: "write Airflow DAG files from a compiled output's manifest.json",
    options: airflowOptions,
    run: async (a: Parsed<typeof airflowOptions>, io: Io) =>
      (await import('./airflow-command.js')).runAirflow(
        {
          manifest: a.manifest,
          ...(a.out ? { out: a.out } : {}),
          ...(a.build ? { build: a.build } : {}),
          dagPrefix: a['dag-prefix'],
          syncwright: a.syncwright,
        },
        io,
      ),
  },
  diff: {
    usage: 'diff <base> [head]',
    describe: 'compare two versions of a project by meaning, riskiest first (--format github: Markdown for a pull request)',
    options: diffOptions,
    run: async (a: Parsed<typeof diffOptions>, io: Io) =>
      (await import('./diff-command.js')).runDiff(
        { base: a.base, ...(a.head !== undefined ? { head: a.head } : {}), project: a.project, format: a.format, failOnDestructive: a['fail-on-destructive'] },
        io,
      ),
  },
  lsp: {
    usage: 'lsp',
    describe: 'run the language server for editors (Language Server Protocol over stdin and stdout)',
    options: lspOptions,
    run: async (_a: Parsed<typeof lspOptions>, _io: Io) => (await import('./lsp-command.js')).runLsp(version),
  },
  demo: {
    usage: 'demo',
    describe: 'run the bundled demo end to end: seed an embedded database, compile, sync, change rows, sync again',
    options: demoOptions,
    run: async (_a: Parsed<typeof demoOptions>, io: Io) => (await import('./demo-command.js')).runDemo(io),
  },
};

/**
 * The arguments as yargs should read them. yargs reads a lone `-` as a positional (stdin), so
 * `--sink -`, as the docs write it, would give the sink an empty value and the paths a `-`:
 * written `--sink=-`, it is the sink's; elsewhere a lone `-` is refused, as yargs would make it
 * an empty path or revision. And an empty argument is refused, as no option's value and no path
 * may be empty: it is a variable that was not set (`--report "$FILE"`), and taken as absent
 * would write no report, run every sync, or send to the services instead of a sink.
 */
const dashValued = new Set(['--sink']);
function argsOf(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return [...out, ...argv.slice(i)];
    if (/^--[^=]+=$/.test(a)) throw new UsageError(`${a.slice(0, -1)} is given an empty value`);
    if (a === '') throw new UsageError(`an argument is empty ("")${i > 0 ? ` (after ${argv[i - 1]})` : ''}`);
    if (a === '-') throw new UsageError('a lone - (stdin) is not read here: a file of that name is ./-');
    if (dashValued.has(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * A command's options as its builder declares them, and checked: each that takes a value needs
 * one (`--sink` last, or before another option, would be yargs' empty string: the working
 * folder as the sink); each that takes one value is refused when given twice or negated
 * (`--no-sink`, `--no-wait`), as yargs would make it an array, `false` or 0. `usage` names the
 * positionals, which take no such check.
 */
function checkedOptions(options: Options<Global>, usage: string, raw: readonly string[]): Options<Global> {
  const positionals = new Set([...usage.matchAll(/[<[](\w+)(?:\.\.)?[>\]]/g)].map((m) => m[1]));
  const given = raw.slice(0, raw.includes('--') ? raw.indexOf('--') : raw.length);
  return (y) => {
    const built = options(y);
    // The options declared so far, by type (yargs has the method; its types do not say so).
    const {
      string,
      number,
      array,
      default: defaults,
    } = (built as unknown as { getOptions(): Record<'string' | 'number' | 'array', string[]> & { default: Record<string, unknown> } }).getOptions();
    const valued = [...new Set([...string, ...number, ...array])].filter((k) => !positionals.has(k));
    const single = valued.filter((k) => !array.includes(k) && !Array.isArray(defaults[k]));
    return built.requiresArg(valued).check((argv) => {
      for (const key of single) {
        // Read from the arguments: yargs makes a negated number 0, which no value tells apart.
        if (given.some((a) => a === `--no-${key}` || a.startsWith(`--no-${key}=`)))
          throw new UsageError(`--no-${key} is not an option: --${key} takes a value`);
        if (Array.isArray(argv[key])) throw new UsageError(`--${key} is given more than once`);
      }
      return true;
    });
  };
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  try {
    let cli = yargs(argsOf(argv))
      // `--sink.a b` would be an object where a path is read.
      .parserConfiguration({ 'dot-notation': false })
      .scriptName('syncwright')
      .usage('$0 <command> [options]\n\nCompile .sync files into warehouse SQL and API execution plans.')
      .option('format', { type: 'string', choices: formats, default: 'text' as OutputFormat, describe: 'how diagnostics are printed' });
    for (const c of Object.values(commands)) cli = cli.command(c.usage, c.describe, checkedOptions(c.options as Options<Global>, c.usage, argv));
    cli = cli
      .demandCommand(1, `name a command: ${Object.keys(commands).join(', ')}`)
      .strict()
      .help()
      .version(version)
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      });
    const args = await cli.parseAsync();
    // --help and --version print and stop: no command is named then.
    const name = args._[0];
    if (args.help || args.version || name === undefined) return 0;
    // What follows `--` is no command's: yargs keeps it aside, where nothing reads it.
    if (args._.length > 1) throw new UsageError(`arguments after -- are not read: ${args._.slice(1).join(' ')} (a path that starts with - is written ./-x)`);
    const command = commands[name as keyof typeof commands];
    return await command.run(args as never, io);
  } catch (e) {
    if (e instanceof UsageError || (e as Error).name === 'YError') {
      // A message may quote a file (JSON.parse's quotes the text it stopped at) or git's stderr: escaped for the terminal.
      const { printable } = await import('../printable.js');
      io.err(`syncwright: ${printable((e as Error).message)}\nRun 'syncwright --help' for usage.`);
      return 2;
    }
    throw e;
  }
}
