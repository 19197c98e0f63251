/**
 * Where a Postgres source or destination is, as libpq would find it: the endpoint's settings
 * (`host`, `port`, `database`, `user`, each literal or env("X"); `password` from its
 * environment variable), then the
 * service named by PGSERVICE in the service file (PGSERVICEFILE or ~/.pg_service.conf, then
 * PGSYSCONFDIR/pg_service.conf), then the PG* variables, then libpq's defaults. The password is
 * never a literal: the setting names a variable, else PGPASSWORD or the service's, else the
 * password file's (PGPASSFILE or ~/.pgpass), as libpq reads it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ClientConfig } from 'pg';
import type { PlanEndpoint } from '../../contract/plan.js';
import { settingOf } from './endpoint-settings.js';

/** A `pg` client configuration, and where it points (without a password) for messages. */
export interface ServerConfig {
  config: ClientConfig;
  location: string;
}

/** The parameters of service `name` in a pg_service.conf text, or undefined when it has no such section. */
export function serviceSection(text: string, name: string): Record<string, string> | undefined {
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = section[1];
      if (current === name) found ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (current === name && found && eq > 0) found[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return found;
}

function readService(name: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const files = [
    env.PGSERVICEFILE ?? join(env.HOME ?? homedir(), '.pg_service.conf'),
    ...(env.PGSYSCONFDIR ? [join(env.PGSYSCONFDIR, 'pg_service.conf')] : []),
  ];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const section = serviceSection(text, name);
    if (section) return section;
  }
  throw new Error(`the Postgres service ${name} (PGSERVICE) is not in ${files.join(' or ')}`);
}

/**
 * libpq's sslmode as `pg` takes it: require encrypts without checking the certificate, verify-*
 * checks it, against the host name where the connection goes to an address (`hostaddr`).
 */
function sslOf(mode: string | undefined, name: string | undefined): ClientConfig['ssl'] {
  if (mode === 'require') return { rejectUnauthorized: false };
  if (mode === 'verify-ca' || mode === 'verify-full') return name === undefined ? true : { servername: name };
  return false;
}

type PgPass = (params: { host: string; port: number; database: string; user: string }, found: (password: string | undefined) => void) => void;
const require = createRequire(import.meta.url);

/**
 * The password in the password file (PGPASSFILE, else ~/.pgpass) for these parameters, read
 * when `pg` asks for one; none found is undefined, which `pg` takes as no password (its types
 * say string only).
 */
const passwordFile = (params: Parameters<PgPass>[0]) =>
  (() => new Promise<string | undefined>((resolve) => (require('pgpass') as PgPass)(params, resolve))) as () => Promise<string>;

/**
 * The password the password file gives a connection URL without one, as `pg` looks it up itself
 * (the same lookup: PGPASSFILE, else the platform's file): what the run sends, so what it redacts.
 */
export function urlFilePassword(url: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.resolve(undefined);
  }
  if (u.password) return Promise.resolve(undefined);
  const user = decodeURIComponent(u.username) || env.PGUSER || userInfo().username;
  const host = u.hostname.replace(/^\[|\]$/g, '') || env.PGHOST || 'localhost';
  const database = decodeURIComponent(u.pathname.slice(1)) || env.PGDATABASE || user;
  return passwordFile({ host, port: Number(u.port || env.PGPORT || 5432), database, user })();
}

/**
 * The server an endpoint names, or undefined when nothing names one (no host in its settings,
 * its service or PGHOST/PGHOSTADDR): then it runs on the embedded database.
 */
export function serverOf(endpoint: PlanEndpoint, env: NodeJS.ProcessEnv): ServerConfig | undefined {
  const s = endpoint.settings;
  const service = env.PGSERVICE ? readService(env.PGSERVICE, env) : {};
  const setting = (name: string) => settingOf(endpoint, name, env);
  const pick = (name: string, serviceKey: string, envKey: string): string | undefined => setting(name) ?? service[serviceKey] ?? env[envKey] ?? undefined;
  // Where it connects: as libpq, a hostaddr (the service's, else PGHOSTADDR) is the address it
  // connects to, and the host the name (for the certificate), each read on its own. A host the
  // endpoint names is where it goes: no hostaddr of elsewhere overrides it.
  const named = setting('host');
  const [name, address] = named !== undefined ? [named, undefined] : [service.host ?? env.PGHOST, service.hostaddr ?? env.PGHOSTADDR];
  const host = address || name;
  if (host === undefined || host === '') return undefined;
  // Connecting to an address, the name is what the certificate and the password file are read by.
  const byName = address && name ? name : undefined;
  const port = Number(pick('port', 'port', 'PGPORT') ?? 5432);
  const user = pick('user', 'user', 'PGUSER') ?? userInfo().username;
  const database = pick('database', 'dbname', 'PGDATABASE') ?? user;
  const secret = s.password;
  let password: string | undefined;
  if (secret !== undefined && typeof secret === 'object' && 'env' in secret) {
    password = env[secret.env];
    if (password === undefined) throw new Error(`environment variable ${secret.env} is not set (the password of ${endpoint.name})`);
  } else {
    password = service.password ?? env.PGPASSWORD;
  }
  const config: ClientConfig = {
    host,
    port,
    user,
    database,
    // Else the password file's, looked up by the host's name as libpq does, where the connection goes to an address (hostaddr).
    password: password ?? passwordFile({ host: byName ?? host, port, database, user }),
    ssl: sslOf(service.sslmode ?? env.PGSSLMODE, byName),
    application_name: 'syncwright',
  };
  const where = host.startsWith('/') ? `${host}:${port}` : `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { config, location: `postgres://${encodeURIComponent(user)}@${where}/${encodeURIComponent(database)}` };
}
