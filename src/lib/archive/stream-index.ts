// A tar that can only be read as a stream (the output of gzip or xz), indexed without writing
// it anywhere: one pass lists the entries and keeps the small ones (manifests, configs, index
// files) in memory; an entry asked for later is served by a pass over the stream that copies it
// out as it goes by. Requests arriving together are served by one pass, in archive order; one
// behind the current position waits for the next pass. Nothing is unpacked to disk, so a small
// compressed file that expands to gigabytes costs reading time, not temporary space.
import { PassThrough, Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { ArchiveIndex, type TarRegion } from './tar-index.js';
import { StreamByteReader, walkTar } from './tar-walk.js';

/** Entries up to this size are kept in memory by the indexing pass (up to KEEP_TOTAL in all). */
const KEEP_ENTRY = 1024 * 1024;
const KEEP_TOTAL = 64 * 1024 * 1024;
const HEAD = 16;

export class StreamIndex extends ArchiveIndex {
  private readonly kept = new Map<string, Buffer>();
  private readonly heads = new Map<string, Buffer>();
  private readonly order = new Map<string, number>();
  private readonly waiting = new Map<string, PassThrough[]>();
  private running = false;
  /** passes over the stream after the indexing one (for tests and logs) */
  passes = 0;

  private constructor(
    readonly what: string,
    private readonly open: () => Readable,
  ) {
    super(what);
  }

  /** `open` gives a fresh stream of the tar's bytes each time it is called. */
  static async open(open: () => Readable, what: string): Promise<StreamIndex> {
    const idx = new StreamIndex(what, open);
    const r = new StreamByteReader(open());
    let keptBytes = 0;
    try {
      let n = 0;
      for await (const e of walkTar(r, what)) {
        idx.entries.set(e.name, e);
        idx.order.set(e.name, n++);
        if (e.type !== 'file') continue;
        if (e.size <= KEEP_ENTRY && keptBytes + e.size <= KEEP_TOTAL) {
          const b = await r.read(e.size);
          if (b.length < e.size) throw new UserError(`${what}: truncated (entry "${e.name}" needs ${e.size} bytes)`);
          idx.kept.set(e.name, Buffer.from(b));
          keptBytes += e.size;
        } else idx.heads.set(e.name, Buffer.from(await r.read(Math.min(HEAD, e.size))));
      }
    } finally {
      r.destroy();
    }
    return idx;
  }

  bytesOf(name: string): { file: string; region: TarRegion } {
    throw new Error(`${this.what}: "${name}" has no place in a file: the archive is read as a stream`);
  }

  override async head(name: string, n: number): Promise<Buffer> {
    const e = this.file_(name);
    // the indexing pass kept the first bytes of every file (enough to tell its compression)
    return (this.kept.get(e.name) ?? this.heads.get(e.name)!).subarray(0, n);
  }

  private file_(name: string) {
    const e = this.get(name);
    if (!e || e.type !== 'file') throw new UserError(`${this.what}: no file "${name}" in the archive`);
    return e;
  }

  override stream(name: string): Readable {
    const e = this.file_(name);
    const kept = this.kept.get(e.name);
    if (kept) return Readable.from([kept]);
    if (e.size === 0) return Readable.from([]);
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    this.waiting.set(e.name, [...(this.waiting.get(e.name) ?? []), out]);
    this.kick();
    return out;
  }

  private kick(): void {
    if (this.running || this.waiting.size === 0) return;
    this.running = true;
    // a request made in the same tick as this one rides the same pass
    setImmediate(() => {
      this.pass()
        .catch((err: unknown) => {
          for (const outs of this.waiting.values()) for (const o of outs) o.destroy(err as Error);
          this.waiting.clear();
        })
        .finally(() => {
          this.running = false;
          this.kick();
        });
    });
  }

  private async pass(): Promise<void> {
    this.passes++;
    const r = new StreamByteReader(this.open());
    try {
      for await (const e of walkTar(r, this.what)) {
        const outs = this.waiting.get(e.name);
        if (outs) {
          this.waiting.delete(e.name);
          try {
            const n = await r.copyTo(e.size, outs);
            if (n < e.size) throw new UserError(`${this.what}: truncated (entry "${e.name}" needs ${e.size} bytes, ${n} are there)`);
            for (const o of outs) o.end();
          } catch (err) {
            for (const o of outs) o.destroy(err as Error);
            throw err;
          }
        }
        if (this.waiting.size === 0) return;
        // everything still wanted lies behind: the next pass serves it
        const here = this.order.get(e.name) ?? 0;
        if ([...this.waiting.keys()].every((w) => (this.order.get(w) ?? 0) <= here)) return;
      }
    } finally {
      r.destroy();
    }
  }
}
