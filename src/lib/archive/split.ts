// Splits a file into numbered parts (<file>.part-000, …), streaming; join with
// `cat <file>.part-* > <file>` (the part names sort in order: numbers are padded to the same
// width, three digits or more).
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { createHash } from 'node:crypto';

export interface Part {
  path: string;
  size: number;
  sha256: string;
}

const PART = /\.part-\d{3,}$/;

/** Whether a file name is one part of a split file. */
export function isPart(path: string): boolean {
  return PART.test(path);
}

/** Removes the parts of an earlier split of `path` (a re-run must not leave stale ones to be joined). */
export async function removeParts(path: string): Promise<void> {
  const name = basename(path);
  for (const f of await readdir(dirname(path)).catch(() => [] as string[])) if (f.startsWith(`${name}.part-`) && PART.test(f)) await rm(join(dirname(path), f), { force: true });
}

export async function splitFile(path: string, partSize: number, opts: { removeOriginal?: boolean } = {}): Promise<Part[]> {
  await removeParts(path);
  const width = Math.max(3, String(Math.max(0, Math.ceil((await stat(path)).size / partSize) - 1)).length);
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
    const p = `${path}.part-${String(parts.length).padStart(width, '0')}`;
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
