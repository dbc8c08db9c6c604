// A tar file written at positions: each entry gets its region (header, data, padding) when it
// starts, so several entries stream in at once instead of queueing behind one another. The
// archive's sha256 is computed behind the writers by a worker thread that reads back the
// contiguous finished prefix (from the page cache), off the main thread.
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { TAR_END, tarHeader, tarPadding, type TarEntry } from './tar.js';

/** Source of the hashing worker: eval'd, so it survives bundling as it is. */
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const fd = openSync(workerData.path, 'r');
const hash = createHash('sha256');
const buf = Buffer.allocUnsafe(1 << 20);
const base = workerData.base;
let at = 0;
parentPort.on('message', (m) => {
  try {
    while (at < m.upto) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, m.upto - at), base + at);
      if (n === 0) throw new Error('the archive is shorter than written (' + at + ' bytes)');
      hash.update(buf.subarray(0, n));
      at += n;
    }
    if (m.final) {
      closeSync(fd);
      parentPort.postMessage({ sha256: hash.digest('hex'), size: at });
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
`;

/** Bytes gathered from a stream before one positional write. */
const BATCH = 512 * 1024;

/** Where an archive nested in a larger file goes: written in place, from `base` on. */
export interface ArchiveRegion {
  fh: FileHandle;
  /** the larger file's path (read back for the archive's sha256) */
  path: string;
  base: number;
}

/** Writes every byte at `position` (a positional write may write less than asked, e.g. on a nearly full disk). */
export async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const left = buffers.filter((b) => b.length > 0);
  while (left.length > 0) {
    const { bytesWritten } = left.length === 1 ? await fh.write(left[0], 0, left[0].length, position) : await fh.writev(left, position);
    if (bytesWritten === 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    position += bytesWritten;
    let skip = bytesWritten;
    while (left.length > 0 && skip >= left[0].length) skip -= left.shift()!.length;
    if (skip > 0) left[0] = left[0].subarray(skip);
  }
}

/** sha256 of a file's prefix as it grows, computed in a worker thread. */
class PrefixHasher {
  private readonly worker: Worker;
  private readonly result: Promise<{ sha256: string; size: number }>;

  constructor(path: string, base: number) {
    this.worker = new Worker(HASHER, { eval: true, workerData: { path, base } });
    this.result = new Promise((resolve, reject) => {
      this.worker.on('message', (m: { sha256?: string; size?: number; error?: string }) =>
        m.error ? reject(new Error(`hashing ${path}: ${m.error}`)) : resolve(m as { sha256: string; size: number }),
      );
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`hashing ${path}: the worker stopped (${code})`)));
    });
    this.result.catch(() => undefined);
    // a writer that is never finished or aborted must not keep the process alive (after the
    // listeners: attaching a 'message' listener refs the port again)
    this.worker.unref();
  }

  upTo(end: number): void {
    this.worker.postMessage({ upto: end });
  }

  async finish(end: number): Promise<{ sha256: string; size: number }> {
    this.worker.ref();
    this.worker.postMessage({ upto: end, final: true });
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

export class ParallelTarFile {
  /** where the next entry's region starts */
  private end = 0;
  /** the finished prefix [0, hashed) is handed to the hasher */
  private prefix = 0;
  /** finished regions past the prefix: start → end */
  private readonly finished = new Map<number, number>();
  /** regions kept for entries not yet written: name → where and how big */
  private readonly reserved = new Map<string, { start: number; size: number }>();
  private failed?: unknown;

  private constructor(
    private readonly fh: FileHandle,
    private readonly hasher: PrefixHasher,
    /** where the tar starts in the file */
    private readonly base: number,
    /** the file is ours to close */
    private readonly owned: boolean,
  ) {}

  /** `openFile` is for tests (a file handle that writes short). */
  static async open(path: string, openFile: (path: string, flags: string) => Promise<FileHandle> = open): Promise<ParallelTarFile> {
    const fh = await openFile(path, 'w');
    return new ParallelTarFile(fh, new PrefixHasher(path, 0), 0, true);
  }

  /**
   * A tar written inside a larger file from `base` on (an archive nested in a bundle, written in
   * place). The caller owns the handle; the size and sha256 are of this tar alone.
   */
  static inRegion(fh: FileHandle, path: string, base: number): ParallelTarFile {
    return new ParallelTarFile(fh, new PrefixHasher(path, base), base, false);
  }

  private async write(buffers: Buffer[], at: number): Promise<void> {
    try {
      await writeFully(this.fh, buffers, this.base + at);
    } catch (err) {
      this.failed ??= err;
      throw err;
    }
  }

  private done(start: number, stop: number): void {
    this.finished.set(start, stop);
    const before = this.prefix;
    for (let next = this.finished.get(this.prefix); next !== undefined; next = this.finished.get(this.prefix)) {
      this.finished.delete(this.prefix);
      this.prefix = next;
    }
    if (this.prefix > before) this.hasher.upTo(this.prefix);
  }

  /**
   * Keeps a region for an entry added later, at the current end: entries reserved in a given
   * order land in that order whenever their bytes arrive (a reproducible archive).
   */
  reserve(entry: TarEntry & { size: number }): void {
    if (this.reserved.has(entry.name)) return;
    const start = this.end;
    this.end = start + tarHeader({ ...entry, type: 'file' }).length + entry.size + tarPadding(entry.size).length;
    this.reserved.set(entry.name, { start, size: entry.size });
  }

  /**
   * Adds a file whose size is known up front; the source must deliver exactly that many bytes.
   * If the source fails part-way, the error is rethrown and the entry's region stays kept for
   * its name: adding the same name again (a retry) writes it over, in the same place, so the
   * archive never holds two entries of one name. An entry that is never written again makes
   * finish() fail: nothing half-written is ever finished as an archive.
   */
  async addFile(entry: TarEntry & { size: number }, source: Buffer | Readable | AsyncIterable<Buffer>): Promise<void> {
    if (this.failed) throw this.failed;
    if (Buffer.isBuffer(source) && source.length !== entry.size) throw new Error(`tar: ${entry.name}: got ${source.length} bytes, expected ${entry.size}`);
    // the header is 512 bytes, or more with a pax header (long names, sizes of 8 GiB and up)
    const header = tarHeader({ ...entry, type: 'file' });
    const pad = tarPadding(entry.size);
    // its reserved region, or a new one at the end
    const kept = this.reserved.get(entry.name);
    if (kept && kept.size !== entry.size) throw new Error(`tar: ${entry.name}: ${entry.size} bytes, but ${kept.size} were planned for it`);
    this.reserved.delete(entry.name);
    const start = kept ? kept.start : this.end;
    const stop = start + header.length + entry.size + pad.length;
    if (!kept) this.end = stop;
    let pos = start;
    try {
      if (Buffer.isBuffer(source)) {
        await this.write([header, source, pad], pos);
        pos = stop;
      } else {
        let batch: Buffer[] = [header];
        let bytes = header.length;
        let n = 0;
        for await (const chunk of source as AsyncIterable<Buffer>) {
          if (n + chunk.length > entry.size) throw new Error(`tar: ${entry.name}: more than the expected ${entry.size} bytes`);
          n += chunk.length;
          batch.push(chunk);
          bytes += chunk.length;
          if (bytes >= BATCH) {
            await this.write(batch, pos);
            pos += bytes;
            batch = [];
            bytes = 0;
          }
        }
        if (n !== entry.size) throw new Error(`tar: ${entry.name}: got ${n} bytes, expected ${entry.size}`);
        batch.push(pad);
        await this.write(batch, pos);
        pos = stop;
      }
    } catch (err) {
      // kept for a retry of this name, which overwrites whatever part of it was written
      this.reserved.set(entry.name, { start, size: entry.size });
      throw err;
    }
    this.done(start, stop);
  }

  /** Ends the archive once every entry is in; the size and sha256 of the whole file. */
  async finish(): Promise<{ size: number; sha256: string }> {
    if (this.failed) throw this.failed;
    if (this.reserved.size > 0) throw new Error(`tar: finish() with entries planned or failed and never written (${[...this.reserved.keys()].slice(0, 3).join(', ')})`);
    if (this.finished.size > 0 || this.prefix !== this.end) throw new Error('tar: finish() while entries are still being written');
    const start = this.end;
    await this.write([TAR_END], start);
    this.end += TAR_END.length;
    if (this.owned) await this.fh.close();
    const r = await this.hasher.finish(this.end);
    if (r.size !== this.end) throw new Error(`tar: hashed ${r.size} bytes of ${this.end}`);
    return r;
  }

  /** Stops writing; the caller removes the file. */
  async abort(): Promise<void> {
    this.failed ??= new Error('archive aborted');
    await this.hasher.stop();
    if (this.owned) await this.fh.close().catch(() => undefined);
  }
}
