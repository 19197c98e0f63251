/**
 * Where Google's client libraries get their OAuth access tokens, on 127.0.0.1: the token
 * endpoint a service account's key is exchanged at (a JWT signed with the key, RFC 7523, as
 * https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests
 * describes), and the Compute Engine metadata server that Application Default Credentials ask
 * on Google Cloud (GCE_METADATA_HOST points the client at it). Each issues fresh tokens and
 * keeps them, so a fake API can tell a token it issued from any other.
 * The client libraries post to fixed Google addresses (www.googleapis.com/oauth2/v4/token):
 * tests reach this server through the HTTPS proxy of https-proxy.ts.
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface ServiceAccount {
  /** The key as the console hands it out, JSON (what the `credentials` setting holds). */
  json: string;
  email: string;
  publicKey: KeyObject;
}

/** A service account key of a new RSA key pair. */
export function serviceAccount(email = 'syncwright-test@acme-project.iam.gserviceaccount.com'): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const json = JSON.stringify({
    type: 'service_account',
    project_id: 'acme-project',
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    client_email: email,
    client_id: '100000000000000000001',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: 'https://oauth2.googleapis.com/token',
    universe_domain: 'googleapis.com',
  });
  return { json, email, publicKey };
}

/** An access token as Google issues them: opaque, `ya29.` and base64url. */
const newToken = () => `ya29.${randomBytes(48).toString('base64url')}`;
const tokenReply = (token: string): Reply => ({ status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } });

const base64url = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The OAuth 2.0 token endpoint: a JWT bearer grant signed by the account's key, for a token. */
export class FakeGoogleOAuth extends FakeService {
  readonly issued: string[] = [];
  /** Grants refused, with why. */
  readonly refused: string[] = [];

  constructor(readonly account: ServiceAccount) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.method !== 'POST' || !['/oauth2/v4/token', '/token'].includes(req.path)) return { status: 404, body: { error: 'not_found' } };
    const form = new URLSearchParams(req.raw);
    const refuse = (error: string, description: string): Reply => {
      this.refused.push(description);
      return { status: 400, body: { error, error_description: description } };
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return refuse('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type')}`);
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
    if (!header || !payload || !signature) return refuse('invalid_request', 'Invalid JWT: the assertion is not header.payload.signature');
    if (base64url(header).alg !== 'RS256') return refuse('invalid_grant', 'Invalid JWT: alg must be RS256');
    if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), this.account.publicKey, Buffer.from(signature, 'base64url'))) {
      return refuse('invalid_grant', 'Invalid JWT Signature.');
    }
    const claims = base64url(payload);
    const now = Date.now() / 1000;
    if (claims.iss !== this.account.email) return refuse('invalid_grant', `Invalid JWT: iss ${String(claims.iss)} is not the account`);
    if (typeof claims.aud !== 'string' || !/^https:\/\/(www\.googleapis\.com\/oauth2\/v4\/token|oauth2\.googleapis\.com\/token)$/.test(claims.aud)) {
      return refuse('invalid_grant', `Invalid JWT: aud ${String(claims.aud)}`);
    }
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= now || claims.exp - claims.iat > 3600) {
      return refuse('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    }
    if (typeof claims.scope !== 'string' || claims.scope === '') return refuse('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const token = newToken();
    this.issued.push(token);
    return tokenReply(token);
  }
}

/**
 * The metadata server's part that credentials use
 * (https://cloud.google.com/compute/docs/metadata/querying-metadata): every request must carry
 * `Metadata-Flavor: Google`, and every answer does.
 */
export class FakeMetadataServer extends FakeService {
  readonly issued: string[] = [];

  /** `host:port`, as GCE_METADATA_HOST takes it. */
  get host(): string {
    return new URL(this.api.url).host;
  }

  protected handle(req: Recorded): Reply {
    const headers = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') return { status: 403, headers, body: 'Missing required header "Metadata-Flavor": "Google"' };
    if (req.method !== 'GET') return { status: 405, headers, body: 'Method not allowed' };
    const path = req.path.replace(/^\/computeMetadata\/v1\//, '');
    if (path === 'instance/service-accounts/default/token') {
      const token = newToken();
      this.issued.push(token);
      return { ...tokenReply(token), headers };
    }
    if (path === 'instance' || path === 'instance/') return { status: 200, headers, body: {} };
    if (path === 'project/project-id') return { status: 200, headers, body: 'acme-project' };
    if (path === 'universe/universe-domain') return { status: 200, headers, body: 'googleapis.com' };
    return { status: 404, headers, body: `not part of this server: ${req.path}` };
  }
}
