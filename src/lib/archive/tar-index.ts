// Reads a tar file's table of contents without extracting it, so entries can be streamed by
// offset. Names are checked for safety: absolute paths, `..`
// components and links pointing outside the root are refused, naming the entry.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { FileByteReader, walkTar } from './tar-walk.js';
import { readAll } from '../streams.js';

export interface TarEntryInfo {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  size: number;
  /** byte offset of the entry's data in the file */
  offset: number;
  mode: number;
  linkname?: string;
}

/** Refuses names that would escape the extraction root. */
export function checkEntryName(name: string, what: string): string {
  const clean = name.replace(/^\.\/+/, '');
  if (clean.startsWith('/') || /^[A-Za-z]:/.test(clean)) throw new UserError(`${what}: entry "${name}" has an absolute path`);
  if (clean.split('/').includes('..')) throw new UserError(`${what}: entry "${name}" contains ".." and would escape the archive's root`);
  return clean;
}

/** Where a link points, as a path from the root; undefined when it leaves the root (absolute, or up past it). */
export function linkTargetPath(entry: string, target: string, type: 'symlink' | 'hardlink'): string | undefined {
  const resolved = type === 'hardlink' ? posix.normalize(target) : posix.normalize(posix.join(posix.dirname(entry), target));
  return target.startsWith('/') || resolved === '..' || resolved.startsWith('../') ? undefined : resolved;
}

export function checkLinkTarget(entry: string, target: string, type: 'symlink' | 'hardlink', what: string): void {
  if (linkTargetPath(entry, target, type) === undefined) throw new UserError(`${what}: ${type} "${entry}" points outside the archive's root ("${target}")`);
}

/**
 * What an archive reader needs of its container: a tar file (TarIndex) or a directory
 * (DirIndex). Each says where an entry's bytes lie; reading them is shared.
 */
export abstract class ArchiveIndex {
  readonly entries = new Map<string, TarEntryInfo>();
  /** the tar file, or the directory */
  constructor(readonly file: string) {}

  /** the entry, links followed (within the index) */
  get(name: string): TarEntryInfo | undefined {
    let e = this.entries.get(name.replace(/^\.\/+/, ''));
    for (let hops = 0; (e?.type === 'hardlink' || e?.type === 'symlink') && hops < 16; hops++) e = this.entries.get(linkTargetPath(e.name, e.linkname!, e.type) ?? '');
    return e;
  }

  /** where an entry's bytes lie: a region of the tar, or of the directory's own file */
  abstract bytesOf(name: string): { file: string; region: TarRegion };

  has(name: string): boolean {
    return this.entries.has(name.replace(/^\.\/+/, ''));
  }

  stream(name: string): Readable {
    const { file, region } = this.bytesOf(name);
    // the size indexed is what is read: a file grown since is not read past it
    if (region.size === 0) return Readable.from([]);
    return createReadStream(file, { start: region.start, end: region.start + region.size - 1, highWaterMark: 1024 * 1024 });
  }

  /** The first `n` bytes of an entry (to sniff compression), without reading the rest. */
  async head(name: string, n: number): Promise<Buffer> {
    const { file, region } = this.bytesOf(name);
    const fh = await open(file, 'r');
    try {
      const b = Buffer.alloc(Math.min(n, region.size));
      await fh.read(b, 0, b.length, region.start);
      return b;
    } finally {
      await fh.close();
    }
  }

  async read(name: string, limit = 64 * 1024 * 1024): Promise<Buffer> {
    const e = this.get(name);
    if (e && e.size > limit) throw new UserError(`${this.file}: "${name}" is larger than ${limit} bytes`);
    return readAll(this.stream(name));
  }
}

/** A tar stored inside a larger file (an archive nested in a bundle): its bytes at [start, start + size). */
export interface TarRegion {
  start: number;
  size: number;
}

export class TarIndex extends ArchiveIndex {
  private constructor(file: string) {
    super(file);
  }

  /** Indexes `file`, or the tar held in `region` of it; entry offsets are always offsets in `file`. */
  static async open(file: string, what = file, region?: TarRegion): Promise<TarIndex> {
    const idx = new TarIndex(file);
    const fh = await open(file, 'r');
    try {
      const base = region?.start ?? 0;
      const fileSize = (await fh.stat()).size;
      if (region && base + region.size > fileSize) throw new UserError(`${what}: truncated (needs ${region.size} bytes from byte ${base}, the file has ${fileSize})`);
      const end = base + (region?.size ?? fileSize);
      for await (const e of walkTar(new FileByteReader(fh, base, end), what, end)) idx.entries.set(e.name, e);
    } finally {
      await fh.close();
    }
    return idx;
  }

  bytesOf(name: string): { file: string; region: TarRegion } {
    const e = this.get(name);
    if (!e || e.type !== 'file') throw new UserError(`${this.file}: no file "${name}" in the archive`);
    return { file: this.file, region: { start: e.offset, size: e.size } };
  }
}
