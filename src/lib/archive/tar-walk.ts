// Walks a tar's headers (ustar, pax and GNU long names) from any byte source read in order: a
// file read at offsets (entries skipped without reading them) or a stream (gzip or xz output,
// entries skipped by reading past them). Names are checked for safety as they are read, and
// device and FIFO entries are refused: an image archive or a bundle holds neither.
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { checkEntryName, checkLinkTarget, type TarEntryInfo } from './tar-index.js';

/** Bytes read in order; `pos` is where the next read starts. */
export interface ByteReader {
  pos: number;
  /** Up to `n` bytes (fewer only at the end). */
  read(n: number): Promise<Buffer>;
  skip(n: number): Promise<void>;
}

function octal(buf: Buffer, off: number, len: number): number {
  // GNU base-256 for large numbers
  if (buf[off] & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + buf[i];
    return n;
  }
  const s = buf
    .toString('ascii', off, off + len)
    .replace(/\0.*$/, '')
    .trim();
  return s ? parseInt(s, 8) : 0;
}

function str(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(body.toString('ascii', i, sp));
    if (!len) break;
    const rec = body.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

const SPECIAL: Record<string, string> = { '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };

/**
 * Yields each entry once its header is read, with `offset` = where its data starts. The caller
 * may read some or all of the data before asking for the next entry; the rest is skipped.
 * `limit`: where the tar ends in the source (a region), when known.
 */
export async function* walkTar(r: ByteReader, what: string, limit?: number): AsyncGenerator<TarEntryInfo> {
  const base = r.pos;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const truncated = (at: number, need: number) => new UserError(`${what}: truncated (entry at byte ${at - base} needs ${need} bytes)`);
  for (;;) {
    if (limit !== undefined && r.pos + 512 > limit) return;
    const at = r.pos;
    const header = await r.read(512);
    if (header.length < 512) {
      if (header.length === 0) return; // a tar cut at an entry boundary, without its end blocks: as tar reads it
      throw new UserError(`${what}: truncated (a header at byte ${at - base} is cut short)`);
    }
    if (header.every((b) => b === 0)) return;
    const sum = header.reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
    if (sum !== octal(header, 148, 8)) throw new UserError(`${what}: not a tar archive, or corrupt at byte ${at - base} (header checksum mismatch)`);
    const flag = String.fromCharCode(header[156] || 48);
    const headerSize = octal(header, 124, 12);
    const dataAt = r.pos;
    if (limit !== undefined && dataAt + Math.ceil(headerSize / 512) * 512 > limit) throw truncated(at, headerSize);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (headerSize > 16 * 1024 * 1024) throw new UserError(`${what}: a ${flag} header at byte ${at - base} claims ${headerSize} bytes`);
      const body = await r.read(headerSize);
      if (body.length < headerSize) throw truncated(at, headerSize);
      if (flag === 'x') pax = parsePax(body);
      else if (flag === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
      else if (flag === 'K') longLink = body.toString('utf8').replace(/\0.*$/s, '');
      await r.skip(Math.ceil(headerSize / 512) * 512 - headerSize);
      continue;
    }
    const magic = header.toString('ascii', 257, 263);
    const prefix = magic === 'ustar\0' || magic === 'ustar ' ? str(header, 345, 155) : '';
    const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? str(header, 157, 100);
    const size = pax.size ? Number(pax.size) : headerSize;
    pax = {};
    longName = longLink = undefined;
    if (limit !== undefined && dataAt + size > limit) throw truncated(at, size);
    if (SPECIAL[flag])
      throw new UserError(`${what}: entry "${rawName}" is ${SPECIAL[flag]}; an image archive or bundle holds only files, directories and links, so it was refused`);
    const type = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : flag === '2' ? 'symlink' : flag === '1' ? 'hardlink' : 'other';
    const name = checkEntryName(rawName, what).replace(/\/+$/, '');
    if (type === 'symlink' || type === 'hardlink') checkLinkTarget(name, linkname, type, what);
    const end = dataAt + Math.ceil(size / 512) * 512;
    if (name) yield { name, type, size, offset: dataAt, mode: octal(header, 100, 8), ...(linkname ? { linkname } : {}) };
    if (r.pos > end) throw new Error(`${what}: read past entry "${name}"`);
    const before = r.pos;
    await r.skip(end - r.pos);
    if (r.pos < end) throw truncated(at, size - Math.max(0, before - dataAt));
  }
}

/** A file (or a region of it) read at offsets; skips cost nothing. */
export class FileByteReader implements ByteReader {
  constructor(
    private readonly fh: FileHandle,
    public pos: number,
    private readonly end: number,
  ) {}
  async read(n: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(n, this.end - this.pos));
    const b = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(b, got, len - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.pos += got;
    return b.subarray(0, got);
  }
  async skip(n: number): Promise<void> {
    this.pos = Math.min(this.end, this.pos + n);
  }
}

/** A stream read in order: skipping reads past the bytes. */
export class StreamByteReader implements ByteReader {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private done = false;
  constructor(private readonly stream: Readable) {
    this.it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.it.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    return true;
  }
  /** The next chunk of at most `n` bytes (empty at the end). */
  private async chunk(n: number): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.fill())) return Buffer.alloc(0);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    this.pos += out.length;
    return out;
  }
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.fill()));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    this.pos += out.length;
    return out;
  }
  async skip(n: number): Promise<void> {
    for (let left = n; left > 0;) {
      const c = await this.chunk(left);
      if (c.length === 0) return;
      left -= c.length;
    }
  }
  /** Copies the next `n` bytes into each writable still open (waiting for slow ones), then ends them. */
  async copyTo(n: number, outs: Writable[]): Promise<number> {
    let copied = 0;
    while (copied < n) {
      const c = await this.chunk(n - copied);
      if (c.length === 0) break;
      copied += c.length;
      await Promise.all(outs.map((o) => (o.destroyed || o.writableEnded || o.write(c) ? undefined : drained(o))));
    }
    return copied;
  }
  destroy(): void {
    this.stream.destroy();
  }
}

function drained(o: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      o.off('drain', done);
      o.off('close', done);
      resolve();
    };
    o.on('drain', done);
    o.on('close', done);
  });
}
