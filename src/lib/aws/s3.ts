// An S3 client for AWS and for S3-compatible stores (OSS's S3 endpoint, MinIO, s3rver).
// Custom endpoints get path-style addressing and checksums only WHEN_REQUIRED: with the SDK's
// default mode streamed uploads are sent `aws-chunked`, and stores that do not understand
// that framing (s3rver does not) silently store the framing bytes with the data.
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { idleTimeoutMs } from '../http.js';

export interface S3Options {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function s3Config(opts: S3Options): S3ClientConfig {
  // a request that stalls (no byte either way) is given up and retried, never waited on forever
  const config: S3ClientConfig = { region: opts.region || 'us-east-1', requestHandler: { connectionTimeout: 30_000, socketTimeout: idleTimeoutMs() } };
  if (opts.credentials) config.credentials = opts.credentials;
  if (opts.endpoint) {
    config.endpoint = opts.endpoint;
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return config;
}

/** Loads the SDK lazily: only the actions that talk to S3 pay for it. */
export async function createS3Client(opts: S3Options): Promise<S3Client> {
  // The SDK warns on Node < 22 about versions published after January 2027; the one bundled here
  // runs on Node 20, so the warning only clutters every upload's log
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client(s3Config(opts));
}
