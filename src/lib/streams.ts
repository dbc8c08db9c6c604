// A pass-through that lets a caller see every chunk (hashing, counting) as a consumer pulls it.
import { Transform } from 'node:stream';

export function tap(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      onChunk(chunk);
      cb(null, chunk);
    },
  });
}
