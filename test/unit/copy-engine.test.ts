// The copy engine in process, against in-memory transports: what it sends, in what order, how
// often, and what it reports, without registries or child processes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Copier, settledBy } from '../../src/lib/image/copy.js';
import { fanOut } from '../../src/lib/image/fanout.js';
import { count, image, MemorySource, MemoryStore, MemoryTarget } from '../support/memory-images.js';
import { sha256Digest } from '../support/oci.js';

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
    const base = sha256Digest(Buffer.from('base layer'));
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

describe('settledBy', () => {
  test('the check decides the copy when every target holds the digest, not when one lacks it or a platform filter hides the digest', async () => {
    const img = image('app');
    const store = new MemoryStore('r.example');
    const copier = new Copier();
    const there = new MemoryTarget(store, 'mirror/app');
    const missing = new MemoryTarget(store, 'mirror/other');
    await copier.copy(new MemorySource(img), [there]);
    assert.equal(settledBy(await copier.check(new MemorySource(img), [there]), [there]), true);
    assert.equal(settledBy(await copier.check(new MemorySource(img), [there, missing]), [there, missing]), false);
    const filtered = { platforms: [{ os: 'linux', architecture: 'arm64' }] };
    assert.equal(settledBy(await copier.check(new MemorySource(img), [there], filtered), [there]), false);
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
