// Stream helpers: a whole (small) stream read into a buffer; a pass-through that lets a caller see
// every chunk (hashing, counting) as a consumer pulls it; a destination's failure to race pending
// writes against.
import { Transform } from 'node:stream';

/** A stream gave more than the limit it was read with. */
export class TooLargeError extends Error {}

/** Everything a stream yields, as one buffer: for manifests, configs and other small bodies. Past `limit` bytes the stream is destroyed and an error thrown. */
export async function readAll(stream: AsyncIterable<unknown> & { destroy?: () => void }, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    n += b.length;
    if (n > limit) {
      stream.destroy?.();
      throw new TooLargeError(`larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      onChunk(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * A promise that rejects when `done` does and never settles otherwise: raced against work that
 * writes into a stream, so a failed destination (a full disk) ends the wait for a 'drain' that
 * would never come.
 */
export function failureOf(done: Promise<unknown>): Promise<never> {
  const failed = done.then(() => new Promise<never>(() => undefined));
  failed.catch(() => undefined);
  return failed;
}
