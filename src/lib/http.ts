// A small HTTP(S) client over node:http: streamed bodies both ways, keep-alive agents per
// scheme and TLS mode, timeouts, no automatic redirects (callers decide what to forward).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { readAll, TooLargeError } from './streams.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A buffer, or a stream (its length should be set in headers when known). */
  body?: Buffer | Readable;
  /** Skip TLS certificate verification (insecure registries). */
  insecure?: boolean;
  /** Idle socket timeout in ms (default: idleTimeoutMs()). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  url: URL;
}

/**
 * How long a request may go without a byte moving either way before it is given up (and, being
 * a transient fault, retried): `fallback`, or AIRLIFT_IDLE_TIMEOUT_MS when that is set (a slow
 * link, or a test).
 */
/** An http(s) URL as it may be shown: no credentials, no query (signatures, tokens); anything else as is. */
export function shownUrl(value: string): string {
  if (!/^https?:\/\//.test(value)) return value;
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return value.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, '');
  }
}

export function idleTimeoutMs(fallback = 120_000): number {
  const v = Number(process.env.AIRLIFT_IDLE_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const agents = new Map<string, HttpAgent | HttpsAgent>();

function agentFor(url: URL, insecure: boolean): HttpAgent | HttpsAgent {
  const key = `${url.protocol}${insecure ? ':insecure' : ''}`;
  let a = agents.get(key);
  if (!a) {
    a = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: !insecure }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    agents.set(key, a);
  }
  return a;
}

/** Closes idle keep-alive sockets (lets a CLI process exit promptly). */
export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export function httpSend(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const fn = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = fn(req.url, { method: req.method, headers: req.headers, agent: agentFor(req.url, req.insecure ?? false), signal: req.signal }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url: req.url });
    });
    const idle = req.timeoutMs ?? idleTimeoutMs();
    r.setTimeout(idle, () => r.destroy(Object.assign(new Error(`no answer for ${idle} ms: ${req.method} ${req.url.host}${req.url.pathname}`), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    const body = req.body;
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else if (body.destroyed) {
      // It failed before we got to send it (e.g. its digest check failed while we waited).
      r.destroy(body.errored ?? new Error('request body stream was closed before it was sent'));
    } else {
      body.on('error', (err) => r.destroy(err));
      body.pipe(r);
    }
  });
}

/** Reads a (small) response body fully; bounded so a misbehaving server cannot exhaust memory. */
export async function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return readAll(res, limit).catch((err: unknown) => {
    // only the limit is ours to name; a connection that broke keeps its code (and stays retryable)
    if (err instanceof TooLargeError) throw new Error(`response body ${err.message}`);
    throw err;
  });
}

/** Drains and discards a response body so its socket can be reused. */
export function discard(res: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    res.on('end', resolve);
    res.on('error', () => resolve());
    res.on('close', resolve);
    res.resume();
  });
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections there (connection refused): check the host and port, and that the service is running',
  ENOTFOUND: 'the host name does not resolve: check its spelling, or the DNS of this machine',
  EAI_AGAIN: 'the host name could not be looked up (DNS did not answer): try again, or check the DNS of this machine',
  ETIMEDOUT: 'no answer in time: check the address, a firewall, or a proxy',
  ECONNRESET: 'the connection was reset by the other side or a proxy',
  EHOSTUNREACH: "no route to the host: check the address and this machine's network",
  ENETUNREACH: 'the network is unreachable from this machine',
  EPROTO: 'the TLS handshake failed (is it plain http?)',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed and not trusted here',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain is not trusted here',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate chain is not trusted here',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host name',
};

/**
 * What went wrong, in words, when a request got no HTTP answer at all (fetch's bare "fetch
 * failed", a raw "connect ECONNREFUSED"); undefined for anything else.
 */
export function networkReason(err: unknown): string | undefined {
  for (let e = err as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = e.code;
    if (code && NETWORK[code]) return `${NETWORK[code]} (${code})`;
  }
  // fetch's own refusals ("bad port") come as a cause without a code
  const e = err as { message?: string; cause?: { message?: string } };
  if (e?.message === 'fetch failed' && e.cause?.message) return `the request was not made: ${e.cause.message}`;
  return undefined;
}
