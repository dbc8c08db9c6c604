// Import checks an archive before it pushes (#15 items 10 and 11): blobs missing, false sizes,
// wrong digests and diff_ids that do not match its layers are found before the first blob is
// sent (no orphan blobs left in the registry); a .tar.gz is read as a stream, never unpacked
// into the temp directory; a temp folder left by a killed import is removed by the next one;
// devices and FIFOs are refused. Names: tag-only archives take a `repository`, Docker Hub
// official images can drop `library/`, a layout naming an image both ways uses the full name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, startRegistryWithFixture, type Registry } from '../support/registry.js';
import { inspectRaw, sha256, type Fixture } from '../support/fixtures.js';
import { pidAlive, workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli, startCli } from '../support/cli.js';
import { craftOciArchive, type CraftLayer } from '../support/craft.js';
import { ArchiveReader } from '../../src/lib/image/archive-reader.js';
import { ArchiveWriter } from '../../src/lib/image/archive-writer.js';
import { Copier } from '../../src/lib/image/copy.js';
import { importArchive } from '../../src/lib/offline/import.js';
import { openSource, RegistryPool } from '../../src/lib/image/open.js';
import { parseImageRef } from '../../src/lib/image/transport.js';
import { configureLog } from '../../src/lib/log.js';

configureLog({ mode: 'cli', write: () => undefined });

/** Every file under the registry's blob store: what a push left behind, manifests or not. */
function storedBlobs(reg: Registry): string[] {
  const dir = join(reg.dataDir, 'docker/registry/v2/blobs');
  if (!existsSync(dir)) return [];
  return execFileSync('find', [dir, '-type', 'f']).toString().split('\n').filter(Boolean);
}

/** Bytes under a directory (du), sampled. */
function bytesUnder(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);
}

describe('import checks an archive whole before it pushes', { skip: needs('docker-registry', 'skopeo', 'umoci') }, () => {
  let dst: Registry;
  before(async () => {
    dst = await startRegistry();
  });
  after(() => dst.stop());

  test('a missing blob, a false size, a wrong digest and diff_ids that do not match: each refused by name, no blob pushed; a sound archive imports and skopeo reads it', async () => {
    const dir = workDir('craft');
    const layers: CraftLayer[] = [{ files: { 'etc/release': 'one\n' } }, { files: { 'usr/bin/app': 'two\n' } }];
    const target = `${dst.host}/site`;
    const sound = join(dir, 'sound.tar');
    const ok = await craftOciArchive(sound, { layers, refName: 'example.com/app:1.0' });

    const missing = join(dir, 'missing.tar');
    await craftOciArchive(missing, { layers, refName: 'example.com/app:1.0', omitLayer: 1 });
    await assert.rejects(importArchive({ file: missing, target, pool: new RegistryPool() }), /example\.com\/app:1\.0: layer sha256:[0-9a-f]{64} is not in the archive/);
    const size = join(dir, 'size.tar');
    await craftOciArchive(size, { layers, refName: 'example.com/app:1.0', lieAboutSize: 0 });
    await assert.rejects(importArchive({ file: size, target, pool: new RegistryPool() }), /layer sha256:[0-9a-f]{64} holds \d+ bytes, its manifest says \d+/);
    const diff = join(dir, 'diff.tar');
    await craftOciArchive(diff, { layers, refName: 'example.com/app:1.0', diffIds: (real) => [real[0], real[0]] });
    await assert.rejects(
      importArchive({ file: diff, target, pool: new RegistryPool() }),
      new RegExp(`layer 2 \\(sha256:[0-9a-f]{64}\\) unpacks to ${ok.diffIds[1]}, but the config says its diff_id is ${ok.diffIds[0]}`),
    );
    // one byte of a layer changed (no checksum file): its digest no longer matches
    const flipped = join(dir, 'flipped.tar');
    await craftOciArchive(flipped, { layers, refName: 'example.com/app:1.0' });
    const reader = await ArchiveReader.open(flipped);
    const entries = (reader as unknown as { tar: { entries: Map<string, { name: string; offset: number; size: number }> } }).tar.entries;
    const layerEntry = [...entries.values()].find((e) => e.name.startsWith('blobs/') && e.size > 40 && e.size < 200)!;
    await reader.close();
    const fd = openSync(flipped, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, layerEntry.offset + 20);
    b[0] ^= 0x55;
    writeSync(fd, b, 0, 1, layerEntry.offset + 20);
    closeSync(fd);
    await assert.rejects(
      importArchive({ file: flipped, target, pool: new RegistryPool() }),
      /layer sha256:[0-9a-f]{64} does not match its digest \(its bytes hash to sha256:[0-9a-f]{64}\)/,
    );
    for (const f of [missing, size, diff, flipped]) await assert.rejects(importArchive({ file: f, target, pool: new RegistryPool() }), /nothing was pushed/);
    assert.deepEqual(storedBlobs(dst), [], 'not one blob reached the registry from a damaged archive');

    const res = await importArchive({ file: sound, target, pool: new RegistryPool() });
    assert.equal(res[0].result.targets[0].status, 'copied');
    assert.equal(sha256(inspectRaw(`${target}/app:1.0`)), ok.manifest);
    // the peer pulls and unpacks what was pushed (umoci checks each layer against its diff_id)
    const layout = join(dir, 'pulled');
    execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${target}/app:1.0`, `oci:${layout}:app`]);
    execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${layout}:app`, join(dir, 'rootfs')], { stdio: 'pipe' });
    assert.ok(existsSync(join(dir, 'rootfs', 'usr/bin/app')));
  });

  test('a .tar.gz is read as a stream: a 96 MiB layer in a small file is imported with nothing unpacked to the temp directory', { skip: needs('gzip') }, async () => {
    const dir = workDir('bomb');
    const file = join(dir, 'bomb.tar.gz');
    // a plain-tar layer of zeros: the archive is a few hundred KB and expands to 96 MiB
    const crafted = await craftOciArchive(file, { layers: [{ zeros: 96 * 1024 * 1024, gzip: false }], refName: 'example.com/bomb:1.0', gzipArchive: true });
    assert.ok(statSync(file).size < 2 * 1024 * 1024, `the archive is small (${statSync(file).size} bytes)`);
    const temp = join(dir, 'runner-temp');
    mkdirSync(temp);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, bytesUnder(temp))), 25);
    const before = process.env.RUNNER_TEMP;
    process.env.RUNNER_TEMP = temp;
    try {
      const res = await importArchive({ file, target: `${dst.host}/site`, pool: new RegistryPool() });
      assert.equal(res[0].result.targets[0].status, 'copied');
    } finally {
      clearInterval(watch);
      if (before === undefined) delete process.env.RUNNER_TEMP;
      else process.env.RUNNER_TEMP = before;
    }
    most = Math.max(most, bytesUnder(temp));
    // the layer was compressed on the way (as docker push would): a few hundred KB of temp at most
    assert.ok(most < 16 * 1024 * 1024, `at most ${most} bytes in the temp directory`);
    assert.deepEqual(readdirSync(temp), [], 'nothing left behind');
    const m = JSON.parse(inspectRaw(`${dst.host}/site/bomb:1.0`)) as { config: { digest: string }; layers: { mediaType: string }[] };
    assert.equal(m.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${dst.host}/site/bomb:1.0`]).toString()) as {
      rootfs: { diff_ids: string[] };
    };
    assert.deepEqual(config.rootfs.diff_ids, crafted.diffIds, "the config is the archive's");
  });

  test('a temp folder left by an import killed with SIGKILL is removed by the next import', async () => {
    const dir = workDir('killed');
    // a docker-save-like archive (uncompressed layer): the import compresses it in a temp folder
    const file = join(dir, 'big.tar');
    await craftOciArchive(file, { layers: [{ zeros: 192 * 1024 * 1024, gzip: false }], refName: 'example.com/big:1.0' });
    const temp = join(dir, 'runner-temp');
    mkdirSync(temp);
    const { child, done } = startCli(['pack-offline', '--mode', 'import', '--archive', file, '--target', `${dst.host}/killed`], { RUNNER_TEMP: temp });
    const deadline = Date.now() + 60_000;
    while (!readdirSync(temp).some((n) => n.startsWith('airlift-import-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const left = readdirSync(temp).filter((n) => n.startsWith('airlift-import-'));
    assert.equal(left.length, 1, 'the import made its temp folder');
    child.kill('SIGKILL');
    await done;
    assert.ok(!pidAlive(child.pid!));
    assert.deepEqual(readdirSync(temp), left, 'a killed import leaves its folder');
    const again = await runCli(['pack-offline', '--mode', 'import', '--archive', file, '--target', `${dst.host}/killed`], { RUNNER_TEMP: temp });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /removed 1 temporary folder\(s\) left by an earlier run that was stopped/);
    assert.deepEqual(readdirSync(temp), [], 'the next import removed it, and its own');
  });

  test('device and FIFO entries are refused, naming the entry, in an archive and in a layout directory', { skip: needs('tar', 'mkfifo') }, async () => {
    const dir = workDir('fifo');
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    execFileSync('tar', ['-C', dir, '-cf', join(dir, 'fifo.tar'), 'pipe']);
    await assert.rejects(ArchiveReader.open(join(dir, 'fifo.tar')), /entry "pipe" is a FIFO; an image archive or bundle holds only files, directories and links/);
    const layout = join(dir, 'layout');
    await craftOciArchive(join(dir, 'l.tar'), { layers: [{ files: { a: 'a' } }], refName: 'example.com/l:1' });
    mkdirSync(layout);
    execFileSync('tar', ['-C', layout, '-xf', join(dir, 'l.tar')]);
    execFileSync('mkfifo', [join(layout, 'blobs', 'sha256', 'pipe')]);
    await assert.rejects(ArchiveReader.openDir(layout), /blobs\/sha256\/pipe is a FIFO/);
  });
});

describe('import names', { skip: needs('docker-registry', 'skopeo') }, () => {
  let fx: Fixture;
  let src: Registry;
  let dst: Registry;
  before(async () => {
    ({ fx, reg: src } = await startRegistryWithFixture({ images: ['app', 'db'] }));
    dst = await startRegistry();
  });
  after(async () => {
    await src.stop();
    await dst.stop();
  });

  test('an archive recording only a tag imports under the repository given; without one it is refused saying so', async () => {
    const tagOnly = join(workDir('names'), 'skopeo.tar');
    execFileSync('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', `docker://${src.host}/release/db:1.0.0`, `oci-archive:${tagOnly}:1.0.0`]);
    const refused = await runCli(['pack-offline', '--mode', 'import', '--archive', tagOnly, '--target', `${dst.host}/site`]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /input "repository": .*records only the tag "1\.0\.0", no repository, so it cannot be placed under .*: give the repository to push it as \(e\.g\. myapp\)/,
    );
    const bad = await runCli(['pack-offline', '--mode', 'import', '--archive', tagOnly, '--target', `${dst.host}/site`, '--repository', 'Team/DB']);
    assert.match(bad.stderr, /repository "Team\/DB": give a repository path under the target .*\(repository names are lower-case\)/);
    const r = await runCli(['pack-offline', '--mode', 'import', '--archive', tagOnly, '--target', `${dst.host}/site`, '--repository', 'team/db']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.imported, `${dst.host}/site/team/db:1.0.0`);
    assert.equal(sha256(inspectRaw(`${dst.host}/site/team/db:1.0.0`)), fx.images[1].index.digest);
  });

  test('a layout naming one image by tag and by full name uses the full name', async () => {
    const layout = join(workDir('names'), 'both');
    execFileSync('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', `docker://${src.host}/release/app:1.0.0`, `oci:${layout}:1.0.0`]);
    execFileSync('skopeo', ['copy', '-q', '--all', '--src-tls-verify=false', `docker://${src.host}/release/app:1.0.0`, `oci:${layout}:example.com/release/app:1.0.0`]);
    const res = await importArchive({ file: layout, target: `${dst.host}/both`, pool: new RegistryPool() });
    assert.deepEqual(
      res.map((x) => x.target),
      [`${dst.host}/both/release/app:1.0.0`],
    );
    assert.equal(sha256(inspectRaw(`${dst.host}/both/release/app:1.0.0`)), fx.images[0].index.digest);
  });

  test('a Docker Hub short name (busybox:1.0) lands under library/, or without it when strip-library is set', async () => {
    const file = join(workDir('names'), 'busybox.tar');
    const w = new ArchiveWriter(file, 'docker-archive');
    await new Copier().copy(openSource(parseImageRef(`${src.host}/release/db:1.0.0`), new RegistryPool()), [w.target('busybox:1.0')], {
      platforms: [{ os: 'linux', architecture: 'amd64' }],
    });
    await w.finish();
    const plain = await runCli(['pack-offline', '--mode', 'import', '--archive', file, '--target', `${dst.host}/hub`]);
    assert.equal(plain.outputs.imported, `${dst.host}/hub/library/busybox:1.0`, plain.stderr);
    const stripped = await runCli(['pack-offline', '--mode', 'import', '--archive', file, '--target', `${dst.host}/hub`, '--strip-library']);
    assert.equal(stripped.outputs.imported, `${dst.host}/hub/busybox:1.0`, stripped.stderr);
    // the same image in both places
    assert.equal(sha256(inspectRaw(`${dst.host}/hub/busybox:1.0`)), sha256(inspectRaw(`${dst.host}/hub/library/busybox:1.0`)));
  });
});
