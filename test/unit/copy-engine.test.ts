// The copy engine in process, against in-memory transports: what it sends, in what order, how
// often, and what it reports, without registries or child processes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Copier } from '../../src/lib/image/copy.js';
import { fanOut } from '../../src/lib/image/fanout.js';
import { RetryableError } from '../../src/lib/retry.js';
import type { Descriptor, Manifest } from '../../src/lib/image/manifest.js';
import type { ImageSource, ImageTarget } from '../../src/lib/image/transport.js';
import type { Digest } from '../../src/lib/registry/digest.js';

const OCI = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};
const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;
const desc = (mediaType: string, b: Buffer): Descriptor => ({ mediaType, digest: digest(b), size: b.length });
const manifest = (mediaType: string, body: object): Manifest => {
  const bytes = Buffer.from(JSON.stringify(body));
  return { digest: digest(bytes), mediaType, bytes };
};

/** A two-platform image whose layers are `shared` (the same bytes in every image) and its own. */
function image(name: string, shared = Buffer.from('base layer')) {
  const blobs = new Map<string, Buffer>();
  const children: Manifest[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const own = Buffer.from(`${name} layer for ${architecture}`);
    const config = Buffer.from(JSON.stringify({ os: 'linux', architecture, config: { Labels: { name } }, rootfs: { type: 'layers', diff_ids: [] } }));
    for (const b of [shared, own, config]) blobs.set(digest(b), b);
    children.push(manifest(OCI.manifest, { schemaVersion: 2, mediaType: OCI.manifest, config: desc(OCI.config, config), layers: [desc(OCI.layer, shared), desc(OCI.layer, own)] }));
  }
  const top = manifest(OCI.index, {
    schemaVersion: 2,
    mediaType: OCI.index,
    manifests: children.map((c, i) => ({ mediaType: c.mediaType, digest: c.digest, size: c.bytes.length, platform: { os: 'linux', architecture: ['amd64', 'arm64'][i] } })),
  });
  return { name, top, children, blobs };
}

class MemorySource implements ImageSource {
  readonly location;
  blobGets = 0;
  constructor(
    readonly img: ReturnType<typeof image>,
    readonly registry = 'src.example',
  ) {
    this.location = { registry, repository: `release/${img.name}` };
  }
  get name() {
    return `${this.registry}/release/${this.img.name}:1.0`;
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
class MemoryStore {
  readonly blobs = new Map<string, Map<string, Buffer>>();
  readonly manifests = new Map<string, Map<string, Manifest>>();
  readonly log: string[] = [];
  constructor(readonly host: string) {}
  repo<T>(m: Map<string, Map<string, T>>, r: string): Map<string, T> {
    if (!m.has(r)) m.set(r, new Map());
    return m.get(r)!;
  }
}

class MemoryTarget implements ImageTarget {
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

const count = (log: string[], verb: string) => log.filter((l) => l.startsWith(`${verb} `)).length;

describe('copy engine (in process)', () => {
  test('an index to two registries: each blob fetched once, sent once per registry, children before the index; a second copy is one look', async () => {
    const img = image('app');
    const src = new MemorySource(img);
    const a = new MemoryStore('a.example');
    const b = new MemoryStore('b.example');
    const copier = new Copier({ random: () => 0 });
    const r = await copier.copy(src, [new MemoryTarget(a, 'mirror/app'), new MemoryTarget(b, 'mirror/app')]);
    assert.deepEqual(
      r.targets.map((t) => t.status),
      ['copied', 'copied'],
    );
    assert.equal(r.digest, img.top.digest);
    assert.deepEqual(r.platforms, ['linux/amd64', 'linux/arm64']);
    assert.equal(src.blobGets, img.blobs.size, 'each blob fetched once for both targets');
    for (const s of [a, b]) {
      assert.equal(count(s.log, 'PUT'), img.blobs.size);
      assert.equal(s.log.at(-1), 'MANIFEST mirror/app 1.0', 'the index last');
    }
    assert.equal(
      r.bytes,
      [...img.blobs.values()].reduce((n, x) => n + x.length, 0),
    );

    const again = await copier.copy(new MemorySource(img), [new MemoryTarget(a, 'mirror/app'), new MemoryTarget(b, 'mirror/app')]);
    assert.deepEqual(
      again.targets.map((t) => t.status),
      ['skipped', 'skipped'],
    );
    assert.equal(count(a.log, 'PUT') + count(b.log, 'PUT'), 2 * img.blobs.size, 'nothing sent again');
  });

  test('images sharing a layer, copied at once into one registry: the layer is sent once and mounted into the other repositories', async () => {
    const store = new MemoryStore('r.example');
    const copier = new Copier({ blobConcurrency: 32 });
    const imgs = ['app', 'db', 'web'].map((n) => image(n));
    const results = await Promise.all(imgs.map((img) => copier.copy(new MemorySource(img), [new MemoryTarget(store, `mirror/${img.name}`)])));
    assert.ok(results.every((r) => r.targets[0].status === 'copied'));
    const base = digest(Buffer.from('base layer'));
    assert.equal(store.log.filter((l) => l.startsWith('PUT ') && l.endsWith(base)).length, 1, 'sent once');
    assert.equal(store.log.filter((l) => l.startsWith('MOUNT ') && l.endsWith(base)).length, 2, 'mounted into the two others');
    assert.equal(copier.stats.blobsMounted, 2);
  });

  test('a target failing with a retryable error is sent again; one that refuses fails alone, with no manifest pushed there', async () => {
    const img = image('app');
    const flaky = new MemoryStore('flaky.example');
    const refusing = new MemoryStore('refusing.example');
    const fine = new MemoryStore('fine.example');
    const t1 = new MemoryTarget(flaky, 'mirror/app');
    t1.failPut = { times: 1, retryable: true };
    const t2 = new MemoryTarget(refusing, 'mirror/app');
    t2.failPut = { retryable: false };
    const r = await new Copier({ random: () => 0 }).copy(new MemorySource(img), [t1, t2, new MemoryTarget(fine, 'mirror/app')]);
    const status = Object.fromEntries(r.targets.map((t) => [t.target, t.status]));
    assert.deepEqual(status, { 'flaky.example/mirror/app:1.0': 'copied', 'refusing.example/mirror/app:1.0': 'failed', 'fine.example/mirror/app:1.0': 'copied' });
    assert.match(String(r.targets.find((t) => t.status === 'failed')!.error), /denied/);
    assert.equal(count(refusing.log, 'MANIFEST'), 0, 'no tag points at missing content');
    assert.equal(count(fine.log, 'PUT'), img.blobs.size);
  });

  test('a platform filter writes an index of what is kept, says what is missing, and sends only its blobs', async () => {
    const img = image('app');
    const store = new MemoryStore('r.example');
    const r = await new Copier().copy(new MemorySource(img), [new MemoryTarget(store, 'mirror/app')], {
      platforms: [
        { os: 'linux', architecture: 'arm64' },
        { os: 'linux', architecture: 's390x' },
      ],
    });
    assert.equal(r.targets[0].status, 'copied');
    assert.deepEqual(r.platforms, ['linux/arm64']);
    assert.deepEqual(r.missingPlatforms, ['linux/s390x']);
    assert.notEqual(r.digest, img.top.digest, 'a new index');
    const pushed = store.repo(store.manifests, 'mirror/app').get('1.0')!;
    assert.equal(pushed.digest, r.digest);
    assert.deepEqual(
      (JSON.parse(pushed.bytes.toString()) as { manifests: { platform: { architecture: string } }[] }).manifests.map((m) => m.platform.architecture),
      ['arm64'],
    );
    assert.equal(count(store.log, 'PUT'), 3, 'the shared layer, the arm64 layer and its config');
  });

  test('a source that cannot be read fails every target and says so; a dry run sends nothing', async () => {
    const store = new MemoryStore('r.example');
    const src = new MemorySource(image('app'));
    src.top = async () => {
      throw new Error('manifest unknown');
    };
    src.headTop = async () => {
      throw new Error('manifest unknown');
    };
    const r = await new Copier().copy(src, [new MemoryTarget(store, 'a'), new MemoryTarget(store, 'b')]);
    assert.match(String(r.sourceError), /manifest unknown/);
    assert.deepEqual(
      r.targets.map((t) => t.status),
      ['failed', 'failed'],
    );
    const dry = await new Copier().copy(new MemorySource(image('app')), [new MemoryTarget(store, 'a')], { dryRun: true });
    assert.deepEqual(
      dry.targets.map((t) => t.status),
      ['would-copy'],
    );
    assert.deepEqual(store.log, []);
  });
});

describe('fan-out', () => {
  test('one stream to three sinks at the pace of the slowest; a sink that fails is dropped and the others get every byte', async () => {
    const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const whole = Buffer.concat(chunks);
    const got: Buffer[] = [];
    const collect = async (body: Readable, delayMs: number) => {
      const parts: Buffer[] = [];
      for await (const c of body) {
        parts.push(c as Buffer);
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      }
      got.push(Buffer.concat(parts));
    };
    const failing = async (body: Readable) => {
      let n = 0;
      for await (const c of body) if ((n += (c as Buffer).length) > 512 * 1024) throw new Error('sink broke');
    };
    const results = await fanOut(Readable.from(chunks), [(b) => collect(b, 0), failing, (b) => collect(b, 1)]);
    assert.equal(results[0], undefined);
    assert.match(String(results[1]), /sink broke/);
    assert.equal(results[2], undefined);
    assert.equal(got.length, 2);
    for (const g of got) assert.ok(g.equals(whole));
  });
});
