/**
 * Where a Snowflake source or destination is and how the SQL API is told who calls it: the
 * endpoint's settings, then the SNOWFLAKE_* variables. Authentication as Snowflake documents
 * it for the SQL API: a key-pair JWT (RS256, made here with node:crypto), an OAuth token, or a
 * programmatic access token. The SQL API takes no password, so a block with only a password is
 * refused with what to use instead. Secrets come only from the environment.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PlanEndpoint } from '../../contract/plan.js';
import { settingText } from './endpoint-settings.js';

export type TokenType = 'KEYPAIR_JWT' | 'OAUTH' | 'PROGRAMMATIC_ACCESS_TOKEN';

export interface SnowflakeConfig {
  /** The SQL API's base URL: https://<account>.snowflakecomputing.com, or an override. */
  base: string;
  account: string;
  user?: string;
  /** Sent with each statement (the request body's context fields) where set. */
  context: { database?: string; schema?: string; warehouse?: string; role?: string };
  auth: { type: 'KEYPAIR_JWT'; key: KeyObject; issuer: string; subject: string } | { type: 'OAUTH' | 'PROGRAMMATIC_ACCESS_TOKEN'; token: string };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A secret setting's value: the variable it names, which must be set. */
function secretOf(endpoint: PlanEndpoint, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const s = endpoint.settings[name];
  if (s === undefined || s === null || typeof s !== 'object' || !('env' in s)) return undefined;
  const value = env[(s as { env: string }).env];
  if (value === undefined || value === '')
    throw new Error(`environment variable ${(s as { env: string }).env} is not set (the ${name.replace(/_/g, ' ')} of ${endpoint.name})`);
  return value;
}

/** The account as JWT claims name it: upper case, a legacy locator without its region (`xy12345.us-east-1`: XY12345), as Snowflake's key-pair documentation says. */
export function claimAccount(account: string): string {
  return (account.split('.')[0] as string).toUpperCase();
}

/** SHA256:<base64 of the SHA-256 of the public key's DER>, as Snowflake shows RSA_PUBLIC_KEY_FP. */
export function publicKeyFingerprint(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return `SHA256:${createHash('sha256').update(der).digest('base64')}`;
}

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A key-pair JWT: iss ACCOUNT.USER.SHA256:<fingerprint>, sub ACCOUNT.USER, valid for `seconds` (Snowflake takes at most an hour). */
export function keyPairJwt(key: KeyObject, issuer: string, subject: string, now: number, seconds: number): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ iss: issuer, sub: subject, iat: now, exp: now + seconds }));
  const signature = sign('sha256', Buffer.from(`${head}.${body}`), key);
  return `${head}.${body}.${b64url(signature)}`;
}

/** The configuration of an endpoint; `override` is `--endpoint NAME=URL` for it. */
export function snowflakeConfig(endpoint: PlanEndpoint, env: NodeJS.ProcessEnv, override?: string): SnowflakeConfig {
  const setting = (name: string) => settingText(endpoint, name, env);
  const account = setting('account') ?? text(env.SNOWFLAKE_ACCOUNT);
  if (!account) throw new Error(`${endpoint.name}: no Snowflake account (the account setting or SNOWFLAKE_ACCOUNT)`);
  const user = setting('user') ?? text(env.SNOWFLAKE_USER);
  const pick = (name: string) => setting(name) ?? text(env[`SNOWFLAKE_${name.toUpperCase()}`]);
  const context = Object.fromEntries(
    (['database', 'schema', 'warehouse', 'role'] as const).flatMap((n) => (pick(n) ? [[n, pick(n)]] : [])),
  ) as SnowflakeConfig['context'];
  const host = `https://${account.toLowerCase().replace(/_/g, '-')}.snowflakecomputing.com`;
  const base = (override ?? setting('endpoint') ?? text(env.SNOWFLAKE_ENDPOINT) ?? host).replace(/\/+$/, '');
  const token = secretOf(endpoint, 'token', env) ?? text(env.SNOWFLAKE_TOKEN);
  if (token) {
    const type = setting('token_type') ?? text(env.SNOWFLAKE_TOKEN_TYPE) ?? 'OAUTH';
    if (type !== 'OAUTH' && type !== 'PROGRAMMATIC_ACCESS_TOKEN')
      throw new Error(`${endpoint.name}: token_type ${type} is neither OAUTH nor PROGRAMMATIC_ACCESS_TOKEN`);
    return { base, account, ...(user ? { user } : {}), context, auth: { type, token } };
  }
  const keyPath = text(env.SNOWFLAKE_PRIVATE_KEY_PATH);
  const pem = secretOf(endpoint, 'private_key', env) ?? text(env.SNOWFLAKE_PRIVATE_KEY) ?? (keyPath ? readFileSync(keyPath, 'utf8') : undefined);
  if (pem) {
    if (!user) throw new Error(`${endpoint.name}: key-pair authentication needs the user (the user setting or SNOWFLAKE_USER)`);
    const passphrase = secretOf(endpoint, 'private_key_passphrase', env) ?? text(env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
    } catch (e) {
      // The key's text is never part of the message.
      throw new Error(
        `${endpoint.name}: the private key cannot be read (${passphrase ? 'is the passphrase right?' : 'is it encrypted? set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE'}): ${(e as { code?: string }).code ?? 'not a PEM private key'}`,
      );
    }
    const subject = `${claimAccount(account)}.${user.toUpperCase()}`;
    return { base, account, user, context, auth: { type: 'KEYPAIR_JWT', key, issuer: `${subject}.${publicKeyFingerprint(key)}`, subject } };
  }
  const password = endpoint.settings.password !== undefined || env.SNOWFLAKE_PASSWORD !== undefined;
  throw new Error(
    `${endpoint.name}: no credentials for Snowflake's SQL API${password ? ', which takes no password' : ''}: set private_key (or SNOWFLAKE_PRIVATE_KEY_PATH) for key-pair authentication, or SNOWFLAKE_TOKEN (an OAuth token; a programmatic access token with SNOWFLAKE_TOKEN_TYPE=PROGRAMMATIC_ACCESS_TOKEN, which is what to use for development instead of a password)`,
  );
}

/** The Authorization headers of each request; a JWT is made anew when 50 minutes old or when the server said 401. */
export class SnowflakeAuth {
  private jwt?: { token: string; made: number };
  /** Renewals so far: each new token lives a second less, so that one made in the same second as the refused one still differs from it. */
  private renewals = 0;

  constructor(
    private readonly config: SnowflakeConfig,
    /** Registers each credential with the run's Redactor. */
    private readonly secret: (value: string) => void,
  ) {
    if (config.auth.type !== 'KEYPAIR_JWT') secret(config.auth.token);
  }

  headers(): Record<string, string> {
    const { auth } = this.config;
    let token: string;
    if (auth.type === 'KEYPAIR_JWT') {
      const now = Math.floor(Date.now() / 1000);
      if (!this.jwt || now - this.jwt.made > 50 * 60) {
        this.jwt = { token: keyPairJwt(auth.key, auth.issuer, auth.subject, now, 59 * 60 - (this.renewals % 60)), made: now };
        this.secret(this.jwt.token);
      }
      token = this.jwt.token;
    } else {
      token = auth.token;
    }
    return { Authorization: `Bearer ${token}`, 'X-Snowflake-Authorization-Token-Type': auth.type };
  }

  /** After a 401: a JWT can be made again (true); a token given from outside cannot. */
  renew(): boolean {
    if (this.config.auth.type !== 'KEYPAIR_JWT') return false;
    this.jwt = undefined;
    this.renewals++;
    return true;
  }
}
