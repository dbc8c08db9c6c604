// s3://bucket/prefix on AWS or an S3-compatible store (custom endpoint: path style, checksums
// WHEN_REQUIRED). Small files: one PutObject with Content-MD5. Large files: our own multipart
// upload (each part with Content-MD5, its ETag checked), checkpointed so a re-run resumes;
// then HEAD: size, the multipart ETag, and the sha256 we stored in the object's metadata.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { UserError } from '../errors.js';
import { debug } from '../log.js';
import { retry, RetryableError } from '../retry.js';
import { networkReason } from '../http.js';
import { createS3Client, type S3Options } from '../aws/s3.js';
import { uploadMultipart } from './multipart.js';
import { counted, multipartEtag } from './describe.js';
import { VerificationError, type LocalFile, type RemoteObject, type Storage, type UploadOptions, type UploadResult } from './types.js';

/**
 * What S3 answers (with a 400) when a request body arrived other than it was sent: corrupted in
 * transit, so sent again (the parts and the part list are ours, checked before they go).
 */
const DAMAGED_IN_TRANSIT = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody', 'MalformedXML', 'InvalidPart', 'InvalidPartOrder']);

const unquote = (s?: string) => s?.replace(/^"|"$/g, '');
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

interface AwsError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * S3's full-object CRC-64/NVME against the file's: true when both are there and equal, false
 * when the store reports none (older objects, S3-compatible stores); a mismatch is an error.
 */
export function checkFullObjectCrc(url: string, head: RemoteObject, file: LocalFile): boolean {
  if (!head.crc64nvme || !file.crc64nvme) return false;
  if (head.crc64nvme !== file.crc64nvme)
    throw new VerificationError(`${url}: S3 computed CRC-64/NVME ${head.crc64nvme} for the stored object, the file has ${file.crc64nvme}: the object differs from the file`);
  return true;
}

export class S3Storage implements Storage {
  private client?: Promise<S3Client>;
  /** key → the md5 of each part as stored (for the multipart ETag check) */
  private readonly sentPartMd5s = new Map<string, string[]>();

  /** AWS itself (no custom endpoint) keeps a full-object CRC-64/NVME of every new object */
  readonly wantsCrc64nvme: boolean;
  /** AWS takes 10,000 parts of 5 MiB or more; an S3-compatible store (a custom endpoint) sets its own minimum */
  readonly limits: { maxParts: number; minPartSize?: number };

  private checksumMode: boolean;

  constructor(
    readonly base: string,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly opts: S3Options,
  ) {
    this.wantsCrc64nvme = !opts.endpoint;
    this.limits = { maxParts: 10_000, ...(opts.endpoint ? {} : { minPartSize: 5 * 1024 * 1024 }) };
    this.checksumMode = this.wantsCrc64nvme;
  }

  private s3(): Promise<S3Client> {
    // one attempt per SDK call: streamed bodies cannot be re-sent, so retries are ours
    return (this.client ??= createS3Client(this.opts).then((c) => {
      c.config.maxAttempts = async () => 1;
      return c;
    }));
  }

  private key(k: string): string {
    return `${this.prefix}${k}`;
  }

  url(key: string): string {
    return `s3://${this.bucket}/${this.key(key)}`;
  }

  /** AWS errors as user errors that name the bucket and key, never a credential. */
  private explain(err: unknown, key: string, what: string): unknown {
    const e = err as AwsError;
    const status = e.$metadata?.httpStatusCode;
    const code = e.name ?? e.Code;
    if (code === 'NoSuchBucket') return new UserError(`${this.url(key)}: bucket ${this.bucket} does not exist`);
    if (status === 403 || code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch' || code === 'Forbidden') {
      // a HEAD has no body, so the SDK can only say "Unknown": show the status's name then
      const shown = code && !['Unknown', 'UnknownError'].includes(code) ? code : 'Forbidden';
      return new UserError(`${this.url(key)}: ${what} refused (${status ?? 403} ${shown}); check access-key-id/access-key-secret and the bucket policy`);
    }
    if (/Could not load credentials/i.test(e.message ?? ''))
      return new UserError(`${this.url(key)}: no credentials: set access-key-id and access-key-secret, or configure AWS credentials (e.g. aws-actions/configure-aws-credentials)`);
    if (err instanceof UserError) return err;
    const net = status === undefined ? networkReason(err) : undefined;
    if (net) return new UserError(`${this.url(key)}: ${what} failed: ${this.opts.endpoint ? `the endpoint ${this.opts.endpoint}` : 'S3'} got no answer: ${net}`, { cause: err });
    // anything else still names the object, the status and what the store said
    const said = (e.message ?? String(err)).split('\n')[0].slice(0, 200);
    return new UserError(`${this.url(key)}: ${what} failed (${status ?? (e as { code?: string }).code ?? 'no answer'}${code && code !== 'Error' ? ` ${code}` : ''}): ${said}`, {
      cause: err,
    });
  }

  private retryable(err: unknown): boolean {
    if (err instanceof RetryableError) return true;
    const e = err as AwsError & { code?: string };
    const status = e.$metadata?.httpStatusCode;
    return (
      (status !== undefined && (status >= 500 || status === 429 || status === 408)) ||
      ['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED'].includes(e.code ?? '') ||
      e.name === 'TimeoutError' ||
      e.name === 'RequestTimeout' ||
      DAMAGED_IN_TRANSIT.has(e.name ?? e.Code ?? '')
    );
  }

  /** One cheap signed request first: a wrong secret or a missing bucket fails clearly, before any upload. */
  async check(): Promise<void> {
    const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
    try {
      await retry(async () => (await this.s3()).send(new HeadBucketCommand({ Bucket: this.bucket })), { isRetryable: (e) => this.retryable(e) });
    } catch (err) {
      const e = err as AwsError;
      if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound') throw new UserError(`${this.url('')}: bucket ${this.bucket} does not exist`);
      throw this.explain(err, '', 'access to the bucket');
    }
  }

  async head(key: string): Promise<RemoteObject | undefined> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const head = (checksums: boolean) =>
        retry(async () => (await this.s3()).send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key), ...(checksums ? { ChecksumMode: 'ENABLED' as const } : {}) })), {
          isRetryable: (e) => this.retryable(e),
        });
      // checksum mode needs kms:Decrypt on KMS-encrypted objects: without it, a plain HEAD
      const r = await head(this.checksumMode).catch((err: AwsError) => {
        if (!this.checksumMode || err.$metadata?.httpStatusCode !== 403) throw err;
        this.checksumMode = false;
        debug(`${this.url(key)}: HEAD with checksum mode refused (403); checking without S3's CRC`);
        return head(false);
      });
      // a composite (per-part) CRC is not the file's CRC: only a full-object one is compared
      const full = r.ChecksumCRC64NVME && (r.ChecksumType === undefined || r.ChecksumType === 'FULL_OBJECT');
      return { size: r.ContentLength ?? 0, etag: unquote(r.ETag), sha256: r.Metadata?.sha256, ...(full ? { crc64nvme: r.ChecksumCRC64NVME } : {}) };
    } catch (err) {
      const e = err as AwsError;
      if (e.$metadata?.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
      throw this.explain(err, key, 'HEAD');
    }
  }

  async upload(file: LocalFile, opts: UploadOptions): Promise<UploadResult> {
    const s3 = await import('@aws-sdk/client-s3');
    const common = {
      Bucket: this.bucket,
      Key: this.key(file.key),
      ContentType: opts.contentType,
      ...(opts.cacheControl ? { CacheControl: opts.cacheControl } : {}),
      ...(opts.acl ? { ACL: opts.acl as never } : {}),
      Metadata: { sha256: file.sha256 },
    };
    let partsSent: number;
    try {
      if (file.size <= file.partSize) {
        const r = await retry(
          async () => {
            const body = counted(opts.open(), opts.onBytes);
            return (await this.s3()).send(new s3.PutObjectCommand({ ...common, Body: body, ContentLength: file.size, ContentMD5: b64(file.md5!) }));
          },
          { isRetryable: (e) => this.retryable(e) },
        );
        partsSent = 1;
        if (unquote(r.ETag) !== file.md5) throw new VerificationError(`${this.url(file.key)}: the store answered ETag ${unquote(r.ETag)}, expected the md5 ${file.md5}`);
      } else {
        partsSent = await this.multipart(file, opts, common);
      }
    } catch (err) {
      throw this.explain(err, file.key, 'upload');
    }
    if (!opts.verify) return { url: this.url(file.key), verified: 'not checked (checksum: false)', partsSent };
    // verify what is there now: size, ETag, and our sha256
    const head = await this.head(file.key);
    const wantEtag = file.size <= file.partSize ? file.md5! : multipartEtag(this.sentPartMd5s.get(file.key) ?? file.partMd5s ?? []);
    this.sentPartMd5s.delete(file.key);
    if (!head) throw new UserError(`${this.url(file.key)}: uploaded, but a HEAD finds nothing there`);
    if (head.size !== file.size) throw new VerificationError(`${this.url(file.key)}: stored ${head.size} bytes, expected ${file.size}`);
    // S3 gives a multipart object md5-of-part-md5s-N; some compatible stores give the whole md5
    const etagOk = head.etag === wantEtag || (file.md5 !== undefined && head.etag === file.md5);
    // S3's ETag formats we can check: md5 (one request) and md5-of-part-md5s-N (multipart);
    // a store that answers otherwise for a multipart object is checked by size and sha256 only
    const checkable = head.etag !== undefined && (file.size <= file.partSize ? /^[a-f0-9]{32}$/.test(head.etag) : /^[a-f0-9]{32}-\d+$/.test(head.etag));
    if (checkable && !etagOk) throw new VerificationError(`${this.url(file.key)}: stored ETag ${head.etag}, expected ${wantEtag}: the object differs from the file`);
    if (head.sha256 && head.sha256 !== file.sha256) throw new VerificationError(`${this.url(file.key)}: stored sha256 ${head.sha256}, expected ${file.sha256}`);
    const crcOk = checkFullObjectCrc(this.url(file.key), head, file);
    return {
      url: this.url(file.key),
      verified: `size${etagOk ? ' + ETag (md5)' : ''}${crcOk ? ' + CRC-64/NVME (full object, computed by S3)' : ''}${head.sha256 ? ' + sha256 metadata' : ''}`,
      partsSent,
    };
  }

  private async multipart(file: LocalFile, opts: UploadOptions, common: Record<string, unknown>): Promise<number> {
    const s3 = await import('@aws-sdk/client-s3');
    const client = await this.s3();
    const url = this.url(file.key);
    const Key = this.key(file.key);
    const { sent, etags } = await uploadMultipart(file, opts, {
      store: 's3',
      url,
      create: async () => (await client.send(new s3.CreateMultipartUploadCommand(common as never))).UploadId!,
      abort: (id) => this.abort(id, Key),
      // the part's md5 is computed as it streams (no second read of the file) and held against
      // the ETag S3 computed from what it received; a mismatch re-sends the part
      uploadPart: async (UploadId, n, start, end) => {
        const md5 = createHash('md5');
        const body = counted(
          opts.open(start, end - 1),
          (n2) => opts.onBytes?.(n2),
          (c) => md5.update(c),
        );
        const res = await client.send(new s3.UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: n, Body: body, ContentLength: end - start }));
        const sentMd5 = md5.digest('hex');
        if (unquote(res.ETag) !== sentMd5) throw new RetryableError(`${url}: part ${n} stored with ETag ${unquote(res.ETag)}, but ${sentMd5} was sent: corrupted in transit`);
        return res.ETag!;
      },
      complete: async (UploadId, parts) => {
        try {
          await client.send(
            new s3.CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
          );
        } catch (err) {
          // an answer lost on the way back: the store may have done it (a second Complete then
          // finds no such upload, or fails): the object, if there, tells
          if (
            await this.holdsParts(
              file,
              parts.map((p) => unquote(p)!),
            )
          ) {
            debug(`${url}: CompleteMultipartUpload answered ${(err as Error).name ?? 'an error'}, but the object is there with the parts sent: done`);
            return;
          }
          throw err;
        }
      },
      isGone: (err) => (err as AwsError).name === 'NoSuchUpload' || (err as AwsError).Code === 'NoSuchUpload',
      retryable: (err) => this.retryable(err),
    });
    this.sentPartMd5s.set(
      file.key,
      etags.map((e) => unquote(e)!),
    );
    return sent;
  }

  /** Whether the object is there, as the multipart upload of these parts makes it (size and ETag). */
  private async holdsParts(file: LocalFile, partMd5s: string[]): Promise<boolean> {
    const head = await this.head(file.key).catch(() => undefined);
    if (!head || head.size !== file.size || (head.sha256 && head.sha256 !== file.sha256)) return false;
    // S3's multipart ETag (md5 of the parts' md5s) names the parts; a store that answers another
    // kind of ETag is held to the sha256 we stored with the upload
    return /^[a-f0-9]{32}-\d+$/.test(head.etag ?? '') ? head.etag === multipartEtag(partMd5s) : head.sha256 === file.sha256;
  }

  async remove(key: string): Promise<void> {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await retry(async () => (await this.s3()).send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) })), { isRetryable: (e) => this.retryable(e) });
    } catch (err) {
      throw this.explain(err, key, 'DELETE');
    }
  }

  /** objectKey: the full key in the bucket (prefix included) */
  private async abort(uploadId: string, objectKey: string): Promise<void> {
    const s3 = await import('@aws-sdk/client-s3');
    try {
      await (await this.s3()).send(new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, UploadId: uploadId }));
    } catch (err) {
      debug(`abort of s3://${this.bucket}/${objectKey} (${uploadId}) failed: ${(err as Error).message}`);
    }
  }

  /** Aborts an upload recorded by a checkpoint (the post step after a cancelled job). */
  async abortRecorded(url: string, uploadId: string): Promise<void> {
    const prefix = `s3://${this.bucket}/`;
    if (url.startsWith(prefix)) await this.abort(uploadId, url.slice(prefix.length));
  }
}
