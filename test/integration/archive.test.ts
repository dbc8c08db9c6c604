// Archive transports: what we write, read by independent tools (docker load, skopeo, tar).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistryWithFixture, type Registry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { startDockerd, type Dockerd } from '../support/dockerd.js';
import { sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { ArchiveWriter } from '../../src/lib/image/archive-writer.js';
import { Copier } from '../../src/lib/image/copy.js';
import { openSource, RegistryPool } from '../../src/lib/image/open.js';
import { parseImageRef } from '../../src/lib/image/transport.js';
import { parsePlatform } from '../../src/lib/image/manifest.js';
import { configureLog } from '../../src/lib/log.js';

configureLog({ mode: 'cli', write: () => undefined });

describe('archive writers', { skip: needs('docker-registry', 'skopeo', 'tar') }, () => {
  let fx: Fixture;
  let src: Registry;
  before(async () => {
    ({ fx, reg: src } = await startRegistryWithFixture({ images: ['app', 'db'] }));
  });
  after(() => src.stop());

  async function pack(format: 'docker-archive' | 'oci-archive', images: string[], platform?: string) {
    const file = join(workDir('pack'), `${format}.tar`);
    const w = new ArchiveWriter(file, format);
    const pool = new RegistryPool();
    const copier = new Copier();
    for (const name of images) {
      const ref = `${src.host}/release/${name}:1.0.0`;
      const r = await copier.copy(openSource(parseImageRef(ref), pool), [w.target(ref)], { platforms: platform ? [parsePlatform(platform)] : undefined });
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
    }
    return { file, result: await w.finish(), copier };
  }

  test('docker-archive: docker load gets the tags and layer diff_ids; layers stored once, as fetched', { skip: needs('root', 'dockerd') }, async () => {
    const { file, result } = await pack('docker-archive', ['app', 'db'], 'linux/amd64');
    assert.equal(result.sha256, sha256(execFileSync('cat', [file])).slice(7));
    assert.equal(result.size, statSync(file).size);
    const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listing.length, new Set(listing).size, 'no entry twice');
    const amd = fx.images.map((i) => i.manifests[0]);
    // base layer (shared) + 2 app layers each + configs + manifests, each once
    const unique = new Set(amd.flatMap((m) => [m.config.digest, m.digest, ...m.layers.map((l) => l.digest)]));
    assert.deepEqual(listing.filter((l) => l.startsWith('blobs/sha256/')).sort(), [...unique].map((d) => `blobs/sha256/${d.slice(7)}`).sort());
    const blobBytes = [...unique].reduce((n, d) => n + fx.blobs.get(d)!, 0);
    assert.ok(result.size <= blobBytes * 1.01 + 16 * 1024, `archive ${result.size} vs blobs ${blobBytes}`);

    let d: Dockerd | undefined;
    try {
      d = await startDockerd();
      execFileSync('docker', ['load', '-i', file], { env: d.env, stdio: 'pipe' });
      for (const [i, name] of ['app', 'db'].entries()) {
        const info: { RootFS: { Layers: string[] }; Architecture: string; RepoTags: string[] } = JSON.parse(d.docker(['image', 'inspect', `${src.host}/release/${name}:1.0.0`]))[0];
        const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--override-arch', 'amd64', `oci:${fx.dir}:${fx.images[i].ref}`], { encoding: 'utf8' }));
        assert.deepEqual(info.RootFS.Layers, cfg.rootfs.diff_ids);
        assert.equal(info.Architecture, 'amd64');
        assert.deepEqual(info.RepoTags, [`${src.host}/release/${name}:1.0.0`]);
      }
    } finally {
      await d?.stop();
    }
    // skopeo reads it too
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${file}:${src.host}/release/db:1.0.0`], { encoding: 'utf8' }));
    assert.equal(cfg.architecture, 'amd64');
  });

  test('docker-archive refuses an ambiguous platform choice', async () => {
    const w = new ArchiveWriter(join(workDir('amb'), 'x.tar'), 'docker-archive');
    const ref = `${src.host}/release/app:1.0.0`;
    const r = await new Copier().copy(openSource(parseImageRef(ref), new RegistryPool()), [w.target(ref)]);
    assert.match(String(r.targets[0].error), /a docker-archive holds one platform per image, and 2 match \(linux\/amd64, linux\/arm64\); set platform/);
    await w.abort();
  });

  test('a blob cut off in transit is fetched again; the archive stays valid for skopeo', async () => {
    const proxy = await startFaultProxy(src.url);
    try {
      const layer = fx.images[0].manifests[1].layers[1].digest;
      await proxy.setRules([
        { match: { method: 'GET', path: `/blobs/${layer}`, times: 1 }, action: 'truncate', afterBytes: 5000 },
        { match: { method: 'GET', path: '/blobs/', times: 1 }, action: 'reset' },
      ]);
      const file = join(workDir('fault'), 'x.tar');
      const w = new ArchiveWriter(file, 'oci-archive');
      const ref = `${proxy.host}/release/app:1.0.0`;
      const r = await new Copier().copy(openSource(parseImageRef(ref), new RegistryPool()), [w.target(ref)]);
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
      await w.finish();
      assert.equal((await proxy.stats()).faults.truncate, 1);
      assert.equal(sha256(execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${file}:${ref}`])), fx.images[0].index.digest);
      // skopeo verifies every blob while it copies
      execFileSync('skopeo', ['copy', '--all', '--quiet', `oci-archive:${file}:${ref}`, `oci:${workDir('fault-out')}:x`]);
    } finally {
      await proxy.stop();
    }
  });

  test('oci-archive: every platform, the same index digest; skopeo copies out of it', async () => {
    const { file } = await pack('oci-archive', ['app']);
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${file}:${src.host}/release/app:1.0.0`]);
    assert.equal(sha256(raw), fx.images[0].index.digest);
    execFileSync('skopeo', ['copy', '--all', '--quiet', `oci-archive:${file}:${src.host}/release/app:1.0.0`, `oci:${workDir('out')}:x`]);
  });
});
