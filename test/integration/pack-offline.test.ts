// pack-offline as a user runs it (the CLI), checked with sha256sum, tar and skopeo.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { catalog, startRegistry, type Registry } from '../support/registry.js';
import { buildOciFixture, inspectRaw, pushFixture, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli } from '../support/cli.js';
import { startContainerd } from '../support/containerd.js';
import { dockerSaveArchive } from '../support/docker-save.js';
import { startFaultProxy } from '../support/fault-proxy.js';

describe('pack-offline', { skip: needs('docker-registry', 'skopeo', 'sha256sum') }, () => {
  let fx: Fixture;
  let src: Registry;
  let images: string;
  before(async () => {
    fx = await buildOciFixture(workDir('fx'), { images: ['app', 'db'], baseLayerBytes: 1536 * 1024 });
    src = await startRegistry();
    pushFixture(fx, { host: src.host }, { namespace: 'release' });
    images = `${src.host}/release/app:1.0.0\n${src.host}/release/db:1.0.0\n`;
  });
  after(() => src.stop());

  test('docker-archive for one platform: outputs, sha256sum -c, manifest with digests', async () => {
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--images', images, '--platform', 'linux/arm64', '--output-dir', out, '--version', '2.0.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.bundle, join(out, 'images-arm64-2.0.0.tar'));
    assert.equal(r.outputs.sha256, sha256(readFileSync(r.outputs.bundle)).slice(7));
    assert.equal(Number(r.outputs.size), readFileSync(r.outputs.bundle).length);
    execFileSync('sha256sum', ['-c', `${basename(r.outputs.bundle)}.sha256`], { cwd: out, stdio: 'pipe' });
    // output may name a folder under output-dir; a .tgz name is already a gzip name
    const sub = await runCli(['pack-offline', '--images', images, '--platform', 'linux/arm64', '--output-dir', out, '--output', 'sub/images.tgz', '--compression', 'gzip']);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(sub.outputs.bundle, join(out, 'sub', 'images.tgz'));
    execFileSync('sha256sum', ['-c', 'images.tgz.sha256'], { cwd: join(out, 'sub'), stdio: 'pipe' });
    const m = JSON.parse(readFileSync(r.outputs.manifest, 'utf8'));
    assert.deepEqual(
      m.images.map((i: { name: string; digest: string; platforms: string[] }) => [i.name, i.digest, i.platforms]),
      [
        [`${src.host}/release/app:1.0.0`, fx.images[0].manifests[1].digest, ['linux/arm64']],
        [`${src.host}/release/db:1.0.0`, fx.images[1].manifests[1].digest, ['linux/arm64']],
      ],
    );
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${r.outputs.bundle}:${src.host}/release/app:1.0.0`], { encoding: 'utf8' }));
    assert.equal(cfg.architecture, 'arm64');
  });

  test('oci-archive, gzip, split into parts: join, verify, import into an empty registry with identical digests', async () => {
    const out = workDir('out');
    const r = await runCli([
      'pack-offline',
      '--images',
      images,
      '--format',
      'oci-archive',
      '--compression',
      'gzip',
      '--split-size',
      '1MiB',
      '--output',
      'bundle.tar',
      '--output-dir',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.bundle, join(out, 'bundle.tar.gz.part-000'));
    const parts = readdirSync(out)
      .filter((f) => f.startsWith('bundle.tar.gz.part-'))
      .sort();
    assert.ok(parts.length >= 2, parts.join(' '));
    assert.equal(existsSync(join(out, 'bundle.tar.gz')), false, 'the whole file is replaced by its parts');
    execFileSync('sha256sum', ['-c', '--ignore-missing', 'bundle.tar.gz.sha256'], { cwd: out, stdio: 'pipe' });
    execFileSync('sh', ['-c', 'cat bundle.tar.gz.part-* > bundle.tar.gz && sha256sum -c bundle.tar.gz.sha256'], { cwd: out, stdio: 'pipe' });
    assert.match(r.stderr, /Join the parts with: cat bundle.tar.gz.part-\* > bundle.tar.gz/);

    // at the site, the joined file travels without its parts; a part on its own is not an archive
    const site = workDir('site');
    for (const f of ['bundle.tar.gz', 'bundle.tar.gz.sha256']) renameSync(join(out, f), join(site, f));
    const dst = await startRegistry();
    try {
      const part = await runCli(['pack-offline', '--mode', 'import', '--archive', join(out, 'bundle.tar.gz.part-000'), '--target', `${dst.host}/site`]);
      assert.equal(part.code, 1);
      assert.match(
        part.stderr,
        /bundle\.tar\.gz\.part-000 is one part of a split archive: join the parts first \(cat bundle\.tar\.gz\.part-\* > bundle\.tar\.gz\), then import bundle\.tar\.gz/,
      );
      const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', join(site, 'bundle.tar.gz'), '--target', `${dst.host}/site`]);
      assert.equal(imp.code, 0, imp.stderr);
      assert.match(imp.stderr, /verified 1 checksum\(s\) from .*bundle\.tar\.gz\.sha256/);
      assert.deepEqual(imp.outputs.imported.split('\n'), [`${dst.host}/site/release/app:1.0.0`, `${dst.host}/site/release/db:1.0.0`]);
      for (const [i, n] of ['app', 'db'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/site/release/${n}:1.0.0`)), fx.images[i].index.digest);
    } finally {
      await dst.stop();
    }
  });

  test('blobs cut off or corrupted in transit are fetched again and written once, in every format: tar, skopeo and podman agree', { skip: needs('podman', 'tar') }, async () => {
    const proxy = await startFaultProxy(src.url);
    try {
      // one image (so podman can load an OCI archive without a name), its base layer and its own layer faulted
      const image = `${proxy.host}/release/db:1.0.0`;
      const [base, own] = fx.images[1].manifests[0].layers.map((l) => l.digest);
      const runs: [string, string[]][] = [
        ['docker-archive', ['--platform', 'linux/amd64']],
        ['oci-archive', []],
        ['oci-archive', ['--compression', 'gzip']],
      ];
      for (const [format, extra] of runs) {
        await proxy.setRules([
          { match: { method: 'GET', path: `/blobs/${base}`, times: 1 }, action: 'truncate', afterBytes: 200 * 1024 },
          { match: { method: 'GET', path: `/blobs/${own}`, times: 1 }, action: 'flip', offset: 100 },
        ]);
        await proxy.resetStats();
        const out = workDir('retried');
        const r = await runCli(['pack-offline', '--images', image, '--format', format, ...extra, '--output-dir', out]);
        const what = `${format} ${extra.join(' ')}`;
        assert.equal(r.code, 0, `${what}: ${r.stderr}`);
        assert.deepEqual([(await proxy.stats()).faults.truncate, (await proxy.stats()).faults.flip], [1, 1], `${what}: both faults injected`);
        // GNU tar: no name twice (a first, damaged copy followed by the good one)
        const names = execFileSync('tar', ['-tf', r.outputs.bundle], { encoding: 'utf8' }).trim().split('\n');
        assert.deepEqual(
          names.filter((n, i) => names.indexOf(n) !== i),
          [],
          `${what}: entries written twice`,
        );
        assert.deepEqual(
          readdirSync(out).filter((f) => /partial|spool/.test(f)),
          [],
          `${what}: nothing left beside the archive`,
        );
        execFileSync('sha256sum', ['-c', `${basename(r.outputs.bundle)}.sha256`], { cwd: out, stdio: 'pipe' });
        // skopeo copies the image out, verifying every blob
        execFileSync('skopeo', ['copy', '--quiet', `${format}:${r.outputs.bundle}`, `oci:${workDir('out')}:x`], { stdio: 'pipe' });
        // podman loads it and checks every layer against the image's config
        const store = workDir('podman');
        const podman = (...a: string[]) =>
          execFileSync('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...a], { encoding: 'utf8', stdio: 'pipe' });
        podman('load', '-i', r.outputs.bundle);
        assert.match(podman('images', '--format', '{{.Repository}}:{{.Tag}}'), /release\/db:1\.0\.0/, what);
      }
    } finally {
      await proxy.stop();
    }
  });

  test(
    'images sharing a tag stay apart by name: skopeo, podman and ctr each get the right one from an oci-archive (and skopeo, podman from an oci layout)',
    { skip: needs('podman', 'containerd', 'ctr', 'root') },
    async () => {
      // podman names an image pulled from an oci: layout after its path, which must be lower-case
      const out = join(tmpdir(), `airlift-names-${process.pid}`);
      mkdirSync(out, { recursive: true });
      const store = workDir('podman-names');
      const podman = (...a: string[]) =>
        execFileSync('podman', ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--storage-driver', 'vfs', ...a], { encoding: 'utf8', stdio: 'pipe' });
      for (const format of ['oci-archive', 'oci']) {
        const r = await runCli(['pack-offline', '--images', images, '--format', format, '--output', `x-${format}`, '--output-dir', out]);
        assert.equal(r.code, 0, r.stderr);
        const transport = format === 'oci' ? 'oci' : 'oci-archive';
        for (const [i, n] of ['app', 'db'].entries()) {
          const name = `${src.host}/release/${n}:1.0.0`;
          assert.equal(sha256(execFileSync('skopeo', ['inspect', '--raw', `${transport}:${r.outputs.bundle}:${name}`])), fx.images[i].index.digest, `${format} ${n}: skopeo`);
          // podman takes the image of its own platform (amd64): its config is that image's
          const id = podman('pull', '-q', `${transport}:${r.outputs.bundle}:${name}`).trim();
          assert.equal(`sha256:${id}`, fx.images[i].manifests[0].config.digest, `${format} ${n}: podman`);
        }
        // containerd (ctr) imports each image under its own name, the right digest each
        if (format === 'oci-archive') {
          const ct = await startContainerd();
          try {
            ct.ctr(['images', 'import', '--all-platforms', '--no-unpack', r.outputs.bundle]);
            const listed = ct.ctr(['images', 'ls']);
            for (const [i, n] of ['app', 'db'].entries())
              assert.match(listed, new RegExp(`^${src.host.replace(/[.]/g, '\\.')}/release/${n}:1\\.0\\.0\\s+\\S+\\s+${fx.images[i].index.digest}`, 'm'), `${format} ${n}: ctr`);
          } finally {
            await ct.stop();
          }
        }
      }
      rmSync(out, { recursive: true, force: true });
    },
  );

  test(
    "import what `ctr images export` writes by default (the whole index, one platform's blobs): that platform, with a notice; an absent platform asked for is an error",
    { skip: needs('containerd', 'ctr', 'root') },
    async () => {
      const out = workDir('ctr-export');
      const packed = await runCli(['pack-offline', '--images', `${src.host}/release/app:1.0.0`, '--format', 'oci-archive', '--output', 'all.tar', '--output-dir', out]);
      assert.equal(packed.code, 0, packed.stderr);
      const ct = await startContainerd();
      const name = `${src.host}/release/app:1.0.0`;
      try {
        ct.ctr(['images', 'import', '--all-platforms', '--no-unpack', packed.outputs.bundle]);
        ct.ctr(['images', 'export', join(out, 'exported.tar'), name]);
      } finally {
        await ct.stop();
      }
      const dst = await startRegistry();
      try {
        const asked = await runCli(['pack-offline', '--mode', 'import', '--archive', join(out, 'exported.tar'), '--target', `${dst.host}/site`, '--platforms', 'linux/arm64']);
        assert.equal(asked.code, 1);
        assert.match(asked.stderr, /release\/app:1\.0\.0: linux\/arm64 is not in the archive \(it holds linux\/amd64\); nothing was imported/);
        assert.deepEqual(await catalog(dst), []);
        const r = await runCli(['pack-offline', '--mode', 'import', '--archive', join(out, 'exported.tar'), '--target', `${dst.host}/site`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /importing linux\/amd64; linux\/arm64 skipped, its blobs are not in the archive/);
        const index = JSON.parse(inspectRaw(`${dst.host}/site/release/app:1.0.0`)) as { manifests: { digest: string; platform: { architecture: string } }[] };
        assert.deepEqual(
          index.manifests.map((m) => m.platform.architecture),
          ['amd64'],
        );
        assert.equal(index.manifests[0].digest, fx.images[0].manifests[0].digest, 'the amd64 image as it was');
      } finally {
        await dst.stop();
      }
    },
  );

  test('import of a docker save archive compresses its uncompressed layers once, the same digests every time; compress-layers false pushes them as they are', async () => {
    const out = workDir('docker-save');
    const archive = join(out, 'saved.tar');
    const text = Buffer.from(Array.from({ length: 6000 }, (_, i) => `line ${i}: a compressible rootfs file\n`).join(''));
    dockerSaveArchive(archive, 'amd64', { 'etc/motd': text, 'bin/true': Buffer.from('#!/bin/sh\n') }, 'example.com/release/saved:1.0');
    const dst = await startRegistry();
    try {
      const layersOf = (ref: string) => (JSON.parse(inspectRaw(ref)) as { layers: { mediaType: string; size: number }[] }).layers;
      const imported: string[] = [];
      for (const ns of ['a', 'b']) {
        const r = await runCli(['pack-offline', '--mode', 'import', '--archive', archive, '--target', `${dst.host}/${ns}`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /compressing the layers docker save left uncompressed/);
        imported.push(sha256(inspectRaw(`${dst.host}/${ns}/release/saved:1.0`)));
      }
      assert.equal(imported[0], imported[1], 'the same archive, the same digest');
      const [gz] = layersOf(`${dst.host}/a/release/saved:1.0`);
      assert.equal(gz.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      assert.ok(gz.size < text.length / 4, `compressed (${gz.size} bytes for ${text.length})`);
      // skopeo reads every blob of it back
      execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${dst.host}/a/release/saved:1.0`, `oci:${workDir('saved-copy')}:x`]);

      const raw = await runCli(['pack-offline', '--mode', 'import', '--archive', archive, '--target', `${dst.host}/raw`, '--compress-layers', 'false']);
      assert.equal(raw.code, 0, raw.stderr);
      const [plain] = layersOf(`${dst.host}/raw/release/saved:1.0`);
      assert.match(plain.mediaType, /tar$/);
      assert.ok(plain.size > text.length);
    } finally {
      await dst.stop();
    }
  });

  test('reproducible: the same images give the same bytes whatever order their blobs arrive in', async () => {
    // three timings: the app image's blobs held back, the db image's, neither
    const proxy = await startFaultProxy(src.url);
    try {
      const list = `${proxy.host}/release/app:1.0.0\n${proxy.host}/release/db:1.0.0\n`;
      for (const format of ['oci-archive', 'docker-archive']) {
        const sums: string[] = [];
        for (const slow of ['/release/app/blobs/', '/release/db/blobs/', '']) {
          await proxy.setRules(slow ? [{ match: { method: 'GET', path: slow }, action: 'latency', ms: 150 }] : []);
          const out = workDir('repro');
          const r = await runCli(['pack-offline', '--images', list, '--format', format, '--platform', 'linux/amd64', '--output', 'x.tar', '--output-dir', out]);
          assert.equal(r.code, 0, r.stderr);
          sums.push(r.outputs.sha256);
        }
        assert.deepEqual(sums, [sums[0], sums[0], sums[0]], `${format}: the same archive every time`);
      }
      // an oci layout: the same index.json, checksums and manifest whichever image finishes first
      const layouts: string[] = [];
      for (const slow of ['/release/app/', '/release/db/', '']) {
        await proxy.setRules(slow ? [{ match: { method: 'GET', path: slow }, action: 'latency', ms: 150 }] : []);
        const r = await runCli(['pack-offline', '--images', list, '--format', 'oci', '--output', 'layout', '--output-dir', workDir('repro-oci')]);
        assert.equal(r.code, 0, r.stderr);
        layouts.push([join(r.outputs.bundle, 'index.json'), `${r.outputs.bundle}.sha256`, `${r.outputs.bundle}.manifest.json`].map((f) => readFileSync(f, 'utf8')).join('\n'));
      }
      assert.deepEqual(layouts, [layouts[0], layouts[0], layouts[0]], 'oci: the same layout every time');
    } finally {
      await proxy.stop();
    }
  });

  test(
    'oci directory: a clean OCI layout (ctr imports it tarred), its checksums beside it verify with sha256sum -c, skopeo reads every platform',
    { skip: needs('root', 'containerd', 'ctr') },
    async () => {
      const out = workDir('out');
      const r = await runCli([
        'pack-offline',
        '--images',
        `${src.host}/release/app:1.0.0\n${src.host}/release/db:1.0.0`,
        '--format',
        'oci',
        '--output',
        'layout',
        '--output-dir',
        out,
      ]);
      assert.equal(r.code, 0, r.stderr);
      // nothing but the layout inside; Airlift's checksums and manifest beside it
      assert.deepEqual(readdirSync(r.outputs.bundle).sort(), ['blobs', 'index.json', 'oci-layout']);
      assert.equal(r.outputs.manifest, `${r.outputs.bundle}.manifest.json`);
      execFileSync('sha256sum', ['-c', 'layout.sha256'], { cwd: out, stdio: 'pipe' });
      assert.equal(sha256(execFileSync('skopeo', ['inspect', '--raw', `oci:${r.outputs.bundle}:${src.host}/release/db:1.0.0`])), fx.images[1].index.digest);
      // tarred as it is, containerd imports every image under its name
      const ct = await startContainerd();
      try {
        execFileSync('tar', ['-cf', join(out, 'layout.tar'), '-C', r.outputs.bundle, '.']);
        ct.ctr(['images', 'import', '--all-platforms', '--no-unpack', join(out, 'layout.tar')]);
        const listed = ct.ctr(['images', 'ls']);
        for (const [i, n] of ['app', 'db'].entries())
          assert.match(
            listed,
            new RegExp(`^${src.host.replace(/[.]/g, '\\.')}/release/${n}:1\\.0\\.0\\s+\\S+\\s+${fx.images[i].index.digest}`, 'm'),
            `ctr lists ${n} with its index digest`,
          );
      } finally {
        await ct.stop();
      }

      // the directory imports as it is: its checksums verified first, digests kept; a changed file is refused
      const dst = await startRegistry();
      try {
        const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', r.outputs.bundle, '--target', `${dst.host}/site`]);
        assert.equal(imp.code, 0, imp.stderr);
        assert.match(imp.stderr, /verified \d+ checksum\(s\) from \S+layout\.sha256/);
        assert.equal(sha256(inspectRaw(`${dst.host}/site/release/db:1.0.0`)), fx.images[1].index.digest);
        writeFileSync(join(r.outputs.bundle, 'index.json'), readFileSync(join(r.outputs.bundle, 'index.json'), 'utf8').replace('1.0.0', '6.6.6'));
        const bad = await runCli(['pack-offline', '--mode', 'import', '--archive', r.outputs.bundle, '--target', `${dst.host}/other`]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /checksum mismatch: layout\/index\.json has sha256 [0-9a-f]{64}, layout\.sha256 says/);
      } finally {
        await dst.stop();
      }
    },
  );

  test('a tampered archive is refused at import, naming the file; nothing is pushed', async () => {
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--images', images, '--format', 'oci-archive', '--output-dir', out]);
    assert.equal(r.code, 0, r.stderr);
    execFileSync('sh', ['-c', `printf 'X' | dd of=${r.outputs.bundle} bs=1 seek=3000 conv=notrunc status=none`]);
    const dst = await startRegistry();
    try {
      const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', r.outputs.bundle, '--target', dst.host]);
      assert.equal(imp.code, 1);
      assert.match(imp.stderr, /checksum mismatch: images.tar has sha256 [a-f0-9]{64}, images.tar.sha256 says [a-f0-9]{64}; the file was changed or damaged, nothing was imported/);
      assert.deepEqual(await catalog(dst), []);
    } finally {
      await dst.stop();
    }
  });

  test('clear errors: missing inputs per mode, bad platform, artifacts outside Actions, a missing spec', async () => {
    const out = workDir('out');
    const cases: [string[], RegExp][] = [
      [['--mode', 'import', '--target', 'r.example'], /input "archive" is required in import mode/],
      [['--mode', 'import', '--archive', '/nope.tar', '--target', 'r.example'], /archive \/nope.tar was not found/],
      [['--images', images, '--platform', 'amd64'], /input "platform": "amd64" is not a platform/],
      [['--images', images, '--platform', 'linux/amd65'], /input "platform": unknown platform "linux\/amd65": architecture "amd65" is not one of/],
      [['--mode', 'import', '--archive', '/nope.tar', '--target', 'r.example', '--platforms', 'linux/amd65'], /input "platforms": unknown platform "linux\/amd65"/],
      [['--images', images, '--output-dir', out, '--upload-artifact'], /input "upload-artifact": artifacts can only be uploaded inside a GitHub Actions job/],
      [['--spec', 'no-such-bundle.yaml'], /input "spec": no-such-bundle.yaml was not found/],
      [[], /input "images" \(or "spec"\) is required in pack mode/],
      [['--images', images, '--output-dir', join(out, 'a-file')], /input "output-dir": .*a-file cannot be made a directory: a file is in the way at .*a-file \(ENOTDIR\)/],
      [['--images', images, '--format', 'oci', '--split-size', '1MiB', '--output-dir', out], /input "split-size": applies to archive formats, not to an oci directory/],
      [['--images', images, '--output', '../x.tar', '--output-dir', out], /input "output": "\.\.\/x\.tar" must be a file name \(or a relative path\) inside output-dir/],
      [
        ['--mode', 'import', '--archive', join(out, 'a-file'), '--target', 'http://r.example/ns'],
        /input "target": "http:\/\/r\.example\/ns" is a URL; write the registry and namespace without a scheme/,
      ],
    ];
    writeFileSync(join(out, 'a-file'), '');
    for (const [args, re] of cases) {
      const r = await runCli(['pack-offline', ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});

describe('pack-offline on a full disk', { skip: needs('docker-registry', 'skopeo') }, () => {
  test('ENOSPC while writing: a clear error, and no partial archive left behind', async () => {
    const fx = await buildOciFixture(workDir('fx'), { images: ['app'] });
    const src = await startRegistry();
    try {
      pushFixture(fx, { host: src.host });
      const out = workDir('full');
      // the archive is written to <name>.partial first: make that /dev/full, a device whose
      // every write fails with ENOSPC, as a full disk does
      (await import('node:fs')).symlinkSync('/dev/full', join(out, 'images.tar.partial'));
      const r = await runCli(['pack-offline', '--images', `${src.host}/app:1.0.0`, '--format', 'oci-archive', '--output-dir', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /images\.tar: the disk is full \(.*ENOSPC.*\); the partial archive was removed/);
      assert.deepEqual(readdirSync(out), []);
    } finally {
      await src.stop();
    }
  });
});
