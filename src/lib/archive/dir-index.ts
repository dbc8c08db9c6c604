// A directory read the way a tar index is: an OCI layout written by `pack-offline --format oci`,
// or a bundle unpacked at the site, imported without packing it again. Entry names are paths
// below the root; links pointing outside it are refused, naming the entry, as in a tar.
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { checkLinkTarget, type ArchiveIndex, type TarEntryInfo } from './tar-index.js';

export class DirIndex implements ArchiveIndex {
  readonly entries = new Map<string, TarEntryInfo>();
  private constructor(readonly file: string) {}

  static async open(dir: string, what = dir): Promise<DirIndex> {
    const idx = new DirIndex(dir);
    const visit = async (rel: string) => {
      for (const name of (await readdir(join(dir, rel))).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const st = await lstat(join(dir, r));
        if (st.isDirectory()) {
          idx.entries.set(r, { name: r, type: 'directory', size: 0, offset: 0, mode: st.mode & 0o7777 });
          await visit(r);
        } else if (st.isSymbolicLink()) {
          const linkname = await readlink(join(dir, r));
          checkLinkTarget(r, linkname, 'symlink', what);
          idx.entries.set(r, { name: r, type: 'symlink', size: 0, offset: 0, mode: 0o777, linkname });
        } else if (st.isFile()) idx.entries.set(r, { name: r, type: 'file', size: st.size, offset: 0, mode: st.mode & 0o7777 });
      }
    };
    await visit('');
    return idx;
  }

  has(name: string): boolean {
    return this.entries.has(name.replace(/^\.\/+/, ''));
  }

  get(name: string): TarEntryInfo | undefined {
    let e = this.entries.get(name.replace(/^\.\/+/, ''));
    for (let hops = 0; e?.type === 'symlink' && hops < 8; hops++) e = this.entries.get(posix.normalize(posix.join(posix.dirname(e.name), e.linkname!)));
    return e;
  }

  private path(name: string): { path: string; size: number } {
    const e = this.get(name);
    if (!e || e.type !== 'file') throw new UserError(`${this.file}: no file "${name}" in the directory`);
    return { path: join(this.file, e.name), size: e.size };
  }

  stream(name: string): Readable {
    const { path, size } = this.path(name);
    // the size indexed is what is read, as from a tar: a file that grew since is not read past it
    if (size === 0) return Readable.from([]);
    return createReadStream(path, { start: 0, end: size - 1, highWaterMark: 1024 * 1024 });
  }

  async head(name: string, n: number): Promise<Buffer> {
    const { path, size } = this.path(name);
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(Math.min(n, size));
      await fh.read(b, 0, b.length, 0);
      return b;
    } finally {
      await fh.close();
    }
  }

  async read(name: string, limit = 64 * 1024 * 1024): Promise<Buffer> {
    const e = this.get(name);
    if (e && e.size > limit) throw new UserError(`${this.file}: "${name}" is larger than ${limit} bytes`);
    const chunks: Buffer[] = [];
    for await (const c of this.stream(name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Where an entry's bytes are: its own file. */
  bytesOf(name: string): { file: string; region?: undefined } {
    return { file: this.path(name).path };
  }
}
