// Images in memory, for in-process tests of the copy engine and the runs built on it: a
// two-platform image generator, sources and targets over per-registry stores that log every
// write, and an opener that reaches them by reference as a run would reach registries.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { ImageOpener } from '../../src/lib/image/open.js';
import type { Descriptor, Manifest } from '../../src/lib/image/manifest.js';
import type { ImageSource, ImageTarget } from '../../src/lib/image/transport.js';
import { formatReference, type Reference } from '../../src/lib/registry/reference.js';
import type { Digest } from '../../src/lib/registry/digest.js';
import { RetryableError } from '../../src/lib/retry.js';
import { MT, sha256Digest } from './oci.js';

const digest = (b: Buffer) => sha256Digest(b) as Digest;
const desc = (mediaType: string, b: Buffer): Descriptor => ({ mediaType, digest: digest(b), size: b.length });
const manifest = (mediaType: string, body: object): Manifest => {
  const bytes = Buffer.from(JSON.stringify(body));
  return { digest: digest(bytes), mediaType, bytes };
};

export type MemoryImage = ReturnType<typeof image>;

/** A two-platform image whose layers are `shared` (the same bytes in every image) and its own. */
export function image(name: string, shared = Buffer.from('base layer')) {
  const blobs = new Map<string, Buffer>();
  const children: Manifest[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const own = Buffer.from(`${name} layer for ${architecture}`);
    const config = Buffer.from(JSON.stringify({ os: 'linux', architecture, config: { Labels: { name } }, rootfs: { type: 'layers', diff_ids: [] } }));
    for (const b of [shared, own, config]) blobs.set(digest(b), b);
    children.push(manifest(MT.manifest, { schemaVersion: 2, mediaType: MT.manifest, config: desc(MT.config, config), layers: [desc(MT.layer, shared), desc(MT.layer, own)] }));
  }
  const top = manifest(MT.index, {
    schemaVersion: 2,
    mediaType: MT.index,
    manifests: children.map((c, i) => ({ mediaType: c.mediaType, digest: c.digest, size: c.bytes.length, platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] } })),
  });
  return { name, top, children, blobs };
}

/** An image read from memory; `blobGets` counts the blobs fetched. */
export class MemorySource implements ImageSource {
  readonly location;
  blobGets = 0;
  constructor(
    readonly img: MemoryImage,
    readonly registry = 'src.example',
    readonly repository = `release/${img.name}`,
    readonly tag = '1.0',
  ) {
    this.location = { registry, repository };
  }
  get name() {
    return `${this.registry}/${this.repository}:${this.tag}`;
  }
  async headTop() {
    return this.img.top.digest;
  }
  async top() {
    return this.img.top;
  }
  async manifest(d: Descriptor) {
    const m = this.img.children.find((c) => c.digest === d.digest);
    if (!m) throw new Error(`no manifest ${d.digest}`);
    return m;
  }
  async blob(d: Descriptor, onBytes?: (n: number) => void) {
    this.blobGets++;
    const b = this.img.blobs.get(d.digest)!;
    onBytes?.(b.length);
    return Readable.from([b]);
  }
}

/** One registry's worth of storage: blobs per repository, manifests per repository and reference. */
export class MemoryStore {
  readonly blobs = new Map<string, Map<string, Buffer>>();
  readonly manifests = new Map<string, Map<string, Manifest>>();
  readonly log: string[] = [];
  constructor(readonly host: string) {}
  repo<T>(m: Map<string, Map<string, T>>, r: string): Map<string, T> {
    if (!m.has(r)) m.set(r, new Map());
    return m.get(r)!;
  }
}

export class MemoryTarget implements ImageTarget {
  readonly store: string;
  readonly location;
  /** make putBlob fail: `times` failures (undefined: always), retryable or not */
  failPut?: { times?: number; retryable: boolean };
  constructor(
    readonly s: MemoryStore,
    readonly repository: string,
    readonly tag = '1.0',
  ) {
    this.store = `mem://${s.host}`;
    this.location = { registry: s.host, repository };
  }
  get name() {
    return `${this.s.host}/${this.repository}:${this.tag}`;
  }
  async headTop() {
    return this.s.repo(this.s.manifests, this.repository).get(this.tag)?.digest;
  }
  async hasBlob(d: Descriptor) {
    this.s.log.push(`HEAD ${this.repository} ${d.digest}`);
    return this.s.repo(this.s.blobs, this.repository).has(d.digest);
  }
  async mountBlob(d: Descriptor, from: string) {
    const b = this.s.repo(this.s.blobs, from).get(d.digest);
    if (!b) return false;
    this.s.log.push(`MOUNT ${this.repository} ${d.digest}`);
    this.s.repo(this.s.blobs, this.repository).set(d.digest, b);
    return true;
  }
  async putBlob(d: Descriptor, body: Readable) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    if (this.failPut && (this.failPut.times === undefined || this.failPut.times-- > 0)) throw this.failPut.retryable ? new RetryableError('connection reset') : new Error('denied');
    const b = Buffer.concat(chunks);
    assert.equal(digest(b), d.digest);
    this.s.log.push(`PUT ${this.repository} ${d.digest}`);
    this.s.repo(this.s.blobs, this.repository).set(d.digest, b);
  }
  async putManifest(m: Manifest, top: boolean) {
    const parsed = JSON.parse(m.bytes.toString()) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    const have = this.s.repo(this.s.manifests, this.repository);
    const blobs = this.s.repo(this.s.blobs, this.repository);
    // what a registry refuses: a manifest whose blobs or children are not there yet
    for (const d of parsed.manifests ?? []) assert.ok(have.has(d.digest), `child ${d.digest} pushed before its index`);
    for (const d of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) assert.ok(blobs.has(d.digest), `blob ${d.digest} pushed before its manifest`);
    this.s.log.push(`MANIFEST ${this.repository} ${top ? this.tag : m.digest}`);
    have.set(m.digest, m);
    if (top) have.set(this.tag, m);
  }
}

export const count = (log: string[], verb: string) => log.filter((l) => l.startsWith(`${verb} `)).length;

/** A source whose top manifest is not there (as a registry answers for a missing tag). */
export function missingSource(ref: string): ImageSource {
  const gone = async (): Promise<never> => {
    throw new Error(`${ref}: manifest unknown`);
  };
  return { name: ref, headTop: gone, top: gone, manifest: gone, blob: gone };
}

/**
 * Reaches images by reference, as a run reaches registries: sources from `images` (formatted
 * reference → image; any other is missing), targets in one MemoryStore per registry host.
 * `targetFor` may change a target (e.g. make it refuse blobs).
 */
export function memoryOpener(images: Record<string, MemoryImage>, opts: { targetFor?: (t: MemoryTarget) => void } = {}) {
  const stores = new Map<string, MemoryStore>();
  const store = (host: string) => stores.get(host) ?? stores.set(host, new MemoryStore(host)).get(host)!;
  const opened: string[] = [];
  const opener: ImageOpener = {
    source(ref: Reference) {
      const name = formatReference(ref);
      opened.push(`source ${name}`);
      const img = images[name];
      return img ? new MemorySource(img, ref.registry, ref.repository, ref.tag ?? 'latest') : missingSource(name);
    },
    target(ref: Reference) {
      opened.push(`target ${formatReference(ref)}`);
      const t = new MemoryTarget(store(ref.registry), ref.repository, ref.tag ?? 'latest');
      opts.targetFor?.(t);
      return t;
    },
  };
  return { opener, store, opened };
}
