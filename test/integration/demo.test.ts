// `npm run demo`, the README's first command: the built CLI (dist/cli.js) in a network namespace
// of its own with no interfaces up (no network at all), on the sample product, checked with
// skopeo, sha256sum, tar and umoci, and the site's release image unpacked and run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { sha256 } from '../support/fixtures.js';

const root = join(import.meta.dirname, '..', '..');

test(
  'npm run demo, with no network: the sample product built, synced, packed, uploaded, verified and imported at the site',
  { skip: needs('root', 'unshare', 'skopeo', 'umoci') },
  () => {
    const dir = workDir('demo');
    const t0 = Date.now();
    const r = spawnSync('unshare', ['--net', process.execPath, join(root, 'dist', 'cli.js'), 'demo', '--output-dir', dir, '--version', '2.1.0'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const took = Date.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(took < 30_000, `the demo took ${took} ms; it must take under 30 s`);
    for (const step of ['build', 'sync', 'pack', 'upload', 'import'])
      assert.match(r.stderr, new RegExp(`^${step}\\s+\\d+(ms|\\.\\d+s|s)\\s`, 'm'), `${step} is timed in the table`);
    assert.match(r.stderr, /again: up to date\s+skipped/);
    assert.match(r.stderr, /again: unchanged\s+skipped, skipped, skipped/);

    // synced: the delivery layout holds the release image byte for byte, both platforms
    const ref = (layout: string, name: string) => `oci:${join(dir, layout)}:${name}`;
    const built = execFileSync('skopeo', ['inspect', '--raw', ref('registry', 'registry.example.com/product/hello:2.1.0')]);
    const synced = execFileSync('skopeo', ['inspect', '--raw', ref('delivery', 'delivery.example.com/product/hello:2.1.0')]);
    assert.equal(sha256(synced), sha256(built));
    assert.deepEqual(
      (JSON.parse(synced.toString()) as { manifests: { platform: { architecture: string } }[] }).manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    execFileSync('skopeo', ['copy', '--all', '--quiet', ref('delivery', 'delivery.example.com/product/db:1.0.0'), `oci:${workDir('demo-check')}:x`]);

    // uploaded: sha256sum -c in the destination; the bundle unpacks and verifies with its SHA256SUMS
    const bucket = join(dir, 'bucket', 'releases', '2.1.0');
    assert.match(execFileSync('sha256sum', ['-c', 'product-2.1.0.tar.sha256'], { cwd: bucket, encoding: 'utf8' }), /product-2\.1\.0\.tar: OK/);
    const x = workDir('demo-x');
    execFileSync('tar', ['-xf', join(bucket, 'product-2.1.0.tar'), '-C', x]);
    const b = join(x, 'product-2.1.0');
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: b, stdio: 'pipe' });
    for (const f of ['images/images.tar', 'charts/product-1.0.0.tgz', 'compose/product-docker-compose.tar.gz', 'files/installer/config.sample', 'files/meta.yml', 'manifest.json'])
      statSync(join(b, f));
    assert.ok(statSync(join(b, 'files', 'installer', 'install.sh')).mode & 0o100, 'install.sh stays executable');
    const m = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8')) as { images: { name: string }[] };
    // the release image of the version dispatched, and the images the chart and compose deploy
    assert.deepEqual(m.images.map((i) => i.name).sort(), [
      'delivery.example.com/product/db:1.0.0',
      'delivery.example.com/product/hello:2.1.0',
      'delivery.example.com/product/web:1.0.0',
    ]);
    const saved = JSON.parse(
      execFileSync('skopeo', ['inspect', '--config', `docker-archive:${join(b, 'images', 'images.tar')}:delivery.example.com/product/hello:2.1.0`], { encoding: 'utf8' }),
    ) as { architecture: string };
    assert.equal(saved.architecture, 'amd64');

    // at the site: the release image, unpacked by umoci, is the product's program
    const rootfs = join(workDir('demo-rootfs'), 'rootfs');
    execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${join(dir, 'site')}:registry.site.internal:5000/product/hello:2.1.0`, rootfs], { stdio: 'pipe' });
    assert.deepEqual(readFileSync(join(rootfs, 'hello')), readFileSync(join(root, 'examples', 'product', 'bin', 'linux-amd64', 'hello')));
    if (arch() === 'x64') assert.equal(execFileSync(join(rootfs, 'hello'), { encoding: 'utf8' }), 'hello from the Airlift sample product\n');
  },
);

test("the sample product's programs are what examples/product/bin/assemble.mjs writes", () => {
  const r = spawnSync(process.execPath, [join(root, 'examples', 'product', 'bin', 'assemble.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test(
  'npm run demo -- --real: the same chain through the actions against dockerd and three docker-registry servers, the site image docker-pulled by digest and run',
  { skip: needs('root', 'dockerd', 'docker', 'docker-registry') },
  async () => {
    const { startDockerd } = await import('../support/dockerd.js');
    const d = await startDockerd();
    try {
      const dir = workDir('demo-real');
      const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'demo', '--real', '--output-dir', dir, '--version', '3.0.0'], {
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, ...d.env },
      });
      assert.equal(r.status, 0, r.stderr);
      for (const step of ['build-release-image', 'sync-images', 'pack-offline', 'upload-oss', 'sha256sum -c', 'pack-offline import', 'docker pull \\+ run'])
        assert.match(r.stderr, new RegExp(`^${step}\\s+\\d`, 'm'));
      assert.match(r.stderr, /docker pull \+ run\s+\S+\s+127\.0\.0\.1:\d+\/product\/hello@sha256:[0-9a-f]{64}: "hello from the Airlift sample product"/);
      assert.match(execFileSync('sha256sum', ['-c', 'product-3.0.0.tar.sha256'], { cwd: join(dir, 'bucket', 'releases', '3.0.0'), encoding: 'utf8' }), /OK/);
      // the registries were stopped: nothing listens any more
      const port = /127\.0\.0\.1:(\d+)\/product\/hello@/.exec(r.stderr)![1];
      await assert.rejects(fetch(`http://127.0.0.1:${port}/v2/`));
    } finally {
      await d.stop();
    }
  },
);
