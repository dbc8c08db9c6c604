// docker-archive: and oci-archive: targets. One tar holds an OCI image layout, written as blobs
// arrive (layers stored exactly as fetched, never recompressed; each blob once however many
// images share it; uncompressed, several blobs stream into their own places in the file at
// once, and a retried blob is written again in its own place; gzip spools each blob beside the
// archive, then takes them one at a time); index.json, and for docker-archive the
// manifest.json that `docker load` reads, are written at the end. The file appears under its name only when complete.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { ParallelTarFile, type ArchiveRegion } from '../archive/tar-file.js';
import { TarFileStream } from '../archive/tar-stream.js';
import { UserError } from '../errors.js';
import { digestHex, type Digest } from '../registry/digest.js';
import { isIndexType, MEDIA } from '../registry/media-types.js';
import { parseManifest, platformString, type Descriptor, type Manifest, type Platform } from './manifest.js';
import { IMAGE_NAME, REF_NAME } from './oci-layout.js';
import type { ImageTarget } from './transport.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** Writing failed for want of space; the partial output is removed. */
export class DiskFullError extends UserError {}
export { IMAGE_NAME };

interface DockerEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export interface ArchiveResult {
  file: string;
  size: number;
  sha256: string;
  images: { name: string; digest: Digest; platforms: string[] }[];
}

const blobPath = (d: Digest) => `blobs/sha256/${digestHex(d)}`;

/** Where the tar goes: entries at positions in a plain file, or one stream (gzip). Entries may be added while others are being written. */
interface TarSink {
  addFile(entry: { name: string; size: number }, body: Readable | Buffer): Promise<void>;
  /** keeps a place for an entry written later (positional sinks only) */
  reserve?(entry: { name: string; size: number }): Promise<void>;
  finish(): Promise<{ size: number; sha256: string }>;
  abort(): Promise<void>;
}

/** Uncompressed: every blob streams into its own region of the file at once. */
class FileSink implements TarSink {
  private readonly file: Promise<ParallelTarFile>;
  constructor(path: string, region?: ArchiveRegion) {
    this.file = region ? Promise.resolve(ParallelTarFile.inRegion(region.fh, region.path, region.base)) : ParallelTarFile.open(path);
    this.file.catch(() => undefined);
  }
  async addFile(entry: { name: string; size: number }, body: Readable | Buffer): Promise<void> {
    await (await this.file).addFile(entry, body);
  }
  async reserve(entry: { name: string; size: number }): Promise<void> {
    (await this.file).reserve(entry);
  }
  async finish() {
    return (await this.file).finish();
  }
  async abort() {
    await (await this.file.catch(() => undefined))?.abort();
  }
}

/**
 * Compressed: one tar stream through gzip; entries go in one at a time. A stream cannot take
 * back what it wrote, so a streamed body is first spooled to a file beside the archive: a body
 * that fails (cut off, or its digest wrong) never reaches the archive, and the retry adds it
 * cleanly. Bodies spool in parallel while earlier entries are compressed.
 */
class StreamSink implements TarSink {
  private readonly file: TarFileStream;
  private queue: Promise<unknown> = Promise.resolve();
  private spools = 0;
  private readonly live = new Set<string>();
  constructor(private readonly path: string) {
    this.file = new TarFileStream(path, { gzip: true, gzipLevel: 6 });
  }
  /** an entry that failed once it was in the stream: the archive cannot be finished */
  private broken?: unknown;
  /** Runs after the entries before it. */
  private next<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.broken) throw this.broken;
      return this.file.run(fn);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
  /** One entry into the stream; a failure there (a local read or write) spoils the archive. */
  private add(entry: { name: string; size: number }, body: Readable | Buffer): Promise<void> {
    return this.next(() => this.file.tar.addFile(entry, body)).catch((err: unknown) => {
      this.broken ??= err;
      throw err;
    });
  }
  async addFile(entry: { name: string; size: number }, body: Readable | Buffer): Promise<void> {
    if (Buffer.isBuffer(body)) return this.add(entry, body);
    const spool = `${this.path}.spool-${this.spools++}`;
    this.live.add(spool);
    try {
      await pipeline(body, createWriteStream(spool));
      const { size } = await stat(spool);
      if (size !== entry.size) throw new Error(`tar: ${entry.name}: got ${size} bytes, expected ${entry.size}`);
      await this.add(entry, createReadStream(spool, { highWaterMark: 1024 * 1024 }));
    } finally {
      this.live.delete(spool);
      await rm(spool, { force: true });
    }
  }
  finish() {
    return this.next(() => this.file.close());
  }
  async abort() {
    this.file.destroy();
    await Promise.all([...this.live].map((f) => rm(f, { force: true })));
  }
}

export class ArchiveWriter {
  private readonly tmp: string;
  private readonly sink: TarSink;
  private readonly written = new Set<Digest>();
  /** blobs being written: a second writer of the same digest waits for the first */
  private readonly writing = new Map<Digest, Promise<void>>();
  private readonly index: Descriptor[] = [];
  private readonly docker: DockerEntry[] = [];
  private readonly images: ArchiveResult['images'] = [];
  /** image names in the order their targets were made: indexes follow it, not completion order */
  private readonly order: string[] = [];
  private failed?: unknown;

  /**
   * `region`: write the archive inside a larger file the caller owns (uncompressed only); it is
   * then neither renamed nor removed here, and `path` only names it in messages.
   */
  constructor(
    readonly path: string,
    readonly format: ArchiveFormat,
    compression: 'none' | 'gzip' = 'none',
    private readonly region?: ArchiveRegion,
  ) {
    if (region && compression !== 'none') throw new Error('an archive written in place is uncompressed');
    this.tmp = `${path}.partial`;
    this.sink = compression === 'gzip' ? new StreamSink(this.tmp) : new FileSink(this.tmp, region);
  }

  private translate(err: unknown): unknown {
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return new DiskFullError(`${this.path}: the disk is full (${(err as Error).message}); the partial archive was removed`);
    return err;
  }

  /** An entry of the archive, unless it was aborted; a full disk is named as such. */
  private async entry<T>(fn: () => Promise<T>): Promise<T> {
    if (this.failed) throw this.failed;
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** Whether blobs can be given their places up front (an uncompressed archive). */
  get reserves(): boolean {
    return this.sink.reserve !== undefined;
  }

  /**
   * Places for blobs written later, in this order (what the images will hold, planned first):
   * the archive then comes out the same whatever order the blobs arrive in.
   */
  async reserve(descs: Descriptor[]): Promise<void> {
    for (const d of descs) await this.entry(() => this.sink.reserve!({ name: blobPath(d.digest), size: d.size }));
  }

  hasBlob(digest: Digest): boolean {
    return this.written.has(digest);
  }

  async writeBlob(desc: Descriptor, body: Readable | Buffer): Promise<void> {
    const skip = () => {
      if (!Buffer.isBuffer(body)) body.resume();
    };
    // one writer per digest at a time: wait out the current one, then check and claim with no
    // await in between (a failed copy must never land after a good one)
    for (let w = this.writing.get(desc.digest); w; w = this.writing.get(desc.digest)) await w.catch(() => undefined);
    if (this.written.has(desc.digest)) return skip();
    const write = this.entry(async () => {
      await this.sink.addFile({ name: blobPath(desc.digest), size: desc.size }, body);
      this.written.add(desc.digest);
    });
    this.writing.set(desc.digest, write);
    try {
      await write;
    } finally {
      this.writing.delete(desc.digest);
    }
  }

  /**
   * The ImageTarget for one image of the archive, under `name` (registry/repo:tag): both
   * io.containerd.image.name and org.opencontainers.image.ref.name hold the whole name, so images
   * sharing a tag (a release) stay apart for the tools that read them by name (skopeo, podman).
   */
  target(name: string): ImageTarget {
    const seq = this.order.length;
    this.order.push(name);
    return new ArchiveTarget(this, name, seq);
  }

  /** (ArchiveTarget's) whether a blob is written already */
  hasWritten(digest: Digest): boolean {
    return this.written.has(digest);
  }

  /** (ArchiveTarget's) one blob, once, whoever asks */
  putBlob(d: Descriptor, body: Readable | Buffer): Promise<void> {
    return this.writeBlob(d, body);
  }

  /** (ArchiveTarget's) an image's top manifest, its children given: recorded under its name */
  putTop(name: string, top: Manifest, children: Map<Digest, Manifest>, seq: number): Promise<void> {
    return this.record(name, top, children, seq);
  }

  private async record(name: string, top: Manifest, children: Map<Digest, Manifest>, seq: number): Promise<void> {
    const parsed = parseManifest(top, name);
    if (this.format === 'oci-archive') {
      this.index[seq] = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, annotations: { [IMAGE_NAME]: name, [REF_NAME]: name } };
      const platforms = parsed.kind === 'index' ? parsed.manifests.map((d) => platformString(d.platform)) : [];
      this.images[seq] = { name, digest: top.digest, platforms };
      return;
    }
    // docker-archive: one image manifest per image (docker load takes one platform).
    let image: Manifest = top;
    let platform: Platform | undefined;
    if (parsed.kind === 'index') {
      if (parsed.manifests.length !== 1)
        throw new UserError(
          `${name}: a docker-archive holds one platform per image, and ${parsed.manifests.length} match (${parsed.manifests.map((d) => platformString(d.platform)).join(', ')}); set platform`,
        );
      image = children.get(parsed.manifests[0].digest)!;
      platform = parsed.manifests[0].platform;
    }
    const img = parseManifest(image, name);
    if (img.kind !== 'image') throw new UserError(`${name}: nested indexes are not supported`);
    this.docker[seq] = { Config: blobPath(img.config.digest), RepoTags: [name], Layers: img.layers.map((l) => blobPath(l.digest)) };
    this.index[seq] = {
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.bytes.length,
      annotations: { [IMAGE_NAME]: name, [REF_NAME]: name },
      ...(platform ? { platform } : {}),
    };
    this.images[seq] = { name, digest: image.digest, platforms: platform ? [platformString(platform)] : [] };
  }

  /** Writes the indexes, closes the tar and moves the file into place. */
  async finish(): Promise<ArchiveResult> {
    let result: { size: number; sha256: string };
    try {
      await Promise.allSettled(this.writing.values());
      result = await this.entry(async () => {
        const add = async (name: string, data: string) => this.sink.addFile({ name, size: Buffer.byteLength(data) }, Buffer.from(data));
        await add('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
        const present = <T>(xs: T[]) => xs.filter((x) => x !== undefined);
        await add('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: present(this.index) }));
        if (this.format === 'docker-archive') await add('manifest.json', JSON.stringify(present(this.docker)));
        return this.sink.finish();
      });
      if (!this.region) await rename(this.tmp, this.path);
    } catch (err) {
      await this.abort();
      throw this.translate(err);
    }
    return { file: this.path, size: result.size, sha256: result.sha256, images: this.images.filter((x) => x !== undefined) };
  }

  /** Stops writing and removes the partial file. */
  async abort(): Promise<void> {
    this.failed ??= new Error('archive aborted');
    await this.sink.abort();
    if (!this.region) await rm(this.tmp, { force: true });
  }
}

/** One image of an archive being written: blobs shared with the archive's other images, manifests recorded under its name. */
class ArchiveTarget implements ImageTarget {
  readonly name: string;
  readonly store: string;
  private readonly children = new Map<Digest, Manifest>();
  constructor(
    private readonly writer: ArchiveWriter,
    private readonly image: string,
    private readonly seq: number,
  ) {
    this.name = `${writer.format}:${writer.path}:${image}`;
    this.store = `archive:${writer.path}`;
  }
  async headTop() {
    return undefined;
  }
  async hasBlob(d: Descriptor) {
    return this.writer.hasWritten(d.digest);
  }
  putBlob(d: Descriptor, body: Readable) {
    return this.writer.putBlob(d, body);
  }
  async putManifest(m: Manifest, top: boolean) {
    // A docker-archive keeps image manifests only: the (filtered) index would be dead weight.
    if (!(this.writer.format === 'docker-archive' && top && isIndexType(m.mediaType)))
      await this.writer.putBlob({ mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }, m.bytes);
    if (!top) {
      this.children.set(m.digest, m);
      return;
    }
    await this.writer.putTop(this.image, m, this.children, this.seq);
  }
}
