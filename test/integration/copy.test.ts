// The copy engine against real registries (docker-registry), checked with skopeo.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { buildOciFixture, inspectRaw, pushFixture, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { Copier } from '../../src/lib/image/copy.js';
import { openSource, openTarget, RegistryPool } from '../../src/lib/image/open.js';
import { parseImageRef } from '../../src/lib/image/transport.js';
import { parsePlatform } from '../../src/lib/image/manifest.js';
import { NotFoundError } from '../../src/lib/registry/errors.js';
import { configureLog } from '../../src/lib/log.js';

configureLog({ mode: 'cli', write: () => undefined });
const skip = needs('docker-registry', 'skopeo');

describe('copy engine', { skip }, () => {
  let fx: Fixture;
  let src: Registry;
  let srcRefs: string[];
  before(async () => {
    fx = await buildOciFixture(workDir('fx'), { images: ['app', 'release/db', 'web'] });
    src = await startRegistry();
    srcRefs = pushFixture(fx, { host: src.host }, { namespace: 'release' });
  });
  after(() => src.stop());

  const copyAll = async (copier: Copier, pool: RegistryPool, from: string[], to: (ref: string) => string[], opts = {}) =>
    Promise.all(
      from.map((r) =>
        copier.copy(
          openSource(parseImageRef(r), pool),
          to(r).map((t) => openTarget(parseImageRef(t), pool)),
          opts,
        ),
      ),
    );

  test('multi-arch copy keeps every digest; a second run only HEADs (zero blob or manifest GETs)', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(src.url);
    try {
      const viaProxy = srcRefs.map((r) => r.replace(src.host, proxy.host));
      const retarget = (r: string) => [r.replace(proxy.host, dst.host)];
      const copier = new Copier();
      const first = await copyAll(copier, new RegistryPool(), viaProxy, retarget);
      assert.deepEqual(
        first.map((r) => r.targets.map((t) => t.status)),
        [['copied'], ['copied'], ['copied']],
      );
      for (const [i, r] of srcRefs.entries()) {
        const raw = inspectRaw(r.replace(src.host, dst.host));
        assert.equal(sha256(raw), fx.images[i].index.digest);
        for (const m of fx.images[i].manifests) assert.equal(sha256(inspectRaw(`${dst.host}/release/${fx.images[i].name}@${m.digest}`)), m.digest);
      }
      assert.deepEqual(first[0].platforms, ['linux/amd64', 'linux/arm64']);
      // the base layer of each platform is shared by all three images: fetched once each
      const blobGets = (await proxy.stats()).log.filter((l) => l.method === 'GET' && l.path.includes('/blobs/sha256:'));
      const perDigest = new Map<string, number>();
      for (const l of blobGets) perDigest.set(l.path.split('/blobs/')[1], (perDigest.get(l.path.split('/blobs/')[1]) ?? 0) + 1);
      assert.ok(
        [...perDigest.values()].every((n) => n === 1),
        JSON.stringify([...perDigest]),
      );
      assert.equal(perDigest.size, fx.blobs.size - 3 * 3, 'every config and layer once (manifests are not blobs here)');

      await proxy.resetStats();
      const second = await copyAll(new Copier(), new RegistryPool(), viaProxy, retarget);
      assert.deepEqual(
        second.map((r) => r.targets.map((t) => t.status)),
        [['skipped'], ['skipped'], ['skipped']],
      );
      const log = (await proxy.stats()).log;
      assert.deepEqual(
        log.filter((l) => l.method !== 'HEAD' && l.path !== '/v2/'),
        [],
        'only HEAD requests on a warm run',
      );
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('platform filter writes a new index with only the asked platforms', async () => {
    const dst = await startRegistry();
    try {
      const [r] = await copyAll(new Copier(), new RegistryPool(), srcRefs.slice(0, 1), (x) => [x.replace(src.host, dst.host)], { platforms: [parsePlatform('linux/arm64')] });
      assert.equal(r.targets[0].status, 'copied');
      assert.deepEqual(r.platforms, ['linux/arm64']);
      const raw = inspectRaw(srcRefs[0].replace(src.host, dst.host));
      const index = JSON.parse(raw);
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0].platform.architecture, 'arm64');
      assert.notEqual(sha256(raw), fx.images[0].index.digest);
      assert.equal(sha256(raw), r.digest);
      // the child manifest itself is unchanged
      assert.equal(index.manifests[0].digest, fx.images[0].manifests[1].digest);
    } finally {
      await dst.stop();
    }
  });

  test('a single-platform image is checked against the platform filter too', async () => {
    const pool = new RegistryPool();
    const child = `${src.host}/release/app@${fx.images[0].manifests[0].digest}`;
    const dst = await startRegistry();
    try {
      const ok = await new Copier().copy(openSource(parseImageRef(child), pool), [openTarget(parseImageRef(`${dst.host}/single/app:amd64`), pool)], {
        platforms: [parsePlatform('linux/amd64')],
      });
      assert.equal(ok.targets[0].status, 'copied', String(ok.targets[0].error));
      assert.deepEqual(ok.platforms, ['linux/amd64']);
      const bad = await new Copier().copy(openSource(parseImageRef(child), pool), [openTarget(parseImageRef(`${dst.host}/single/app:arm64`), pool)], {
        platforms: [parsePlatform('linux/arm64')],
      });
      assert.match(String(bad.sourceError), /is a single-platform image for linux\/amd64, which matches none of linux\/arm64/);
    } finally {
      await dst.stop();
    }
  });

  test('fan-out: one fetch, three registries (basic and token auth among them)', { skip: needs('htpasswd', 'openssl') }, async () => {
    const a = await startRegistry();
    const b = await startRegistry({ auth: 'htpasswd' });
    const c = await startRegistry({ auth: 'token' });
    const proxy = await startFaultProxy(src.url);
    try {
      const creds = async (reg: string) =>
        reg === b.host ? { username: 'airlift', password: b.users.airlift } : reg === c.host ? { username: 'airlift', password: c.users.airlift } : undefined;
      const pool = new RegistryPool({ credentials: creds });
      const copier = new Copier();
      const ref = srcRefs[1].replace(src.host, proxy.host);
      const res = await copier.copy(
        openSource(parseImageRef(ref), pool),
        [a, b, c].map((r) => openTarget(parseImageRef(ref.replace(proxy.host, r.host)), pool)),
      );
      assert.deepEqual(
        res.targets.map((t) => t.status),
        ['copied', 'copied', 'copied'],
        JSON.stringify(res.targets.map((t) => String(t.error))),
      );
      for (const r of [a, b, c]) {
        const cr = r.auth === 'none' ? undefined : { username: 'airlift', password: r.users.airlift };
        assert.equal(sha256(inspectRaw(`${r.host}/release/release/db:1.0.0`, cr)), fx.images[1].index.digest);
      }
      const gets = (await proxy.stats()).log.filter((l) => l.method === 'GET' && l.path.includes('/blobs/'));
      assert.equal(gets.length, new Set(gets.map((g) => g.path)).size, 'each blob fetched once for all three targets');
      assert.equal(copier.stats.blobsFetched, gets.length);
    } finally {
      await proxy.stop();
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  test('within one registry, blobs are mounted instead of fetched', async () => {
    const pool = new RegistryPool();
    const copier = new Copier();
    const res = await copier.copy(openSource(parseImageRef(srcRefs[2]), pool), [openTarget(parseImageRef(`${src.host}/mirror/web:1.0.0`), pool)]);
    assert.equal(res.targets[0].status, 'copied');
    assert.equal(copier.stats.blobsFetched, 0);
    assert.ok(copier.stats.blobsMounted > 0);
    assert.equal(sha256(inspectRaw(`${src.host}/mirror/web:1.0.0`)), fx.images[2].index.digest);
  });

  test('a missing source is reported as not found, on every target', async () => {
    const pool = new RegistryPool();
    const res = await new Copier().copy(openSource(parseImageRef(`${src.host}/release/nope:1`), pool), [openTarget(parseImageRef(`${src.host}/x/nope:1`), pool)]);
    assert.ok(res.sourceError instanceof NotFoundError, String(res.sourceError));
    assert.equal(res.targets[0].status, 'failed');
  });

  test('oci: → registry → oci: round trip keeps digests and blob bytes', async () => {
    const dst = await startRegistry();
    try {
      const pool = new RegistryPool();
      const img = fx.images[0];
      const up = await new Copier().copy(openSource(parseImageRef(`oci:${fx.dir}:${img.ref}`), pool), [openTarget(parseImageRef(`${dst.host}/rt/app:1`), pool)]);
      assert.equal(up.targets[0].status, 'copied');
      const out = workDir('oci-out');
      const down = await new Copier().copy(openSource(parseImageRef(`${dst.host}/rt/app:1`), pool), [openTarget(parseImageRef(`oci:${out}:v1`), pool)]);
      assert.equal(down.targets[0].status, 'copied');
      assert.equal(sha256(execFileSync('skopeo', ['inspect', '--raw', `oci:${out}:v1`])), img.index.digest);
      const blobs = readdirSync(join(out, 'blobs', 'sha256'));
      for (const b of blobs) assert.equal(sha256(execFileSync('cat', [join(out, 'blobs', 'sha256', b)])), `sha256:${b}`);
      // skopeo can read every platform out of our layout
      execFileSync('skopeo', ['copy', '--all', '--quiet', `oci:${out}:v1`, `oci:${workDir('skopeo-check')}:x`]);
    } finally {
      await dst.stop();
    }
  });

  test('injected faults (resets, 500s, 429s) and a corrupted blob: the copy completes with the right digests', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(src.url, { seed: 3 });
    try {
      const layer = fx.images[2].manifests[0].layers[1].digest;
      await proxy.setRules([
        { match: { path: `/blobs/${layer}`, method: 'GET', times: 1 }, action: 'flip', offset: 100 },
        { probability: 0.04, action: 'reset' },
        { probability: 0.04, action: 'status', status: 500 },
        { probability: 0.02, action: 'status', status: 429, retryAfter: 0 },
      ]);
      const viaProxy = srcRefs.map((r) => r.replace(src.host, proxy.host));
      const copier = new Copier({ attempts: 8 });
      const res = await copyAll(copier, new RegistryPool({ retry: { attempts: 8, baseDelayMs: 5, maxDelayMs: 50 } }), viaProxy, (r) => [r.replace(proxy.host, dst.host)]);
      assert.deepEqual(
        res.map((r) => r.targets[0].status),
        ['copied', 'copied', 'copied'],
        JSON.stringify(res.map((r) => String(r.targets[0].error ?? r.sourceError))),
      );
      const stats = await proxy.stats();
      assert.equal(stats.faults.flip, 1);
      assert.ok((stats.faults.reset ?? 0) + (stats.faults.status ?? 0) > 0, 'faults were injected');
      for (const [i, r] of srcRefs.entries()) assert.equal(sha256(inspectRaw(r.replace(src.host, dst.host))), fx.images[i].index.digest);
      // skopeo re-verifies every blob of the copied image, the corrupted-then-refetched layer included
      execFileSync('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${dst.host}/release/web:1.0.0`, `oci:${workDir('verify')}:x`]);
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });
});
