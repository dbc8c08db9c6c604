// Content digests: parsed, validated, and verified while a stream passes through.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { RetryableError } from '../retry.js';

/** A content digest, `algorithm:hex` (sha256 or sha512). */
export type Digest = string;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(s: string): s is Digest {
  return DIGEST.test(s);
}

export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function digestAlgorithm(d: Digest): 'sha256' | 'sha512' {
  return d.slice(0, d.indexOf(':')) as 'sha256' | 'sha512';
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** A blob whose bytes did not hash to the digest that named it: transient (re-fetch). */
export class DigestMismatchError extends RetryableError {
  constructor(
    readonly what: string,
    readonly expected: Digest,
    readonly actual: Digest,
    readonly size: number,
  ) {
    super(`${what}: content does not match its digest (expected ${expected}, got ${actual}, ${size} bytes)`);
    this.name = 'DigestMismatchError';
  }
}

/**
 * Passes bytes through, failing at the end when digest or size differ. The last chunk is held
 * back until the digest is checked, so no consumer ever receives a complete unverified blob.
 */
export class DigestVerifier extends Transform {
  private readonly hash: Hash;
  private n = 0;
  private held?: Buffer;
  /** onBytes: called with each chunk's size as it passes (progress, accounting). */
  constructor(
    private readonly expected: Digest,
    private readonly expectedSize: number | undefined,
    private readonly what: string,
    private readonly onBytes?: (n: number) => void,
  ) {
    super();
    this.hash = createHash(digestAlgorithm(expected));
  }
  get bytes(): number {
    return this.n;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.n += chunk.length;
    if (this.expectedSize !== undefined && this.n > this.expectedSize) {
      cb(new RetryableError(`${this.what}: more than the expected ${this.expectedSize} bytes`));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(chunk.length);
    const prev = this.held;
    this.held = chunk;
    cb(null, prev);
  }
  override _flush(cb: TransformCallback): void {
    const actual = `${digestAlgorithm(this.expected)}:${this.hash.digest('hex')}`;
    if (this.expectedSize !== undefined && this.n !== this.expectedSize) cb(new RetryableError(`${this.what}: got ${this.n} bytes, expected ${this.expectedSize}`));
    else if (actual !== this.expected) cb(new DigestMismatchError(this.what, this.expected, actual, this.n));
    else cb(null, this.held);
  }
}
