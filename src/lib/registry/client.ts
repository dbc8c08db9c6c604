// The OCI distribution client for one registry: scheme detection (plain HTTP for loopback and
// insecure registries), anonymous/basic/bearer auth with a token cache per scope, manifests
// (exact bytes, verified), blobs (HEAD, verified streaming GET, mount, upload), tag listing.
// Every call goes through the retry layer; stream uploads are retried by their callers.
import type { Readable } from 'node:stream';
import { HttpError, UserError } from '../errors.js';
import { closeAgents, discard, header, httpSend, idleTimeoutMs, readBody, type HttpResponse } from '../http.js';
import { debug } from '../log.js';
import { retry, RetryableError, type RetryOptions } from '../retry.js';
import { parseChallenges, type Challenge, type CredentialSource, type Credentials } from './auth.js';
import { DigestVerifier, digestOf, isDigest, type Digest } from './digest.js';
import { AuthError, describeErrorBody, NotFoundError, registryCodes } from './errors.js';
import { apiHost, isLoopback } from './reference.js';
import { MANIFEST_ACCEPT } from './media-types.js';

/** Registry error codes (on a 400) that mean what arrived differs from what was sent. */
const DAMAGED_IN_TRANSIT = new Set(['DIGEST_INVALID', 'SIZE_INVALID', 'MANIFEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UNKNOWN']);

export interface ClientOptions {
  credentials?: CredentialSource;
  /** Registries reached over plain HTTP or without TLS verification (loopback always). */
  insecureRegistries?: string[];
  retry?: RetryOptions;
  userAgent?: string;
  /** Single PUT uploads up to this size; larger blobs too, unless the registry refuses (then PATCH chunks). */
  chunkSize?: number;
}

export interface ManifestInfo {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface FetchedManifest extends ManifestInfo {
  bytes: Buffer;
}

type Action = 'pull' | 'push';

interface Token {
  value: string;
  expires: number;
}

export class RegistryClient {
  private base?: URL;
  private insecure: boolean;
  private challenge?: Challenge | null;
  private ready?: Promise<void>;
  private readonly tokens = new Map<string, Promise<Token>>();
  private credentials?: Promise<Credentials | undefined>;
  private unreachable?: { error: Error; until: number };
  /** set once the registry refused a monolithic PUT: later uploads go in chunks directly */
  private chunkedOnly = false;

  constructor(
    readonly registry: string,
    private readonly opts: ClientOptions = {},
  ) {
    this.insecure = isLoopback(registry) || (opts.insecureRegistries ?? []).includes(registry);
  }

  private retryOpts(what: string): RetryOptions {
    return {
      attempts: 5,
      ...this.opts.retry,
      onRetry: ({ attempt, delayMs, error }) => debug(`${what}: attempt ${attempt} failed (${(error as Error).message}); retrying in ${delayMs}ms`),
    };
  }

  private creds(): Promise<Credentials | undefined> {
    return (this.credentials ??= this.opts.credentials ? this.opts.credentials(this.registry) : Promise.resolve(undefined));
  }

  /** GET /v2/: picks the scheme and learns the auth challenge. */
  private ping(): Promise<void> {
    // An unreachable registry (after retries) fails fast for a while instead of being retried
    // again by every request of the run.
    if (!this.ready && this.unreachable && this.unreachable.until > Date.now()) return Promise.reject(this.unreachable.error);
    return (this.ready ??= retry(
      async () => {
        const host = apiHost(this.registry);
        const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
        // both schemes of an insecure registry at once (HTTPS preferred): one round trip, not two
        const probes = schemes.map((scheme) => {
          const p = httpSend({
            method: 'GET',
            url: new URL(`${scheme}//${host}/v2/`),
            insecure: this.insecure,
            headers: this.baseHeaders(),
            timeoutMs: idleTimeoutMs(30_000),
          }).then(async (res) => (await discard(res.body), res));
          p.catch(() => undefined); // (awaited below, unless an earlier scheme answered)
          return p;
        });
        let lastErr: unknown;
        for (const [i, scheme] of schemes.entries()) {
          let res: HttpResponse;
          try {
            res = await probes[i];
          } catch (err) {
            lastErr = err;
            const code = (err as NodeJS.ErrnoException).code ?? '';
            // A plain-HTTP server answering a TLS hello: try plain HTTP next.
            if (
              scheme === 'https:' &&
              this.insecure &&
              (code.startsWith('ERR_SSL') || code === 'EPROTO' || code === 'ECONNRESET' || /wrong version number|ssl/i.test((err as Error).message))
            )
              continue;
            throw err;
          }
          if (res.status !== 200 && res.status !== 401) {
            if (res.status >= 500 || res.status === 429) throw new HttpError(res.status, `registry ${this.registry}: /v2/ answered ${res.status}`, res.headers);
            throw new HttpError(res.status, `registry ${this.registry}: /v2/ answered ${res.status}; is this a registry?`, res.headers);
          }
          this.base = new URL(`${scheme}//${host}/`);
          this.challenge =
            res.status === 401 ? (parseChallenges(header(res.headers, 'www-authenticate')).find((c) => c.scheme === 'bearer' || c.scheme === 'basic') ?? null) : null;
          return;
        }
        throw lastErr;
      },
      this.retryOpts(`registry ${this.registry}`),
    ).catch((err: unknown) => {
      this.ready = undefined;
      const code = (err as NodeJS.ErrnoException).code;
      if (code && !(err instanceof HttpError)) {
        const msg = (err as Error).message.split('\n')[0];
        // an HTTPS handshake answered in plain HTTP
        const hint = /wrong version number|WRONG_VERSION_NUMBER|packet length too long|EPROTO/i.test(`${code} ${msg}`)
          ? `; it seems to speak plain HTTP: list ${this.registry} in insecure-registries`
          : '';
        const error = new UserError(`registry ${this.registry} is unreachable (${code}: ${msg})${hint}`, { cause: err });
        this.unreachable = { error, until: Date.now() + 30_000 };
        throw error;
      }
      throw err;
    }));
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.opts.userAgent ?? 'airlift' };
  }

  private async token(scopes: string[], challenge: Challenge, force = false): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached && !force) {
      const t = await cached.catch(() => undefined);
      if (t && t.expires > Date.now()) return t.value;
    }
    const p = this.fetchToken(scopes, challenge);
    this.tokens.set(key, p);
    p.catch(() => this.tokens.delete(key));
    return (await p).value;
  }

  private async fetchToken(scopes: string[], challenge: Challenge): Promise<Token> {
    const realm = challenge.params.realm;
    if (!realm) throw new AuthError(`registry ${this.registry}: its bearer challenge names no realm`);
    const url = new URL(realm);
    const creds = await this.creds();
    const headers: Record<string, string> = { ...this.baseHeaders(), accept: 'application/json' };
    let method = 'GET';
    let body: Buffer | undefined;
    if (creds?.identityToken) {
      method = 'POST';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'airlift' });
      if (challenge.params.service) form.set('service', challenge.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      body = Buffer.from(form.toString());
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (creds?.username) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    }
    return retry(
      async () => {
        const res = await httpSend({ method, url, headers, body, insecure: this.insecure || isLoopback(url.host), timeoutMs: idleTimeoutMs(30_000) });
        const text = await readBody(res.body, 1024 * 1024);
        if (res.status === 401 || res.status === 403)
          throw new AuthError(
            `registry ${this.registry}: the token service refused ${creds?.username ? `the credentials of "${creds.username}"` : 'anonymous access'} (${res.status}${text.length ? `: ${describeErrorBody(text)}` : ''}); check registry-auth for ${this.registry}`,
          );
        if (res.status !== 200) throw new HttpError(res.status, `registry ${this.registry}: token service answered ${res.status}`, res.headers);
        const j = JSON.parse(text.toString('utf8')) as { token?: string; access_token?: string; expires_in?: number };
        const value = j.token ?? j.access_token;
        if (!value) throw new AuthError(`registry ${this.registry}: the token service answered without a token`);
        const ttl = Math.max(60, j.expires_in ?? 60) * 1000;
        return { value, expires: Date.now() + ttl - 30_000 };
      },
      this.retryOpts(`token for ${this.registry}`),
    );
  }

  private async authorization(scopes: string[], force: boolean): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.creds();
      if (!c?.username) throw new AuthError(`registry ${this.registry} wants a username and password; add it to registry-auth (or docker login)`);
      return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
    }
    return `Bearer ${await this.token(scopes, ch, force)}`;
  }

  /**
   * One request with auth: on a 401 the challenge is re-read and the request sent once more
   * with a fresh token (expired, or insufficient_scope). Redirects are followed without
   * sending Authorization to another host.
   */
  async send(req: {
    method: string;
    path: string;
    scopes: string[];
    headers?: Record<string, string>;
    body?: () => Buffer | Readable;
    redirects?: boolean;
    timeoutMs?: number;
  }): Promise<HttpResponse> {
    await this.ping();
    let url = new URL(req.path, this.base);
    for (let attempt = 0; ; attempt++) {
      const headers = { ...this.baseHeaders(), ...req.headers };
      const auth = await this.authorization(req.scopes, attempt > 0);
      if (auth) headers.authorization = auth;
      const body = req.body?.();
      let res = await httpSend({ method: req.method, url, headers, body, insecure: this.insecure, timeoutMs: req.timeoutMs });
      if (res.status === 401 && attempt === 0) {
        const ch = parseChallenges(header(res.headers, 'www-authenticate')).find((c) => c.scheme === 'bearer' || c.scheme === 'basic');
        await discard(res.body);
        if (ch) this.challenge = ch;
        if (body && !Buffer.isBuffer(body)) {
          // A streamed body cannot be sent twice: refresh the token, let the caller restart.
          body.destroy();
          await this.authorization(req.scopes, true);
          throw new RetryableError(`registry ${this.registry}: token refused mid-upload (401); restarting the upload`);
        }
        continue;
      }
      let hops = 0;
      while (req.redirects && [301, 302, 303, 307, 308].includes(res.status) && hops++ < 5) {
        const loc = header(res.headers, 'location');
        await discard(res.body);
        if (!loc) throw new HttpError(res.status, `registry ${this.registry}: redirect without a Location`);
        const next = new URL(loc, url);
        const sameHost = next.host === url.host;
        const h = { ...this.baseHeaders(), ...req.headers };
        if (sameHost && headers.authorization) h.authorization = headers.authorization;
        url = next;
        res = await httpSend({ method: req.method, url, headers: h, insecure: this.insecure, timeoutMs: req.timeoutMs });
      }
      return res;
    }
  }

  /** Turns an unexpected status into the right error (auth, not found, retryable, other). */
  private async fail(res: HttpResponse, what: string): Promise<never> {
    const body = res.status === 0 ? Buffer.alloc(0) : await readBody(res.body, 64 * 1024).catch(() => Buffer.alloc(0));
    const detail = body.length ? `: ${describeErrorBody(body)}` : '';
    if (res.status === 401) throw new AuthError(`registry ${this.registry}: authentication failed for ${what} (401${detail}); check registry-auth for ${this.registry}`);
    if (res.status === 403) throw new AuthError(`registry ${this.registry}: access denied to ${what} (403${detail})`);
    if (res.status === 404) throw new NotFoundError(`${this.registry}/${what}`, registryCodes(body)[0]);
    // What we send is checked before it goes: a registry that finds a digest, size or manifest
    // wrong received something else (corrupted in transit), or raced another writer of the same
    // content. Sent again, it goes through; the retries are bounded.
    if (res.status === 400 && registryCodes(body).some((c) => DAMAGED_IN_TRANSIT.has(c))) throw new RetryableError(`registry ${this.registry}: ${what}: ${res.status}${detail}`);
    throw new HttpError(res.status, `registry ${this.registry}: ${what}: ${res.status}${detail}`, res.headers);
  }

  private static scope(repo: string, actions: Action[]): string {
    return `repository:${repo}:${actions.join(',')}`;
  }

  // ------------------------------------------------------------------ manifests

  /** HEAD of a manifest: its digest without fetching it; undefined when absent. */
  async headManifest(repo: string, ref: string): Promise<ManifestInfo | undefined> {
    return retry(
      async () => {
        const res = await this.send({ method: 'HEAD', path: `/v2/${repo}/manifests/${ref}`, scopes: [RegistryClient.scope(repo, ['pull'])], headers: { accept: MANIFEST_ACCEPT } });
        await discard(res.body);
        if (res.status === 404) return undefined;
        if (res.status !== 200) return this.fail(res, `${repo}:${ref}`);
        const digest = header(res.headers, 'docker-content-digest');
        if (!digest || !isDigest(digest)) {
          // Some registries omit the digest on HEAD: fall back to a GET.
          const m = await this.getManifest(repo, ref);
          return { digest: m.digest, mediaType: m.mediaType, size: m.size };
        }
        return { digest, mediaType: header(res.headers, 'content-type') ?? '', size: Number(header(res.headers, 'content-length') ?? 0) };
      },
      this.retryOpts(`HEAD ${repo}:${ref}`),
    );
  }

  /** GET of a manifest: the exact bytes, verified against the digest asked for or announced. */
  async getManifest(repo: string, ref: string): Promise<FetchedManifest> {
    return retry(
      async () => {
        const res = await this.send({ method: 'GET', path: `/v2/${repo}/manifests/${ref}`, scopes: [RegistryClient.scope(repo, ['pull'])], headers: { accept: MANIFEST_ACCEPT } });
        if (res.status !== 200) return this.fail(res, `${repo}:${ref}`);
        const bytes = await readBody(res.body, 8 * 1024 * 1024);
        const announced = header(res.headers, 'docker-content-digest');
        const expected = isDigest(ref) ? ref : announced && isDigest(announced) ? announced : undefined;
        const actual = digestOf(bytes, expected?.startsWith('sha512:') ? 'sha512' : 'sha256');
        if (expected && expected !== actual)
          throw new RetryableError(`registry ${this.registry}: manifest ${repo}:${ref} does not match its digest (expected ${expected}, got ${actual})`);
        const mediaType = (header(res.headers, 'content-type') ?? '').split(';')[0].trim();
        return { digest: expected ?? actual, mediaType, size: bytes.length, bytes };
      },
      this.retryOpts(`GET ${repo}:${ref}`),
    );
  }

  /** PUT of a manifest with its own media type; returns the digest the registry stored. */
  async putManifest(repo: string, ref: string, bytes: Buffer, mediaType: string): Promise<Digest> {
    return retry(
      async () => {
        const res = await this.send({
          method: 'PUT',
          path: `/v2/${repo}/manifests/${ref}`,
          scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
          headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
          body: () => bytes,
        });
        if (res.status !== 201 && res.status !== 200) return this.fail(res, `${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref} (manifest push)`);
        await discard(res.body);
        const stored = digestOf(bytes);
        const announced = header(res.headers, 'docker-content-digest');
        if (announced && announced !== stored && announced.startsWith('sha256:'))
          throw new RetryableError(`registry ${this.registry}: stored ${repo}:${ref} as ${announced}, expected ${stored} (changed in transit: sent again)`);
        return stored;
      },
      this.retryOpts(`PUT ${repo}:${ref}`),
    );
  }

  /** Tags of a repository, following `Link` pagination. */
  async listTags(repo: string, pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=${pageSize}`;
    while (path) {
      const p: string = path;
      const page = await retry(
        async () => {
          const res = await this.send({ method: 'GET', path: p, scopes: [RegistryClient.scope(repo, ['pull'])] });
          if (res.status !== 200) return this.fail(res, `${repo} (tag list)`);
          const body = JSON.parse((await readBody(res.body, 16 * 1024 * 1024)).toString('utf8')) as { tags?: string[] | null };
          const link = header(res.headers, 'link');
          const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
          return { tags: body.tags ?? [], next };
        },
        this.retryOpts(`tags ${repo}`),
      );
      tags.push(...page.tags);
      path = page.next;
    }
    return tags;
  }

  // ------------------------------------------------------------------ blobs

  async headBlob(repo: string, digest: Digest): Promise<number | undefined> {
    return retry(
      async () => {
        const res = await this.send({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [RegistryClient.scope(repo, ['pull'])], redirects: true });
        await discard(res.body);
        if (res.status === 404) return undefined;
        if (res.status !== 200) return this.fail(res, `${repo}@${digest}`);
        return Number(header(res.headers, 'content-length') ?? 0);
      },
      this.retryOpts(`HEAD blob ${digest.slice(0, 19)}`),
    );
  }

  /** A verified stream of a blob: it errors (before ending) if the bytes do not match. */
  async getBlob(repo: string, digest: Digest, size?: number, onBytes?: (n: number) => void): Promise<Readable> {
    const res = await retry(
      async () => {
        const r = await this.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [RegistryClient.scope(repo, ['pull'])], redirects: true });
        if (r.status !== 200) return this.fail(r, `${repo}@${digest}`);
        return r;
      },
      this.retryOpts(`GET blob ${digest.slice(0, 19)}`),
    );
    const verifier = new DigestVerifier(digest, size, `${this.registry}/${repo}@${digest}`, onBytes);
    res.body.on('error', (err) => verifier.destroy(err));
    res.body.on('aborted', () => verifier.destroy(Object.assign(new Error(`${this.registry}/${repo}@${digest}: connection closed mid-blob`), { code: 'ECONNRESET' })));
    // A consumer that gives up closes the verifier: let the connection go too.
    verifier.on('close', () => {
      if (!res.body.complete) res.body.destroy();
    });
    return res.body.pipe(verifier);
  }

  /** Cross-repository mount within this registry; true when the registry mounted it. */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    return retry(
      async () => {
        const res = await this.send({
          method: 'POST',
          path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
          scopes: [RegistryClient.scope(repo, ['pull', 'push']), RegistryClient.scope(from, ['pull'])],
          headers: { 'content-length': '0' },
        });
        await discard(res.body);
        if (res.status === 201) return true;
        if (res.status === 202) {
          // Not mounted: the registry opened an upload session instead; cancel it.
          const loc = header(res.headers, 'location');
          if (loc)
            await this.send({ method: 'DELETE', path: loc, scopes: [RegistryClient.scope(repo, ['pull', 'push'])] }).then(
              (r) => discard(r.body),
              () => undefined,
            );
          return false;
        }
        return this.fail(res, `${repo} (mount ${digest.slice(0, 19)} from ${from})`);
      },
      this.retryOpts(`mount ${digest.slice(0, 19)}`),
    );
  }

  private async startUpload(repo: string): Promise<string> {
    const res = await this.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [RegistryClient.scope(repo, ['pull', 'push'])], headers: { 'content-length': '0' } });
    await discard(res.body);
    if (res.status !== 202) return this.fail(res, `${repo} (start upload)`);
    const loc = header(res.headers, 'location');
    if (!loc) throw new HttpError(res.status, `registry ${this.registry}: upload started without a Location`);
    return loc;
  }

  /**
   * Whether pushing to `repo` is allowed, asked before anything is built: starts an upload
   * (which needs push access) and cancels it again.
   */
  async checkPush(repo: string): Promise<void> {
    const loc = await retry(() => this.startUpload(repo), this.retryOpts(`${this.registry}/${repo}`));
    const res = await this.send({ method: 'DELETE', path: loc, scopes: [RegistryClient.scope(repo, ['pull', 'push'])] }).catch(() => undefined);
    if (res) await discard(res.body);
  }

  private static withDigest(location: string, digest: Digest): string {
    return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
  }

  /**
   * Uploads one blob from a stream in a single PUT (POST, then PUT ?digest=). Registries that
   * refuse a monolithic PUT (413/416/405) get the upload again in PATCH chunks: `reopen` gives
   * a fresh stream of the same bytes. Not retried here: the caller restarts from the source.
   */
  async uploadBlob(repo: string, digest: Digest, size: number, body: Readable, reopen?: () => Promise<Readable>): Promise<void> {
    if (this.chunkedOnly) return this.uploadChunked(repo, digest, size, body);
    const loc = await this.startUpload(repo);
    const url = new URL(loc, this.base);
    const res = await this.send({
      method: 'PUT',
      path: RegistryClient.withDigest(url.toString(), digest),
      scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: () => body,
      timeoutMs: idleTimeoutMs(300_000),
    });
    if (res.status === 201) return discard(res.body);
    if ([405, 413, 416].includes(res.status) && reopen) {
      await discard(res.body);
      body.destroy();
      this.chunkedOnly = true;
      debug(`registry ${this.registry}: monolithic upload refused (${res.status}); uploading in chunks`);
      return this.uploadChunked(repo, digest, size, await reopen());
    }
    return this.fail(res, `${repo}@${digest} (blob upload)`);
  }

  /** Chunked upload: PATCH with Content-Range per chunk, then PUT ?digest=. */
  async uploadChunked(repo: string, digest: Digest, size: number, body: Readable): Promise<void> {
    let loc = new URL(await this.startUpload(repo), this.base).toString();
    const chunkSize = this.opts.chunkSize ?? 16 * 1024 * 1024;
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const data = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      const res = await this.send({
        method: 'PATCH',
        path: loc,
        scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length), 'content-range': `${offset}-${offset + data.length - 1}` },
        body: () => data,
      });
      if (res.status !== 202) return this.fail(res, `${repo}@${digest} (chunk at ${offset})`);
      await discard(res.body);
      offset += data.length;
      loc = new URL(header(res.headers, 'location') ?? loc, this.base).toString();
    };
    for await (const chunk of body as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= chunkSize) await flush();
    }
    if (pendingBytes > 0) await flush();
    if (offset !== size) throw new Error(`${repo}@${digest}: uploaded ${offset} bytes, expected ${size}`);
    const res = await this.send({
      method: 'PUT',
      path: RegistryClient.withDigest(loc, digest),
      scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
      headers: { 'content-length': '0' },
    });
    if (res.status !== 201) return this.fail(res, `${repo}@${digest} (finish chunked upload)`);
    await discard(res.body);
  }

  static closeAll(): void {
    closeAgents();
  }
}
