// A tar file written entry by entry where one file's body is written in place by someone else
// (an image archive inside a release bundle) before its size is known: the place of the file's
// header is kept, its body's region handed out, and header and padding written once it is done.
// Callers name what goes where; the tar arithmetic (headers, reserved space, padding) stays here.
import { open, type FileHandle } from 'node:fs/promises';
import { RESERVED_HEADER, reservedTarHeader, tarHeader, tarPadding } from './tar.js';
import { writeFully, type ArchiveRegion } from './tar-file.js';

export class NestedTar {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    private at: number,
  ) {}

  /** A new file at `path` (truncated), written from its start. */
  static async create(path: string): Promise<NestedTar> {
    return new NestedTar(await open(path, 'w'), path, 0);
  }

  /** Directory entries, in order. */
  async directories(names: string[]): Promise<void> {
    const head = Buffer.concat(names.map((name) => tarHeader({ name, type: 'directory' })));
    await writeFully(this.fh, [head], this.at);
    this.at += head.length;
  }

  /**
   * A file whose body is written into `region` by its writer; `finish(size)` then writes the
   * file's header (in the place kept for it; `dir` is the directory it is in) and its padding.
   */
  file(name: string, dir: string): { region: ArchiveRegion; finish: (size: number) => Promise<void> } {
    const headerAt = this.at;
    const base = headerAt + RESERVED_HEADER;
    return {
      region: { fh: this.fh, path: this.path, base },
      finish: async (size) => {
        const pad = tarPadding(size);
        await writeFully(this.fh, [reservedTarHeader({ name, size }, dir)], headerAt);
        await writeFully(this.fh, [pad], base + size);
        this.at = base + size + pad.length;
      },
    };
  }

  /** Where the next entry starts: what follows is appended from here. */
  get end(): number {
    return this.at;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
