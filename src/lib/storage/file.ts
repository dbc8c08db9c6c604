// file://dir: a local directory (the embedded default for the demo and tests). Written to a
// temporary name, verified by hashing what was written, then renamed into place.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tap } from '../streams.js';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { makeDirs } from '../dirs.js';
import type { LocalFile, RemoteObject, Storage, UploadOptions, UploadResult } from './types.js';

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
}

export class FileStorage implements Storage {
  constructor(
    readonly base: string,
    private readonly dir: string,
  ) {}
  url(key: string): string {
    return `file://${join(this.dir, key)}`;
  }
  async head(key: string): Promise<RemoteObject | undefined> {
    const p = join(this.dir, key);
    const st = await stat(p).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    return { size: st.size, sha256: await sha256Of(p) };
  }
  async upload(file: LocalFile, opts: UploadOptions): Promise<UploadResult> {
    const dest = join(this.dir, file.key);
    await makeDirs(dirname(dest));
    const tmp = `${dest}.${process.pid}.uploading`;
    const h = createHash('sha256');
    try {
      await pipeline(
        opts.open(),
        tap((c) => {
          h.update(c);
          opts.onBytes?.(c.length);
        }),
        createWriteStream(tmp),
      );
      const got = h.digest('hex');
      if (got !== file.sha256) throw new UserError(`${this.url(file.key)}: wrote sha256 ${got}, expected ${file.sha256} (the file changed while it was uploaded?)`);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { url: this.url(file.key), verified: 'sha256 of the written file', partsSent: 1 };
  }
}
