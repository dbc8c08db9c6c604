// The oci:<dir>[:tag] transport: an OCI image layout on disk. Blobs are written to a temporary
// file and renamed into place only once their digest is verified; index.json is updated
// atomically (write + rename), one writer at a time per directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import { makeDirs } from '../dirs.js';
import { DigestVerifier, digestAlgorithm, digestHex, type Digest } from '../registry/digest.js';
import { NotFoundError } from '../registry/errors.js';
import { MEDIA } from '../registry/media-types.js';
import { detectMediaType, type Descriptor, type Manifest } from './manifest.js';
import type { ImageSource, ImageTarget } from './transport.js';
import { readAll } from '../streams.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const IMAGE_NAME = 'io.containerd.image.name';

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

function blobPath(dir: string, digest: Digest): string {
  return join(dir, 'blobs', digestAlgorithm(digest), digestHex(digest));
}

async function readIndex(dir: string): Promise<LayoutIndex | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as LayoutIndex;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`${join(dir, 'index.json')} is not a valid OCI index: ${(err as Error).message}`);
  }
}

const locks = new Map<string, Promise<unknown>>();
function serialized<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(dir) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(
    dir,
    next.catch(() => undefined),
  );
  return next;
}

/**
 * Puts index.json's images in the order of `names` (their io.containerd.image.name), whatever
 * order they were written in: the same images give the same layout.
 */
export function orderIndex(dir: string, names: string[]): Promise<void> {
  return serialized(dir, async () => {
    const index = await readIndex(dir);
    if (!index) return;
    const rank = (d: Descriptor) => {
      const i = names.indexOf(d.annotations?.[IMAGE_NAME] ?? '');
      return i < 0 ? names.length : i;
    };
    index.manifests = index.manifests
      .map((d, i) => ({ d, i }))
      .sort((a, b) => rank(a.d) - rank(b.d) || a.i - b.i)
      .map((x) => x.d);
    const tmp = join(dir, `index.json.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(index));
    await rename(tmp, join(dir, 'index.json'));
  });
}

export class OciLayoutSource implements ImageSource {
  readonly name: string;
  constructor(
    private readonly dir: string,
    private readonly tag?: string,
  ) {
    this.name = `oci:${dir}${tag ? `:${tag}` : ''}`;
  }
  private async entry(): Promise<Descriptor> {
    const index = await readIndex(this.dir);
    if (!index) throw new NotFoundError(`${this.dir}/index.json`);
    let entries = this.tag ? index.manifests.filter((m) => m.annotations?.[REF_NAME] === this.tag) : index.manifests;
    // Airlift names each image by its whole reference (host/repo:tag): a bare tag still finds it
    const tag = this.tag;
    if (tag && entries.length === 0 && !/[/:@]/.test(tag)) entries = index.manifests.filter((m) => (m.annotations?.[REF_NAME] ?? '').endsWith(`:${tag}`));
    if (entries.length === 0) throw new NotFoundError(this.name);
    if (entries.length > 1) throw new UserError(`${this.name}: ${entries.length} images match; name one with oci:${this.dir}:<tag>`);
    return entries[0];
  }
  async headTop() {
    return (await this.entry()).digest;
  }
  async top() {
    return this.manifest(await this.entry());
  }
  async manifest(desc: Descriptor): Promise<Manifest> {
    const bytes = await readAll(await this.blob(desc));
    return { digest: desc.digest, mediaType: detectMediaType(bytes, desc.mediaType), bytes };
  }
  async blob(desc: Descriptor, onBytes?: (n: number) => void): Promise<Readable> {
    const path = blobPath(this.dir, desc.digest);
    try {
      await stat(path);
    } catch {
      throw new NotFoundError(`${this.name} blob ${desc.digest}`);
    }
    const verifier = new DigestVerifier(desc.digest, desc.size, `${this.name} blob ${desc.digest}`, onBytes);
    const file = createReadStream(path, { highWaterMark: 1024 * 1024 });
    file.on('error', (err) => verifier.destroy(err));
    return file.pipe(verifier);
  }
}

export class OciLayoutTarget implements ImageTarget {
  readonly name: string;
  readonly store: string;
  private ready?: Promise<void>;
  /** imageName (registry/repo:tag) keeps several images with the same tag apart in one layout. */
  constructor(
    private readonly dir: string,
    private readonly tag?: string,
    private readonly imageName?: string,
  ) {
    this.name = `oci:${dir}${tag ? `:${tag}` : ''}`;
    this.store = `oci:${dir}`;
  }
  private matches(e: Descriptor): boolean {
    if (this.imageName && e.annotations?.[IMAGE_NAME] !== this.imageName) return false;
    return this.tag ? e.annotations?.[REF_NAME] === this.tag : true;
  }
  private init(): Promise<void> {
    return (this.ready ??= (async () => {
      await makeDirs(join(this.dir, 'blobs', 'sha256'));
      await writeFile(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      await serialized(this.dir, async () => {
        if (!(await readIndex(this.dir))) await writeFile(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }));
      });
    })());
  }
  async headTop() {
    const index = await readIndex(this.dir);
    return index?.manifests.find((m) => this.matches(m))?.digest;
  }
  async hasBlob(desc: Descriptor) {
    try {
      return (await stat(blobPath(this.dir, desc.digest))).size === desc.size;
    } catch {
      return false;
    }
  }
  async putBlob(desc: Descriptor, body: Readable): Promise<void> {
    await this.init();
    const final = blobPath(this.dir, desc.digest);
    await mkdir(join(this.dir, 'blobs', digestAlgorithm(desc.digest)), { recursive: true });
    const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await pipeline(body, new DigestVerifier(desc.digest, desc.size, `${this.name} blob ${desc.digest}`), createWriteStream(tmp));
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
  async putManifest(m: Manifest, top: boolean): Promise<void> {
    await this.init();
    const path = blobPath(this.dir, m.digest);
    await writeFile(`${path}.tmp`, m.bytes);
    await rename(`${path}.tmp`, path);
    if (!top) return;
    await serialized(this.dir, async () => {
      const index = (await readIndex(this.dir)) ?? { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
      const desc: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
      if (this.tag) desc.annotations = { [REF_NAME]: this.tag, ...(this.imageName ? { [IMAGE_NAME]: this.imageName } : {}) };
      index.manifests = index.manifests.filter((e) => (this.tag ? !this.matches(e) : e.digest !== m.digest));
      index.manifests.push(desc);
      const tmp = join(this.dir, `index.json.${process.pid}.tmp`);
      await writeFile(tmp, JSON.stringify(index));
      await rename(tmp, join(this.dir, 'index.json'));
    });
  }
}
