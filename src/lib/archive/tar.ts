// Streaming tar writer (POSIX ustar, with pax headers for long names and large sizes).
// Entries are written as they come: a file's bytes stream through, never held whole.
import type { Readable, Writable } from 'node:stream';

export interface TarEntry {
  name: string;
  size?: number;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode?: number;
  /** seconds since the epoch; 0 by default so archives are reproducible */
  mtime?: number;
  linkname?: string;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', directory: '5' } as const;
const MAX_OCTAL_SIZE = 0o77777777777;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  writeString(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Splits a long path into ustar prefix/name, or returns undefined when it cannot fit. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return { prefix, name: rest };
  }
  return undefined;
}

function rawHeader(e: Required<Omit<TarEntry, 'linkname'>> & { linkname: string; typeflag: string; prefix: string }): Buffer {
  const h = Buffer.alloc(512);
  writeString(h, 0, 100, e.name);
  writeOctal(h, 100, 8, e.mode);
  writeOctal(h, 108, 8, e.uid);
  writeOctal(h, 116, 8, e.gid);
  writeOctal(h, 124, 12, Math.min(e.size, MAX_OCTAL_SIZE));
  writeOctal(h, 136, 12, e.mtime);
  h.fill(' ', 148, 156);
  h.write(e.typeflag, 156, 1, 'ascii');
  writeString(h, 157, 100, e.linkname);
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  writeString(h, 265, 32, e.uname);
  writeString(h, 297, 32, e.gname);
  writeString(h, 345, 155, e.prefix);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** The header block(s) for one entry: a pax header first where ustar cannot hold it. */
export function tarHeader(entry: TarEntry): Buffer {
  const type = entry.type ?? 'file';
  const size = type === 'file' ? (entry.size ?? 0) : 0;
  let name = type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const linkname = entry.linkname ?? '';
  const base = {
    mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
    uid: entry.uid ?? 0,
    gid: entry.gid ?? 0,
    mtime: entry.mtime ?? 0,
    uname: entry.uname ?? '',
    gname: entry.gname ?? '',
  };
  const pax: string[] = [];
  let split = splitName(name);
  if (!split) {
    pax.push(paxRecord('path', name));
    split = { prefix: '', name: name.slice(0, 99) };
  }
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
  if (size > MAX_OCTAL_SIZE) pax.push(paxRecord('size', String(size)));
  const blocks: Buffer[] = [];
  if (pax.length) {
    const body = Buffer.from(pax.join(''));
    blocks.push(rawHeader({ ...base, name: 'PaxHeader', size: body.length, type: 'file', typeflag: 'x', prefix: '', linkname: '' }), body, tarPadding(body.length));
  }
  name = split.name;
  blocks.push(rawHeader({ ...base, name, size, type, typeflag: TYPEFLAG[type], prefix: split.prefix, linkname: linkname.slice(0, 100) }));
  return Buffer.concat(blocks);
}

/** The size of `reservedTarHeader`'s output. */
export const RESERVED_HEADER = 1536;

/**
 * A file header of exactly RESERVED_HEADER bytes whatever the name and size, so its place can
 * be kept before the size is known. A header that needs a pax header (long names, sizes of
 * 8 GiB and up) fills the place by itself; a plain 512-byte one is preceded by two more entries
 * for the directory it is in (`dir`), which extractors simply see again.
 */
export function reservedTarHeader(entry: TarEntry & { size: number }, dir: string): Buffer {
  const header = tarHeader({ ...entry, type: 'file' });
  if (header.length === RESERVED_HEADER) return header;
  if (header.length === 512) {
    const filler = tarHeader({ name: dir, type: 'directory' });
    if (filler.length !== 512) throw new Error(`tar: ${dir}: the directory name is too long to fill a reserved header`);
    return Buffer.concat([filler, filler, header]);
  }
  throw new Error(`tar: ${entry.name}: the name is too long for a reserved header`);
}

export function tarPadding(size: number): Buffer {
  const rem = size % 512;
  return Buffer.alloc(rem === 0 ? 0 : 512 - rem);
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(1024);

/** Writes a tar stream entry by entry, honouring backpressure. */
export class TarWriter {
  private bytes = 0;
  constructor(private readonly out: Writable) {}

  get written(): number {
    return this.bytes;
  }

  private write(buf: Buffer): Promise<void> {
    if (buf.length === 0) return Promise.resolve();
    this.bytes += buf.length;
    return new Promise((resolve, reject) => {
      const ok = this.out.write(buf, (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else {
        const onDrain = () => {
          this.out.off('error', onError);
          resolve();
        };
        const onError = (err: Error) => {
          this.out.off('drain', onDrain);
          reject(err);
        };
        this.out.once('drain', onDrain);
        this.out.once('error', onError);
      }
    });
  }

  async addDirectory(name: string, mode = 0o755): Promise<void> {
    await this.write(tarHeader({ name, type: 'directory', mode }));
  }

  async addSymlink(name: string, target: string): Promise<void> {
    await this.write(tarHeader({ name, type: 'symlink', linkname: target, mode: 0o777 }));
  }

  /**
   * Adds a file whose size is known up front; the source must deliver exactly that many bytes.
   * If the source fails part-way, the rest of the entry is zero-filled so the archive stays
   * well-formed, and the error is rethrown: writing the same name again later replaces it (the
   * last entry of a name wins on extraction).
   */
  async addFile(entry: TarEntry & { size: number }, source: Buffer | Readable | AsyncIterable<Buffer>): Promise<void> {
    if (Buffer.isBuffer(source) && source.length !== entry.size) throw new Error(`tar: ${entry.name}: got ${source.length} bytes, expected ${entry.size}`);
    await this.write(tarHeader({ ...entry, type: 'file' }));
    let n = 0;
    try {
      if (Buffer.isBuffer(source)) {
        await this.write(source);
        n = source.length;
      } else {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          if (n + chunk.length > entry.size) throw new Error(`tar: ${entry.name}: more than the expected ${entry.size} bytes`);
          await this.write(chunk);
          n += chunk.length;
        }
        if (n !== entry.size) throw new Error(`tar: ${entry.name}: got ${n} bytes, expected ${entry.size}`);
      }
    } catch (err) {
      for (let left = entry.size - n; left > 0; left -= ZEROS.length) await this.write(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
      await this.write(tarPadding(entry.size));
      throw err;
    }
    await this.write(tarPadding(entry.size));
  }

  async finish(): Promise<void> {
    await this.write(TAR_END);
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
