// http(s)://upload-url: each file PUT (or POSTed) to <url>/<key> with a bearer token (the
// UPLOAD_URL/UPLOAD_TOKEN convention) and its sha256 in X-Checksum-Sha256; a server that
// answers with a sha256 (JSON or header) is held to it.
import { UserError } from '../errors.js';
import { header, httpSend, idleTimeoutMs, networkReason, readBody, shownUrl } from '../http.js';
import { HttpError } from '../errors.js';
import { retry } from '../retry.js';
import { counted } from './describe.js';
import { VerificationError, type LocalFile, type RemoteObject, type Storage, type UploadOptions, type UploadResult } from './types.js';

/** A destination as printed and recorded: an http(s) URL without user:password or query (a signature). */
export const shownDestination = shownUrl;

export class HttpStorage implements Storage {
  constructor(
    readonly base: string,
    private readonly token: string | undefined,
    private readonly method: 'PUT' | 'POST',
  ) {}

  /** <base>/<key>: the key goes into the path, a query string (a signed URL) stays at the end. */
  url(key: string): string {
    const u = new URL(this.base);
    const path = key ? `/${key.split('/').map(encodeURIComponent).join('/')}` : '';
    u.pathname = `${u.pathname.replace(/\/+$/, '')}${path}`;
    return u.toString();
  }

  /** A request that got no answer at all (after retries), said plainly, naming the server. */
  private noAnswer(key: string, method: string): (err: unknown) => never {
    return (err) => {
      const why = networkReason(err);
      if (why) throw new UserError(`${this.shown(key)}: ${method} got no answer from ${new URL(this.base).host}: ${why}`, { cause: err });
      throw err;
    };
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** The object's URL as printed and recorded: no credentials, no query (it may be a signature). */
  shown(key: string): string {
    return shownDestination(this.url(key));
  }

  async head(key: string): Promise<RemoteObject | undefined> {
    const res = await retry(() => httpSend({ method: 'HEAD', url: new URL(this.url(key)), headers: this.headers() })).catch(this.noAnswer(key, 'HEAD'));
    res.body.resume();
    if (res.status === 404 || res.status === 405) return undefined;
    if (res.status >= 300) return undefined;
    return { size: Number(header(res.headers, 'content-length') ?? -1), sha256: header(res.headers, 'x-checksum-sha256') };
  }

  /** DELETE of the object; gone or never there is fine, anything else is an error naming the status. */
  async remove(key: string): Promise<void> {
    const res = await retry(async () => {
      const r = await httpSend({ method: 'DELETE', url: new URL(this.url(key)), headers: this.headers() });
      const text = (await readBody(r.body, 64 * 1024)).toString('utf8');
      if (r.status >= 500 || r.status === 429) throw new HttpError(r.status, `${this.shown(key)}: DELETE answered ${r.status}`, r.headers);
      return { status: r.status, text };
    }).catch(this.noAnswer(key, 'DELETE'));
    if (res.status >= 300 && res.status !== 404)
      throw new UserError(`${this.shown(key)}: the server refused DELETE (${res.status}${res.text ? `: ${res.text.trim().slice(0, 200)}` : ''})`);
  }

  async upload(file: LocalFile, opts: UploadOptions): Promise<UploadResult> {
    const url = new URL(this.url(file.key));
    const res = await retry(async () => {
      const body = counted(opts.open(), opts.onBytes);
      const r = await httpSend({
        method: this.method,
        url,
        body,
        headers: {
          ...this.headers(),
          'content-length': String(file.size),
          'content-type': opts.contentType,
          'x-checksum-sha256': file.sha256,
          ...(opts.cacheControl ? { 'cache-control': opts.cacheControl } : {}),
        },
        timeoutMs: idleTimeoutMs(300_000),
      });
      const text = (await readBody(r.body, 1024 * 1024)).toString('utf8');
      if (r.status === 401 || r.status === 403)
        throw new UserError(
          `${this.shown(file.key)}: the server refused the upload (${r.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}); check the token${new URL(this.base).password ? " and the URL's credentials" : ''}`,
        );
      if (r.status >= 300) throw new HttpError(r.status, `${this.shown(file.key)}: the server answered ${r.status}${text ? `: ${text.trim().slice(0, 200)}` : ''}`, r.headers);
      return { status: r.status, text, sha: header(r.headers, 'x-checksum-sha256') };
    }).catch(this.noAnswer(file.key, this.method));
    let reported = res.sha;
    try {
      const j = JSON.parse(res.text) as { sha256?: string };
      reported ??= j.sha256;
    } catch {
      // not JSON
    }
    if (reported && reported !== file.sha256) throw new VerificationError(`${this.shown(file.key)}: the server received sha256 ${reported}, expected ${file.sha256}`);
    return { url: this.shown(file.key), verified: reported ? 'sha256 confirmed by the server' : `server answered ${res.status} (sha256 sent)`, partsSent: 1 };
  }
}
