// docker-archive: and oci-archive: targets. One tar holds an OCI image layout, written as blobs
// arrive (layers stored exactly as fetched, never recompressed; each blob once however many
// images share it); index.json, and for docker-archive the manifest.json that `docker load`
// reads, are written at the end. The file appears under its name only when complete.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { tap } from '../streams.js';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../archive/tar.js';
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

export class ArchiveWriter {
  private readonly tmp: string;
  private readonly tar: TarWriter;
  private readonly file: WriteStream;
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly written = new Set<Digest>();
  private lock: Promise<unknown> = Promise.resolve();
  private readonly index: Descriptor[] = [];
  private readonly docker: DockerEntry[] = [];
  private readonly images: ArchiveResult['images'] = [];
  /** image names in the order their targets were made: indexes follow it, not completion order */
  private readonly order: string[] = [];
  private failed?: unknown;
  private readonly done: Promise<void>;

  constructor(readonly path: string, readonly format: ArchiveFormat, compression: 'none' | 'gzip' = 'none') {
    this.tmp = `${path}.partial`;
    this.file = createWriteStream(this.tmp);
    const counter = tap((chunk) => {
      this.hash.update(chunk);
      this.size += chunk.length;
    });
    const entry = new PassThrough({ highWaterMark: 1024 * 1024 });
    const chain = compression === 'gzip' ? entry.pipe(createGzip({ level: 6 })).pipe(counter) : entry.pipe(counter);
    chain.pipe(this.file);
    this.done = new Promise((resolve, reject) => {
      this.file.on('finish', resolve);
      this.file.on('error', (err: NodeJS.ErrnoException) => {
        this.failed = this.translate(err);
        reject(this.failed);
      });
    });
    this.done.catch(() => undefined);
    this.tar = new TarWriter(entry);
  }

  private translate(err: unknown): unknown {
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return new DiskFullError(`${this.path}: the disk is full (${(err as Error).message}); the partial archive was removed`);
    return err;
  }

  /** Entries go into the tar one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock
      .then(() => {
        if (this.failed) throw this.failed;
        return fn();
      })
      .catch((err: unknown) => {
        throw this.translate(err);
      });
    this.lock = next.catch(() => undefined);
    return next;
  }

  hasBlob(digest: Digest): boolean {
    return this.written.has(digest);
  }

  async writeBlob(desc: Descriptor, body: Readable | Buffer): Promise<void> {
    await this.serial(async () => {
      if (this.written.has(desc.digest)) {
        if (!Buffer.isBuffer(body)) body.resume();
        return;
      }
      await this.tar.addFile({ name: blobPath(desc.digest), size: desc.size }, body);
      this.written.add(desc.digest);
    });
  }

  /** The ImageTarget for one image of the archive, under `name` (registry/repo:tag). */
  target(name: string, tag: string): ImageTarget {
    const children = new Map<Digest, Manifest>();
    const seq = this.order.length;
    this.order.push(name);
    return {
      name: `${this.format}:${this.path}:${name}`,
      store: `archive:${this.path}`,
      topDigest: async () => undefined,
      hasBlob: async (d) => this.written.has(d.digest),
      putBlob: (d, body) => this.writeBlob(d, body),
      putManifest: async (m, top) => {
        // A docker-archive keeps image manifests only: the (filtered) index would be dead weight.
        if (!(this.format === 'docker-archive' && top && isIndexType(m.mediaType))) await this.writeBlob({ mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }, m.bytes);
        if (!top) {
          children.set(m.digest, m);
          return;
        }
        await this.record(name, tag, m, children, seq);
      },
    };
  }

  private async record(name: string, tag: string, top: Manifest, children: Map<Digest, Manifest>, seq: number): Promise<void> {
    const parsed = parseManifest(top, name);
    if (this.format === 'oci-archive') {
      this.index[seq] = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length, annotations: { [IMAGE_NAME]: name, [REF_NAME]: tag } };
      const platforms = parsed.kind === 'index' ? parsed.manifests.map((d) => platformString(d.platform)) : [];
      this.images[seq] = { name, digest: top.digest, platforms };
      return;
    }
    // docker-archive: one image manifest per image (docker load takes one platform).
    let image: Manifest = top;
    let platform: Platform | undefined;
    if (parsed.kind === 'index') {
      if (parsed.manifests.length !== 1)
        throw new UserError(`${name}: a docker-archive holds one platform per image, and ${parsed.manifests.length} match (${parsed.manifests.map((d) => platformString(d.platform)).join(', ')}); set platform`);
      image = children.get(parsed.manifests[0].digest)!;
      platform = parsed.manifests[0].platform;
    }
    const img = parseManifest(image, name);
    if (img.kind !== 'image') throw new UserError(`${name}: nested indexes are not supported`);
    this.docker[seq] = { Config: blobPath(img.config.digest), RepoTags: [name], Layers: img.layers.map((l) => blobPath(l.digest)) };
    this.index[seq] = { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length, annotations: { [IMAGE_NAME]: name, [REF_NAME]: tag }, ...(platform ? { platform } : {}) };
    this.images[seq] = { name, digest: image.digest, platforms: platform ? [platformString(platform)] : [] };
  }

  /** Writes the indexes, closes the tar and moves the file into place. */
  async finish(): Promise<ArchiveResult> {
    try {
      await this.serial(async () => {
        const add = async (name: string, data: string) => this.tar.addFile({ name, size: Buffer.byteLength(data) }, Buffer.from(data));
        await add('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
        const present = <T>(xs: T[]) => xs.filter((x) => x !== undefined);
        await add('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: present(this.index) }));
        if (this.format === 'docker-archive') await add('manifest.json', JSON.stringify(present(this.docker)));
        await this.tar.finish();
      });
      await this.done;
      await rename(this.tmp, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
    return { file: this.path, size: this.size, sha256: this.hash.digest('hex'), images: this.images.filter((x) => x !== undefined) };
  }

  /** Stops writing and removes the partial file. */
  async abort(): Promise<void> {
    this.failed ??= new Error('archive aborted');
    this.file.destroy();
    await rm(this.tmp, { force: true });
  }
}
