// Splits a file into numbered parts (<file>.part-000, …), streaming; join with
// `cat <file>.part-* > <file>` (the part names sort in order).
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { createHash } from 'node:crypto';

export interface Part {
  path: string;
  size: number;
  sha256: string;
}

export async function splitFile(path: string, partSize: number, opts: { removeOriginal?: boolean } = {}): Promise<Part[]> {
  const parts: Part[] = [];
  let out: ReturnType<typeof createWriteStream> | undefined;
  let hash = createHash('sha256');
  let written = 0;
  const close = async () => {
    if (!out) return;
    out.end();
    await once(out, 'finish');
    parts[parts.length - 1].size = written;
    parts[parts.length - 1].sha256 = hash.digest('hex');
    out = undefined;
  };
  const openNext = () => {
    const p = `${path}.part-${String(parts.length).padStart(3, '0')}`;
    parts.push({ path: p, size: 0, sha256: '' });
    out = createWriteStream(p);
    hash = createHash('sha256');
    written = 0;
  };
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      let buf = chunk as Buffer;
      while (buf.length) {
        if (!out) openNext();
        const take = Math.min(buf.length, partSize - written);
        const piece = buf.subarray(0, take);
        hash.update(piece);
        if (!out!.write(piece)) await once(out!, 'drain');
        written += take;
        buf = buf.subarray(take);
        if (written === partSize) await close();
      }
    }
    await close();
  } catch (err) {
    out?.destroy();
    for (const p of parts) await rm(p.path, { force: true });
    throw err;
  }
  if (opts.removeOriginal) await rm(path);
  return parts;
}
