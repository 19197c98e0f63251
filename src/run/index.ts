/**
 * The reference executor: runs compiled plans (plan.json and the SQL files beside it, the
 * published contract) on Postgres (embedded PGlite or a server), BigQuery and Snowflake (its SQL API),
 * and through the destinations' HTTP APIs. It imports nothing of the compiler but the plan's types.
 */
import type { Plan, PlanEndpoint } from '../contract/plan.js';
import { fillNames } from '../contract/names.js';
import { runApiPlan } from './api-plan.js';
import { loadPlan, type LoadedPlan } from './plan-file.js';
import { openPgliteSession } from './engines/pglite-session.js';
import { openPgSession } from './engines/pg-session.js';
import { serverOf } from './engines/pg-settings.js';
import { openBigQuerySession } from './engines/bigquery-session.js';
import { snowflakeConfig } from './engines/snowflake-auth.js';
import { openSnowflakeSession } from './engines/snowflake-session.js';
import { GuardAbort } from './guard.js';
import { SyncBusy } from './locks/sync-lock.js';
import { explainSqlError } from './engines/sql-errors.js';
import { envNames } from './output/redact.js';
import { refusedWithinLimit, runReport, statusOf, type PlanReport, type PlanStatus, type RunReport } from './output/report.js';
import type { SqlSession } from './engines/sql-session.js';
import { byName, type ExecOptions } from './step-env.js';
import { runWarehousePlan } from './warehouse-plan.js';

export { RateLimits, byName, execOptions, type ExecOptions } from './step-env.js';
export { loadPlan, planInMemory, type LoadedPlan } from './plan-file.js';
export type { MaxRefused, PlanReport, PlanStatus, RunReport, StepReport } from './output/report.js';

export interface Databases {
  /** The URL for every endpoint that has none of its own; undefined: the embedded database. */
  default?: string;
  /** URLs by source or destination name. */
  byName: Readonly<Record<string, string>>;
  /** The embedded database's folder. */
  folder: string;
  /**
   * The embedded database for every endpoint without a URL (`--db`, the demo), whatever its
   * settings say; otherwise an endpoint whose settings, service or PGHOST name a server runs there.
   */
  embedded?: boolean;
}

/**
 * Sessions opened on first use: a Postgres or Snowflake one is shared by every plan of the run
 * (one per database); a BigQuery one is the plan's own, ended with it (`endPlan`).
 */
class Sessions {
  private readonly open = new Map<string, Promise<SqlSession>>();
  /** This plan's BigQuery sessions: a plan's TEMP tables (change set, load, staging) live there and end with it, so two plans never meet on their fixed names. */
  private readonly plan = new Map<string, Promise<SqlSession>>();

  private readonly dbs: Databases;

  constructor(
    dbs: Databases,
    private readonly options: ExecOptions,
  ) {
    this.dbs = { ...dbs, byName: byName(dbs.byName) };
  }

  /**
   * Snowflake: the account its settings and SNOWFLAKE_* name (`--endpoint NAME=URL` overrides
   * the SQL API's address). Postgres: `--database NAME=URL`, else `--database URL` or
   * DATABASE_URL, else the server the endpoint's settings name, else the embedded database.
   */
  for(endpoint: PlanEndpoint): Promise<SqlSession> {
    if (endpoint.dialect === 'bigquery') return this.bigquery(endpoint);
    if (endpoint.dialect === 'snowflake') return this.snowflake(endpoint);
    const url = this.dbs.byName[endpoint.name] ?? this.dbs.default;
    const server = url || this.dbs.embedded ? undefined : serverOf(endpoint, this.options.env);
    // The password PGPASSWORD, the service file or the password file gave: a server may echo it.
    const password = server?.config.password;
    if (typeof password === 'string') this.options.secrets.add(password);
    else if (server && typeof password === 'function') {
      const secrets = this.options.secrets;
      server.config.password = async () => {
        const found = await password();
        secrets.add(found);
        return found;
      };
    }
    const key = url ?? (server ? server.location : '');
    let s = this.open.get(key);
    if (!s) {
      if (!url && !server && !this.dbs.embedded)
        this.options.notice(
          `${endpoint.name}: no host in its settings, PGSERVICE or PGHOST, and no --database: running on the embedded database ${this.dbs.folder}`,
        );
      const opened = url ? openPgSession(url) : server ? openPgSession(server) : openPgliteSession(this.dbs.folder, this.options);
      s = withOpened(opened, endpoint.session?.open);
      this.open.set(key, s);
    }
    return s;
  }

  /** A BigQuery session per endpoint of the plan: its project, location and credentials come from its settings (engines/bigquery-session.ts). */
  private bigquery(endpoint: PlanEndpoint): Promise<SqlSession> {
    let s = this.plan.get(endpoint.name);
    if (!s) {
      const apiEndpoint = this.options.endpoints[endpoint.name];
      s = openBigQuerySession(endpoint, endpoint.session ?? {}, { env: this.options.env, ...(apiEndpoint ? { apiEndpoint } : {}) });
      this.plan.set(endpoint.name, s);
    }
    return s;
  }

  /** Ends the plan's own sessions (BigQuery's), dropping its TEMP tables. */
  async endPlan(): Promise<void> {
    const all = await Promise.allSettled(this.plan.values());
    this.plan.clear();
    for (const s of all) if (s.status === 'fulfilled') await s.value.close();
  }

  /** A Snowflake session per account, user and context: each SQL API request is a session of its own (engines/snowflake-session.ts). */
  private snowflake(endpoint: PlanEndpoint): Promise<SqlSession> {
    const config = snowflakeConfig(endpoint, this.options.env, this.options.endpoints[endpoint.name]);
    const key = `snowflake ${config.base} ${config.account} ${config.user ?? ''} ${JSON.stringify(config.context)}`;
    let s = this.open.get(key);
    if (!s) {
      s = Promise.resolve(openSnowflakeSession(config, (v) => this.options.secrets.addCredential(v)));
      this.open.set(key, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await this.endPlan();
    const all = await Promise.allSettled(this.open.values());
    for (const s of all) if (s.status === 'fulfilled') await s.value.close();
  }
}

/**
 * A session once its `open` statement (the plan's) has run: a server's or database's own
 * TimeZone would otherwise render the text of a timestamptz that is not the compiled SQL's
 * (a cast, a message's column), though that SQL does not depend on it. A session whose open
 * statement fails is closed.
 */
async function withOpened(opened: Promise<SqlSession>, open: string | undefined): Promise<SqlSession> {
  const s = await opened;
  if (open === undefined) return s;
  try {
    await s.query(open);
  } catch (e) {
    await s.close().catch(() => undefined);
    throw e;
  }
  return s;
}

function emptyReport(plan: Plan, path: string, dryRun: boolean): PlanReport {
  return {
    sync: plan.sync.name,
    plan: path,
    destination: { name: plan.destination.name, type: plan.destination.type },
    mode: `${plan.sync.kind} ${plan.sync.mode}`,
    dryRun,
    status: 'ok',
    steps: [],
    operations: {},
    committed: 0,
    rejected: [],
    rejectedTotal: 0,
    startedAt: new Date().toISOString(),
    ms: 0,
  };
}

async function runOne(compiled: LoadedPlan, sessions: Sessions, options: ExecOptions): Promise<PlanReport> {
  let loaded = compiled;
  const { plan } = loaded;
  const report = emptyReport(plan, loaded.path, options.dryRun);
  const started = performance.now();
  for (const name of envNames(plan)) options.secrets.add(options.env[name]);
  try {
    // Names given by env(): filled, folded and quoted, before anything runs.
    loaded = { ...loaded, ...fillNames(plan, loaded.files, options.env) };
    if (plan.destination.category === 'warehouse' && options.dryRun) {
      report.skipped = 'a warehouse sync changes its target in one transaction of its own SQL, which a dry run does not run';
    } else if (plan.destination.category === 'warehouse') {
      const source = await sessions.for(plan.source);
      const destination = plan.destination.name === plan.source.name ? source : await sessions.for(plan.destination);
      source.forSync(plan.sync.name);
      destination.forSync(plan.sync.name);
      await runWarehousePlan(loaded, { source, destination }, options, report);
    } else {
      const source = await sessions.for(plan.source);
      source.forSync(plan.sync.name);
      await runApiPlan(loaded, source, options, report);
    }
    report.status = statusOf(report);
    if (report.status === 'rejected' && refusedWithinLimit(report, options.maxRefused)) report.refusedWithinLimit = true;
  } catch (e) {
    report.error = explainSqlError(e, loaded.plan) ?? (e as Error).message;
    report.status = stopOf(e);
  } finally {
    await sessions.endPlan();
  }
  for (const s of report.steps) if (s.kind !== 'call') report.operations[s.operation] = (report.operations[s.operation] ?? 0) + s.accepted;
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** Warehouse guards raise an error whose message says so (src/emit/warehouse.ts); Snowflake puts its own words before it. */
const warehouseGuard = /(^|: )syncwright guard:/;

function stopOf(e: unknown): PlanStatus {
  if (e instanceof SyncBusy) return 'busy';
  if (e instanceof GuardAbort || warehouseGuard.test((e as Error).message)) return 'guarded';
  return 'failed';
}

/**
 * Runs each plan in turn (a plan.json path, or a plan compiled in memory); one plan's failure
 * is reported and the next still runs.
 */
export async function runPlans(
  plans: readonly (string | LoadedPlan)[],
  databases: Databases,
  options: ExecOptions,
  onPlan?: (report: PlanReport) => void,
): Promise<RunReport> {
  // The drivers read a date or a timestamp without zone as a Date at that wall time in the
  // process's zone, and a bind or a payload writes a Date in UTC: in UTC the two agree, so a
  // value reaches the destination as the source holds it, wherever the run is.
  process.env.TZ = 'UTC';
  const startedAt = new Date();
  const started = performance.now();
  const sessions = new Sessions(databases, options);
  const reports: PlanReport[] = [];
  try {
    for (const given of plans) {
      const path = typeof given === 'string' ? given : given.path;
      let loaded: LoadedPlan;
      try {
        loaded = typeof given === 'string' ? loadPlan(given) : given;
      } catch (e) {
        const failed: PlanReport = {
          ...emptyReport({ sync: { name: path, kind: 'record', mode: '' }, destination: { name: '', type: '' } } as Plan, path, options.dryRun),
          status: 'failed',
          error: (e as Error).message,
        };
        reports.push(failed);
        onPlan?.(failed);
        continue;
      }
      const r = await runOne(loaded, sessions, options);
      reports.push(r);
      onPlan?.(r);
    }
  } finally {
    await sessions.close();
  }
  return runReport(reports, startedAt, performance.now() - started);
}
