// Import without a daemon: registry → archive → empty registry keeps every digest; legacy
// `docker save` output (xz-compressed, like openEuler's base images) pushes too; tampered and
// path-traversal archives are refused before anything is pushed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, createWriteStream, openSync, readSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { catalog, startRegistry, startRegistryWithFixture, type Registry } from '../support/registry.js';
import { startDockerd } from '../support/dockerd.js';
import { inspectRaw, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { ArchiveWriter } from '../../src/lib/image/archive-writer.js';
import { ArchiveReader } from '../../src/lib/image/archive-reader.js';
import { Copier } from '../../src/lib/image/copy.js';
import { importArchive } from '../../src/lib/offline/import.js';
import { openSource, RegistryPool } from '../../src/lib/image/open.js';
import { parseImageRef } from '../../src/lib/image/transport.js';
import { parsePlatform } from '../../src/lib/image/manifest.js';
import { TarWriter } from '../../src/lib/archive/tar.js';
import { formatSha256Sums, sha256File } from '../../src/lib/archive/checksums.js';
import { configureLog } from '../../src/lib/log.js';

configureLog({ mode: 'cli', write: () => undefined });

describe('import', { skip: needs('docker-registry', 'skopeo') }, () => {
  let fx: Fixture;
  let src: Registry;
  before(async () => {
    ({ fx, reg: src } = await startRegistryWithFixture({ images: ['app', 'db'] }));
  });
  after(() => src.stop());

  async function pack(format: 'docker-archive' | 'oci-archive', platform?: string): Promise<string> {
    const file = join(workDir('pack'), `${format}.tar`);
    const w = new ArchiveWriter(file, format);
    const copier = new Copier();
    for (const name of ['app', 'db']) {
      const ref = `${src.host}/release/${name}:1.0.0`;
      await copier.copy(openSource(parseImageRef(ref), new RegistryPool()), [w.target(ref)], { platforms: platform ? [parsePlatform(platform)] : undefined });
    }
    await w.finish();
    return file;
  }

  test('registry → oci-archive → empty registry: identical index digests, every platform', async () => {
    const file = await pack('oci-archive');
    const dst = await startRegistry();
    try {
      const res = await importArchive({ file, target: `${dst.host}/site`, pool: new RegistryPool() });
      assert.deepEqual(
        res.map((r) => [r.target, r.result.targets[0].status]),
        [
          [`${dst.host}/site/release/app:1.0.0`, 'copied'],
          [`${dst.host}/site/release/db:1.0.0`, 'copied'],
        ],
      );
      for (const [i, name] of ['app', 'db'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/site/release/${name}:1.0.0`)), fx.images[i].index.digest);
      // again: everything is there, nothing is pushed
      const again = await importArchive({ file, target: `${dst.host}/site`, pool: new RegistryPool() });
      assert.deepEqual(
        again.map((r) => r.result.targets[0].status),
        ['skipped', 'skipped'],
      );
    } finally {
      await dst.stop();
    }
  });

  test('registry → docker-archive (gzip-compressed file) → registry: the platform manifest digest is kept', async () => {
    const file = await pack('docker-archive', 'linux/arm64');
    execFileSync('gzip', ['-k', '-1', file]);
    const dst = await startRegistry();
    try {
      await importArchive({ file: `${file}.gz`, target: dst.host, pool: new RegistryPool() });
      const raw = inspectRaw(`${dst.host}/release/db:1.0.0`);
      assert.equal(sha256(raw), fx.images[1].manifests[1].digest);
    } finally {
      await dst.stop();
    }
  });

  test('a legacy `docker save` archive, xz-compressed: pushed without a daemon, then pulled and run by docker', { skip: needs('root', 'dockerd', 'busybox', 'xz') }, async () => {
    const d = await startDockerd();
    const dst = await startRegistry();
    try {
      const ctx = workDir('ctx');
      copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(ctx, 'busybox'));
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "imported without a daemon"]\n');
      d.docker(['build', '-q', '-t', 'openeuler/openeuler:22.03', ctx]);
      const saved = join(workDir('saved'), 'openEuler-docker.x86_64.tar');
      execFileSync('docker', ['save', '-o', saved, 'openeuler/openeuler:22.03'], { env: d.env });
      execFileSync('xz', ['-T1', '-1', saved]);
      const res = await importArchive({ file: `${saved}.xz`, target: `${dst.host}/base`, pool: new RegistryPool() });
      assert.equal(res[0].target, `${dst.host}/base/openeuler/openeuler:22.03`);
      assert.equal(res[0].result.targets[0].status, 'copied', String(res[0].result.targets[0].error));
      d.docker(['rmi', 'openeuler/openeuler:22.03']);
      d.docker(['pull', '-q', `${dst.host}/base/openeuler/openeuler:22.03`]);
      assert.equal(d.docker(['run', '--rm', '--network', 'none', `${dst.host}/base/openeuler/openeuler:22.03`]).trim(), 'imported without a daemon');
    } finally {
      await dst.stop();
      await d.stop();
    }
  });

  test('a blob changed together with its checksum file is found before anything is pushed', async () => {
    const file = await pack('oci-archive');
    // change one byte inside a layer blob, then write a matching .sha256: the checksum check passes
    const reader = await ArchiveReader.open(file);
    const layer = fx.images[0].manifests[0].layers[fx.images[0].manifests[0].layers.length - 1];
    const entry = (reader as unknown as { tar: { get(n: string): { offset: number; size: number } } }).tar.get(`blobs/sha256/${layer.digest.slice(7)}`);
    await reader.close();
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, entry.offset + Math.floor(entry.size / 2));
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, entry.offset + Math.floor(entry.size / 2));
    closeSync(fd);
    writeFileSync(`${file}.sha256`, formatSha256Sums([{ file: 'oci-archive.tar', sha256: await sha256File(file) }]));
    const dst = await startRegistry();
    try {
      await assert.rejects(
        importArchive({ file, target: `${dst.host}/site`, pool: new RegistryPool() }),
        new RegExp(`release/app:1\\.0\\.0: layer ${layer.digest} does not match its digest`),
      );
      await assert.rejects(importArchive({ file, target: `${dst.host}/site`, pool: new RegistryPool() }), /an image is damaged; nothing was pushed/);
      assert.deepEqual(await catalog(dst), []);
    } finally {
      await dst.stop();
    }
  });

  test('one target, one image: two images on one tag are refused before anything is pushed; the same image twice goes once; a tag-only name is named', async () => {
    const write = async (names: [string, string][]) => {
      const file = join(workDir('pack'), 'two.tar');
      const w = new ArchiveWriter(file, 'oci-archive');
      const copier = new Copier();
      for (const [name, from] of names) await copier.copy(openSource(parseImageRef(`${src.host}/release/${from}:1.0.0`), new RegistryPool()), [w.target(name)]);
      await w.finish();
      return file;
    };
    const dst = await startRegistry();
    try {
      const clash = await write([
        ['a.example/release/app:1.0.0', 'app'],
        ['b.example/release/app:1.0.0', 'db'],
      ]);
      await assert.rejects(
        importArchive({ file: clash, target: `${dst.host}/site`, pool: new RegistryPool() }),
        /a\.example\/release\/app:1\.0\.0 \(sha256:[0-9a-f]{64}\) and b\.example\/release\/app:1\.0\.0 \(sha256:[0-9a-f]{64}\) would both be pushed as .*\/site\/release\/app:1\.0\.0; nothing was imported/,
      );
      assert.deepEqual(await catalog(dst), []);
      // a name without a tag is :latest
      const latest = await write([
        ['a.example/release/app', 'app'],
        ['b.example/release/app:latest', 'db'],
      ]);
      await assert.rejects(importArchive({ file: latest, target: `${dst.host}/site`, pool: new RegistryPool() }), /would both be pushed as .*\/site\/release\/app:latest/);
      const same = await write([
        ['a.example/release/app:1.0.0', 'app'],
        ['b.example/release/app:1.0.0', 'app'],
      ]);
      const res = await importArchive({ file: same, target: `${dst.host}/site`, pool: new RegistryPool() });
      assert.deepEqual(
        res.map((r) => r.name),
        ['a.example/release/app:1.0.0'],
      );
      assert.equal(sha256(inspectRaw(`${dst.host}/site/release/app:1.0.0`)), fx.images[0].index.digest);

      // skopeo and buildah write only the tag into ref.name
      const tagOnly = join(workDir('pack'), 'skopeo.tar');
      execFileSync('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', `docker://${src.host}/release/db:1.0.0`, `oci-archive:${tagOnly}:1.0.0`]);
      await assert.rejects(
        importArchive({ file: tagOnly, target: `${dst.host}/site`, pool: new RegistryPool() }),
        /image 1 records only the tag "1\.0\.0", no repository, so it cannot be placed under/,
      );
    } finally {
      await dst.stop();
    }
  });

  test('a tampered archive is refused, naming the file, before anything is pushed', async () => {
    const file = await pack('oci-archive');
    writeFileSync(`${file}.sha256`, formatSha256Sums([{ file: 'oci-archive.tar', sha256: await sha256File(file) }]));
    // flip one byte in the middle of the archive
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 5000);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, 5000);
    closeSync(fd);
    const dst = await startRegistry();
    try {
      await assert.rejects(
        importArchive({ file, target: dst.host, pool: new RegistryPool() }),
        /checksum mismatch: oci-archive.tar has sha256 [a-f0-9]{64}, oci-archive.tar.sha256 says/,
      );
      assert.deepEqual(await catalog(dst), []);
      // cut short, the archive no longer even reads as a tar (it is indexed while it is
      // verified): the checksum mismatch is still what the user is told
      truncateSync(file, 3000);
      await assert.rejects(importArchive({ file, target: dst.host, pool: new RegistryPool() }), /checksum mismatch: oci-archive.tar has sha256/);
      rmSync(`${file}.sha256`);
      await assert.rejects(importArchive({ file, target: dst.host, pool: new RegistryPool() }), /oci-archive\.tar: truncated/);
      assert.deepEqual(await catalog(dst), []);
    } finally {
      await dst.stop();
    }
  });
});

describe('unsafe archives', () => {
  async function tarWith(entries: (w: TarWriter) => Promise<void>): Promise<string> {
    const file = join(workDir('evil'), 'evil.tar');
    const w = new TarWriter(createWriteStream(file));
    await entries(w);
    await w.finish();
    return file;
  }

  test('path traversal, absolute paths and links out of the root are refused, naming the entry', async () => {
    const dotdot = await tarWith((w) => w.addFile({ name: 'blobs/../../etc/cron.d/x', size: 1 }, Buffer.from('x')));
    await assert.rejects(ArchiveReader.open(dotdot), /entry "blobs\/..\/..\/etc\/cron.d\/x" contains ".." and would escape the archive's root/);
    const abs = await tarWith((w) => w.addFile({ name: '/etc/passwd', size: 1 }, Buffer.from('x')));
    await assert.rejects(ArchiveReader.open(abs), /entry "\/etc\/passwd" has an absolute path/);
    const link = await tarWith((w) => w.addSymlink('index.json', '../../../etc/shadow'));
    await assert.rejects(ArchiveReader.open(link), /symlink "index.json" points outside the archive's root/);
    const notTar = join(workDir('nt'), 'x.tar');
    writeFileSync(notTar, Buffer.alloc(2048, 7));
    await assert.rejects(ArchiveReader.open(notTar), /not a tar archive, or corrupt at byte 0/);
  });
});
