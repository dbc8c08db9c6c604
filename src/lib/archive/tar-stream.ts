// A tar streamed into a file, gzip-compressed or not, hashed and counted on the way out (no
// second read). Work that writes entries runs through `run`, so a failing file (a full disk)
// ends it instead of leaving it waiting for a 'drain' that never comes.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { failureOf, tap } from '../streams.js';
import { TarWriter } from './tar.js';

export class TarFileStream {
  readonly tar: TarWriter;
  private readonly file: WriteStream;
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly done: Promise<void>;
  private readonly failed: Promise<never>;

  /** `start`: appended to an existing file from that offset (the sha256 and size are then of what is written here). */
  constructor(path: string, opts: { gzip?: boolean; gzipLevel?: number; start?: number } = {}) {
    this.file = opts.start !== undefined ? createWriteStream(path, { flags: 'r+', start: opts.start }) : createWriteStream(path);
    this.done = new Promise<void>((resolve, reject) => {
      this.file.on('finish', resolve);
      this.file.on('error', reject);
    });
    this.done.catch(() => undefined);
    this.failed = failureOf(this.done);
    const counter = tap((chunk) => {
      this.hash.update(chunk);
      this.size += chunk.length;
    });
    counter.pipe(this.file);
    const gzip = opts.gzip ? createGzip({ level: opts.gzipLevel ?? 9 }) : undefined;
    gzip?.pipe(counter);
    // a buffer in front, so entries are not held up by every small write below
    const entries = new PassThrough({ highWaterMark: 1024 * 1024 });
    entries.pipe(gzip ?? counter);
    this.tar = new TarWriter(entries);
  }

  /** Runs work that writes entries; it fails as soon as the file does. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return Promise.race([fn(), this.failed]);
  }

  /** Ends the archive; the sha256 and size of the bytes written. */
  async close(): Promise<{ sha256: string; size: number }> {
    await this.run(() => this.tar.finish());
    await this.done;
    return { sha256: this.hash.digest('hex'), size: this.size };
  }

  destroy(): void {
    this.file.destroy();
  }
}
