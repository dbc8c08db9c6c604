// Stream helpers: a pass-through that lets a caller see every chunk (hashing, counting) as a consumer
// pulls it; a destination's failure to race pending writes against.
import { Transform } from 'node:stream';

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
