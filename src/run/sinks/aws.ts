/** What the AWS clients share: region, keys when the destination names them, an endpoint override, and the credentials they send redacted. */
import { named, type OutletContext } from './outlets.js';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Keys given in the destination block are used as given; without them the SDK resolves
 * credentials as it documents (environment, shared files and SSO, web identity, container and
 * instance roles). An endpoint override (a local S3 or Kinesis, a VPC endpoint) comes from
 * `--endpoint NAME=URL` or the `endpoint` setting; the SDK's own `AWS_ENDPOINT_URL_*`
 * variables work too.
 */
export function awsClientConfig(context: OutletContext): {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
} {
  const c = context.connection;
  const accessKeyId = named(c, 'access_key_id');
  const secretAccessKey = named(c, 'secret_access_key');
  const sessionToken = text(c.session_token);
  const region = named(c, 'region');
  return {
    ...(region ? { region } : {}),
    ...(context.endpoint ? { endpoint: context.endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  };
}

/** The parts of a SigV4 request that carry credentials: a session token, and the access key id in the credential scope. */
const accessKeyId = /\bCredential=([^/,\s]+)\//;

/**
 * A middleware that registers, as `context.secret`, the credentials each request carries once
 * signed: those the SDK resolved itself (environment, SSO, roles) are not the run's, yet a server
 * may echo the headers into an error the run prints. The secret access key never leaves the
 * machine (only a signature does), so the session token and the key id are what can come back.
 * Added at the deserialize step (`redactionStep`), which wraps the sending of the signed request.
 */
export function credentialRedaction(context: Pick<OutletContext, 'secret'>) {
  return <A, R>(next: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      const request = (args as { request?: { headers?: Record<string, string>; query?: Record<string, unknown> } }).request;
      for (const [name, value] of Object.entries(request?.headers ?? {})) {
        const header = name.toLowerCase();
        if (header === 'x-amz-security-token') context.secret(value);
        else if (header === 'authorization') {
          const id = accessKeyId.exec(value)?.[1];
          if (id) context.secret(id);
        }
      }
      const token = request?.query?.['X-Amz-Security-Token'];
      if (typeof token === 'string') context.secret(token);
      return next(args);
    };
}

export const redactionStep = { step: 'deserialize', name: 'syncwrightCredentialRedaction', override: true } as const;
