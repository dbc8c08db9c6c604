// oss://bucket/prefix on Aliyun OSS (ali-oss, loaded lazily): `endpoint` or `region`, STS
// tokens, path style for custom endpoints. Small files: one PUT. Large files: our own
// multipart upload, checkpointed for resume. Every part and the whole object are checked
// against the CRC-64 OSS returns (x-oss-hash-crc64ecma), which ali-oss itself never checks.
import { format } from 'node:util';
import { idleTimeoutMs, networkReason } from '../http.js';
import { errorMessage, UserError } from '../errors.js';
import { debug, info, warning } from '../log.js';
import { assumeRoleWithOidc, refreshInterval, type OidcRole } from './aliyun-sts.js';
import { retry, RetryableError } from '../retry.js';
import { uploadMultipart } from './multipart.js';
import { counted } from './describe.js';
import { VerificationError, type LocalFile, type RemoteObject, type Storage, type UploadOptions, type UploadResult } from './types.js';

/** OSS's CRC-64 of a whole stored object differs from the file's: sent again while retries last, then a VerificationError. */
class ObjectCrcMismatchError extends RetryableError {}

export interface OssOptions {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  /** STS credentials from AssumeRoleWithOIDC, renewed before they expire (instead of keys) */
  role?: OidcRole;
}

interface OssError {
  code?: string;
  status?: number;
  name?: string;
  message?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OssClient = any;

let urllibQuieted = false;

/**
 * ali-oss's HTTP client (urllib 2) prints an error that comes after a request was answered (a
 * reset while the body was still going out; the answer is already handled, the part retried or
 * done) with console.warn, stack and all, into an otherwise clean log. Those lines go to the debug
 * log, without the stack; every other warning is left as it is.
 */
function quietUrllib(): void {
  if (urllibQuieted) return;
  urllibQuieted = true;
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[urllib:warn]')) debug(`ali-oss: ${format(...args).split('\nstack:')[0]}`);
    else warn(...args);
  };
}

export class OssStorage implements Storage {
  readonly wantsCrc64 = true;
  /** OSS takes 10,000 parts of 100 KiB or more */
  readonly limits = { maxParts: 10_000, minPartSize: 100 * 1024 };
  private client?: Promise<OssClient>;

  constructor(
    readonly base: string,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly opts: OssOptions,
  ) {
    if (!opts.role && (!opts.accessKeyId || !opts.accessKeySecret))
      throw new UserError(`${base}: OSS needs access-key-id and access-key-secret (and security-token for STS credentials), or role-arn with oidc-provider-arn`);
    if (!opts.endpoint && !opts.region) throw new UserError(`${base}: set region (e.g. oss-cn-hangzhou) or endpoint`);
  }

  private oss(): Promise<OssClient> {
    return (this.client ??= (async () => {
      quietUrllib();
      const m = await import('ali-oss');
      const OSS = (m as unknown as { default?: unknown }).default ?? m;
      const custom = this.opts.endpoint && !/\.aliyuncs\.com/.test(this.opts.endpoint);
      let keys: Record<string, unknown> = {
        accessKeyId: this.opts.accessKeyId,
        accessKeySecret: this.opts.accessKeySecret,
        ...(this.opts.securityToken ? { stsToken: this.opts.securityToken } : {}),
      };
      const role = this.opts.role;
      if (role) {
        const creds = await assumeRoleWithOidc(role);
        let current = creds;
        info(`OSS: STS credentials for ${role.roleArn} (session ${role.sessionName}), renewed every ${Math.round(refreshInterval(creds) / 1000)} s`);
        keys = {
          accessKeyId: creds.accessKeyId,
          accessKeySecret: creds.accessKeySecret,
          stsToken: creds.securityToken,
          // ali-oss asks before a request once the interval has passed; multipart uploads carry on with the new keys
          refreshSTSToken: async () => {
            try {
              current = await assumeRoleWithOidc(role);
              debug(`OSS: STS credentials renewed (${current.accessKeyId.slice(0, 8)}…)`);
            } catch (err) {
              // the credentials in hand still work for a while: keep them, and ask again soon
              if (current.expires - Date.now() < 60_000) throw err;
              warning(
                `OSS: renewing the STS credentials failed (${errorMessage(err)}); the current ones are valid until ${new Date(current.expires).toISOString()}, trying again in 30 s`,
              );
              if (client) client.stsTokenFreshTime = new Date(Date.now() - refreshInterval(current) + 30_000);
            }
            return { accessKeyId: current.accessKeyId, accessKeySecret: current.accessKeySecret, stsToken: current.securityToken };
          },
          refreshSTSTokenInterval: refreshInterval(creds),
        };
      }
      // eslint-disable-next-line prefer-const -- assigned once created; the refresh above needs it
      let client: OssClient;
      client = new (OSS as new (o: unknown) => OssClient)({
        bucket: this.bucket,
        ...keys,
        // a bare host means https, as the input's help says (ali-oss would take it as plain http)
        ...(this.opts.endpoint
          ? { endpoint: /^https?:\/\//.test(this.opts.endpoint) ? this.opts.endpoint : `https://${this.opts.endpoint}`, secure: !this.opts.endpoint.startsWith('http:') }
          : { region: this.opts.region, secure: true }),
        ...(this.opts.region ? { region: this.opts.region } : {}),
        // custom endpoints (proxies, private deployments) get path-style addressing
        ...(custom ? { sldEnable: true } : {}),
        retryMax: 0,
        timeout: idleTimeoutMs(300_000),
      });
      return client;
    })());
  }

  private key(k: string): string {
    return `${this.prefix}${k}`;
  }

  url(key: string): string {
    return `oss://${this.bucket}/${this.key(key)}`;
  }

  private explain(err: unknown, key: string, what: string): unknown {
    const e = err as OssError;
    if (e.code === 'NoSuchBucket') return new UserError(`${this.url(key)}: bucket ${this.bucket} does not exist`);
    if (e.status === 403 || ['AccessDenied', 'SignatureDoesNotMatch', 'InvalidAccessKeyId', 'SecurityTokenExpired', 'InvalidSecurityToken'].includes(e.code ?? ''))
      return new UserError(
        `${this.url(key)}: ${what} refused (${e.status ?? 403} ${e.code ?? 'Forbidden'}); check ${this.opts.role ? `the policy of ${this.opts.role.roleArn}` : `access-key-id/access-key-secret${this.opts.securityToken ? '/security-token' : ''}`} and the bucket policy`,
      );
    if (err instanceof UserError) return err;
    // ali-oss puts the socket's error code only in its message
    const code = /\b(E[A-Z]{4,})\b/.exec((err as Error).message ?? '')?.[1];
    const net = networkReason(err) ?? (code ? networkReason({ code }) : undefined);
    if (net) return new UserError(`${this.url(key)}: ${what} failed: the OSS endpoint ${this.opts.endpoint ?? this.opts.region ?? ''} got no answer: ${net}`, { cause: err });
    // anything else still names the object, the status and what the store said
    const said = ((err as Error).message ?? String(err)).split('\n')[0].slice(0, 200);
    return new UserError(`${this.url(key)}: ${what} failed (${e.status && e.status > 0 ? e.status : 'no answer'}${e.code ? ` ${e.code}` : ''}): ${said}`, { cause: err });
  }

  private retryable(err: unknown): boolean {
    if (err instanceof RetryableError) return true;
    const e = err as OssError;
    const s = e.status ?? 0;
    // a 400 saying a body arrived other than sent (our parts and part list are checked before they go)
    const damaged = ['InvalidDigest', 'MalformedXML', 'InvalidPart', 'InvalidPartOrder'].includes(e.code ?? '');
    return damaged || s === -1 || s === -2 || s >= 500 || s === 429 || s === 408 || /Timeout|ConnectionTimeout|RequestError|ResponseError/.test(`${e.name} ${e.code}`);
  }

  async check(): Promise<void> {
    const c = await this.oss();
    try {
      await retry(() => c.head(this.key(`.airlift-credentials-check-${process.pid}`)), { isRetryable: (e) => this.retryable(e) });
    } catch (err) {
      const e = err as OssError;
      if (e.status === 404 && e.code !== 'NoSuchBucket') return;
      throw this.explain(err, '', 'access to the bucket');
    }
  }

  async head(key: string): Promise<RemoteObject | undefined> {
    const c = await this.oss();
    try {
      const r: OssClient = await retry(() => c.head(this.key(key)), { isRetryable: (e) => this.retryable(e) });
      const h = r.res.headers as Record<string, string>;
      return { size: Number(h['content-length'] ?? 0), etag: h.etag?.replace(/"/g, '').toLowerCase(), crc64: h['x-oss-hash-crc64ecma'], sha256: h['x-oss-meta-sha256'] };
    } catch (err) {
      if ((err as OssError).status === 404 && (err as OssError).code !== 'NoSuchBucket') return undefined;
      throw this.explain(err, key, 'HEAD');
    }
  }

  private headers(file: LocalFile, opts: UploadOptions): Record<string, string> {
    return {
      'Content-Type': opts.contentType,
      'x-oss-meta-sha256': file.sha256,
      ...(opts.cacheControl ? { 'Cache-Control': opts.cacheControl } : {}),
      ...(opts.acl ? { 'x-oss-object-acl': opts.acl } : {}),
    };
  }

  /** `object`: the CRC is of a whole stored object (not of a part, which never stands on its own). */
  private checkCrc(got: string | undefined, want: string | undefined, what: string, object = false): void {
    if (!want) return;
    if (!got) throw new UserError(`${what}: OSS returned no x-oss-hash-crc64ecma to check`);
    if (got === want) return;
    const message = `${what}: CRC-64 mismatch (OSS stored ${got}, the file has ${want}): corrupted in transit`;
    throw object ? new ObjectCrcMismatchError(message) : new RetryableError(message);
  }

  async upload(file: LocalFile, opts: UploadOptions): Promise<UploadResult> {
    const c = await this.oss();
    let partsSent: number;
    try {
      if (file.size <= file.partSize) {
        await retry(
          async () => {
            const body = counted(opts.open(), opts.onBytes);
            const r = await c.putStream(this.key(file.key), body, { contentLength: file.size, headers: this.headers(file, opts) });
            this.checkCrc(r.res.headers['x-oss-hash-crc64ecma'], file.crc64, this.url(file.key), true);
          },
          { isRetryable: (e) => this.retryable(e) },
        );
        partsSent = 1;
      } else partsSent = await this.multipart(c, file, opts);
    } catch (err) {
      if (err instanceof ObjectCrcMismatchError) throw new VerificationError(err.message);
      throw this.explain(err, file.key, 'upload');
    }
    if (!opts.verify) return { url: this.url(file.key), verified: 'CRC-64 per request (checksum: false skips the final HEAD)', partsSent };
    const head = await this.head(file.key);
    if (!head) throw new UserError(`${this.url(file.key)}: uploaded, but a HEAD finds nothing there`);
    if (head.size !== file.size) throw new VerificationError(`${this.url(file.key)}: stored ${head.size} bytes, expected ${file.size}`);
    if (head.crc64 !== file.crc64) throw new VerificationError(`${this.url(file.key)}: stored CRC-64 ${head.crc64}, the file has ${file.crc64}`);
    if (head.sha256 && head.sha256 !== file.sha256) throw new VerificationError(`${this.url(file.key)}: stored sha256 ${head.sha256}, expected ${file.sha256}`);
    return { url: this.url(file.key), verified: 'size + CRC-64 (x-oss-hash-crc64ecma) + sha256 metadata', partsSent };
  }

  private async multipart(c: OssClient, file: LocalFile, opts: UploadOptions): Promise<number> {
    const name = this.key(file.key);
    const url = this.url(file.key);
    const { sent, done } = await uploadMultipart(file, opts, {
      store: 'oss',
      url,
      create: async () => ((await c.initMultipartUpload(name, { headers: this.headers(file, opts) })) as OssClient).uploadId as string,
      abort: async (id) => void (await c.abortMultipartUpload(name, id)),
      uploadPart: async (id, n, start, end) => {
        const res = await c.uploadPart(name, id, n, file.path, start, end);
        this.checkCrc(res.res.headers['x-oss-hash-crc64ecma'], file.partCrc64s?.[n - 1], `${url} part ${n}`);
        opts.onBytes?.(end - start);
        return res.etag as string;
      },
      complete: async (id, etags) => {
        try {
          return (await c.completeMultipartUpload(
            name,
            id,
            etags.map((etag, i) => ({ number: i + 1, etag })),
          )) as OssClient;
        } catch (err) {
          // an answer lost on the way back: the store may have done it; the object, if there, tells
          const head = await this.head(file.key).catch(() => undefined);
          if (head && head.size === file.size && head.crc64 === file.crc64) {
            debug(`${url}: CompleteMultipartUpload answered ${(err as OssError).code ?? 'an error'}, but the object is there with the file's CRC-64: done`);
            return { res: { headers: { 'x-oss-hash-crc64ecma': head.crc64 } } } as OssClient;
          }
          throw err;
        }
      },
      isGone: (err) => (err as OssError).code === 'NoSuchUpload',
      retryable: (err) => this.retryable(err),
    });
    this.checkCrc(done.res.headers['x-oss-hash-crc64ecma'], file.crc64, url, true);
    return sent;
  }

  async remove(key: string): Promise<void> {
    const c = await this.oss();
    try {
      // DELETE of a missing object is a 204 on OSS
      await retry(() => c.delete(this.key(key)), { isRetryable: (e) => this.retryable(e) });
    } catch (err) {
      throw this.explain(err, key, 'DELETE');
    }
  }

  /** Aborts an upload recorded by a checkpoint (the post step after a cancelled job). */
  async abortRecorded(url: string, uploadId: string): Promise<void> {
    const prefix = `oss://${this.bucket}/`;
    if (!url.startsWith(prefix)) return;
    await (await this.oss()).abortMultipartUpload(url.slice(prefix.length), uploadId).catch((e: Error) => debug(`abort of ${url} failed: ${e.message}`));
  }
}
