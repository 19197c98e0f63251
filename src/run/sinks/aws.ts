/** What the AWS clients share: region, keys when the destination names them, and an endpoint override. */
import type { OutletContext } from './outlets.js';

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
  const accessKeyId = text(c.access_key_id);
  const secretAccessKey = text(c.secret_access_key);
  const sessionToken = text(c.session_token);
  const region = text(c.region);
  return {
    ...(region ? { region } : {}),
    ...(context.endpoint ? { endpoint: context.endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  };
}

export { text as settingText };
