/**
 * Amazon S3 through `@aws-sdk/client-s3`: an object is streamed through `@aws-sdk/lib-storage`'s
 * Upload, one PutObject for a small body and a multipart upload (8 MiB parts, 4 at a time) for a
 * large one. S3 makes an object visible only when its PutObject or CompleteMultipartUpload
 * succeeds, so writing the mirror's own key replaces it as one step; a failed upload is aborted
 * and leaves the old object. `server_side_encryption` (AES256, aws:kms, aws:kms:dsse) and
 * `kms_key_id` go with every object.
 * Each write carries a mark of its own (user metadata `syncwright-write`, a random id): an upload
 * that failed is looked for under its key, and found with its mark it was written whole. A
 * CompleteMultipartUpload whose answer was lost did complete, yet the SDK's retry of it finds no
 * upload and fails: its rows, not accepted, were written again by the next run under a new name.
 */
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand, S3Client, type ServerSideEncryption } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { snippetLength } from '../http/http.js';
import { clip } from '../output/redact.js';
import { awsClientConfig, credentialRedaction, redactionStep } from './aws.js';
import { named, writeMark, type ObjectStore, type OutletContext } from './outlets.js';

const partSize = 8 * 1024 * 1024;

export function s3Store(context: OutletContext): ObjectStore {
  const config = awsClientConfig(context);
  // An endpoint override is a local or S3-compatible server: addressed by path, as they expect.
  const client = new S3Client({ ...config, ...(config.endpoint ? { forcePathStyle: true } : {}) });
  client.middlewareStack.add(credentialRedaction(context), redactionStep);
  const sse = named(context.connection, 'server_side_encryption') as ServerSideEncryption | undefined;
  const kmsKey = named(context.connection, 'kms_key_id');
  /** Whether the object under `key` is the one this write made (S3 shows only complete objects); unknown counts as not. */
  const written = async (bucket: string, key: string, mark: string): Promise<boolean> => {
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return head.Metadata?.[writeMark] === mark;
    } catch {
      return false;
    }
  };
  return {
    location: (bucket, key) => `s3://${bucket}/${key}`,
    async put(bucket, key, body, contentType) {
      const mark = randomUUID();
      const upload = new Upload({
        client,
        params: {
          Bucket: bucket,
          Key: key,
          Body: Readable.from(body),
          ContentType: contentType,
          Metadata: { [writeMark]: mark },
          ...(sse ? { ServerSideEncryption: sse } : {}),
          ...(kmsKey ? { SSEKMSKeyId: kmsKey } : {}),
        },
        partSize,
        queueSize: 4,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (e) {
        if (await written(bucket, key, mark)) return;
        throw new Error(`s3://${bucket}/${key} was not written: ${clip((e as Error).message, snippetLength)}`);
      }
    },
    close: async () => client.destroy(),
  };
}
