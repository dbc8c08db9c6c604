// Exponential backoff with full jitter; honours Retry-After; retries only what is retryable;
// bounded both in attempts and in total time.
import { HttpError, UserError } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No retry starts once this much time has passed since the first attempt. */
  maxTotalMs?: number;
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  signal?: AbortSignal;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Marks an error as transient regardless of its type (e.g. a digest mismatch in transit). */
export class RetryableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  if (err instanceof UserError) return false;
  if (err instanceof HttpError) return isRetryableStatus(err.status);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && RETRYABLE_CODES.has(code)) return true;
  if (err.name === 'TimeoutError') return true;
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isRetryable(cause);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  if (!(err instanceof HttpError)) return undefined;
  const v = header(err.headers, 'retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Full-jitter delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  return Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1)));
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 20_000;
  const maxTotal = opts.maxTotalMs ?? 5 * 60_000;
  const retryable = opts.isRetryable ?? isRetryable;
  const random = opts.random ?? Math.random;
  const wait = opts.sleep ?? sleep;
  const now = opts.now ?? Date.now;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (opts.signal?.aborted || attempt >= attempts || !retryable(err)) throw err;
      const after = retryAfterMs(err, now());
      const delayMs = Math.max(backoffDelay(attempt, base, max, random), after ?? 0);
      if (now() - start + delayMs > maxTotal) throw err;
      opts.onRetry?.({ attempt, delayMs, error: err });
      await wait(delayMs, opts.signal);
    }
  }
}
