// A directory read the way a tar index is: an OCI layout written by `pack-offline --format oci`,
// or a bundle unpacked at the site, imported without packing it again. Entry names are paths
// below the root; links pointing outside it are refused, naming the entry, as in a tar.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { ArchiveIndex, checkLinkTarget } from './tar-index.js';

export class DirIndex extends ArchiveIndex {
  private constructor(dir: string) {
    super(dir);
  }

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
        else
          throw new UserError(
            `${what}: ${r} is ${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device'}; an image layout or bundle holds only files, directories and links, so it was refused`,
          );
      }
    };
    await visit('');
    return idx;
  }

  /** Where an entry's bytes are: its own file, as far as it was when indexed. */
  bytesOf(name: string): { file: string; region: { start: number; size: number } } {
    const e = this.get(name);
    if (!e || e.type !== 'file') throw new UserError(`${this.file}: no file "${name}" in the directory`);
    return { file: join(this.file, e.name), region: { start: 0, size: e.size } };
  }
}
