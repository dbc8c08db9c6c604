// sync-images as a user runs it (the CLI, a child process), against real registries;
// skopeo checks the results.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalog, startRegistry, type Registry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { buildOciFixture, inspectRaw, pushFixture, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli, startCli } from '../support/cli.js';

const skip = needs('docker-registry', 'skopeo');

describe('sync-images', { skip }, () => {
  let fx: Fixture;
  let src: Registry;
  before(async () => {
    fx = await buildOciFixture(workDir('fx'), { images: ['app', 'db', 'web', 'api'], baseLayerBytes: 512 * 1024, appLayerBytes: 256 * 1024 });
    src = await startRegistry();
    pushFixture(fx, { host: src.host }, { namespace: 'release' });
  });
  after(() => src.stop());

  test('a list with a missing image: the rest sync with identical digests; the miss is listed; a re-run only HEADs', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(src.url);
    const out = workDir('out');
    const list = join(out, 'oem-images-lists');
    writeFileSync(list, '# release 1.0.0\nrelease/app:1.0.0\nrelease/db:1.0.0\nrelease/missing:9.9\nrelease/web:1.0.0\n');
    try {
      const args = ['sync-images', '--images', list, '--source-registry', proxy.host, '--target', `${dst.host}/mirror`, '--output-dir', out];
      const first = await runCli(args);
      assert.equal(first.code, 1, first.stderr);
      assert.deepEqual([first.outputs.synced, first.outputs.skipped, first.outputs.failed], ['3', '0', '1']);
      assert.equal(readFileSync(first.outputs['missing-source'], 'utf8'), `${proxy.host}/release/missing:9.9\n`);
      assert.equal(readFileSync(first.outputs['failed-push'], 'utf8'), '');
      assert.match(first.stderr, /error: 1 of 4 images failed \(1 with an unavailable source\)/);
      const report = JSON.parse(readFileSync(first.outputs.report, 'utf8'));
      const app = report.entries.find((e: { source: string }) => e.source.endsWith('release/app:1.0.0'));
      assert.deepEqual(app.platforms, ['linux/amd64', 'linux/arm64']);
      assert.equal(app.digest, fx.images[0].index.digest);
      assert.ok(app.bytes > 0);
      for (const [i, name] of ['app', 'db', 'web'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/mirror/release/${name}:1.0.0`)), fx.images[i].index.digest);
      assert.match(first.stderr, /sync-images: 3 synced, 0 up to date, 1 failed/);

      // the missing-source file feeds straight back as images; the synced ones are only HEADed
      await proxy.resetStats();
      writeFileSync(list, 'release/app:1.0.0\nrelease/db:1.0.0\nrelease/web:1.0.0\n');
      const second = await runCli(args);
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual([second.outputs.synced, second.outputs.skipped, second.outputs.failed], ['0', '3', '0']);
      const log = (await proxy.stats()).log;
      assert.equal(log.filter((l) => l.method === 'GET' && l.path.includes('/blobs/')).length, 0, 'zero blob GETs');
      assert.equal(log.filter((l) => l.method === 'GET' && l.path.includes('/manifests/')).length, 0, 'zero manifest GETs');
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('a list already in place costs one round of HEADs, not one per image, even one image at a time', async () => {
    const dst = await startRegistry();
    const out = workDir('warm');
    const list = join(out, 'images.txt');
    writeFileSync(list, fx.images.map((i) => `release/${i.name}:${i.tag}`).join('\n') + '\n');
    const args = (host: string) => ['sync-images', '--images', list, '--source-registry', src.host, '--target', `${host}/mirror`, '--output-dir', out, '--concurrency', '1'];
    const first = await runCli(args(dst.host));
    assert.equal(first.code, 0, first.stderr);
    // every manifest HEAD at the target answers a second late: one image after another, the 4 would take 4 s
    const proxy = await startFaultProxy(dst.url, { rules: [{ match: { method: 'HEAD', path: '/manifests/' }, action: 'latency', ms: 1000 }] });
    try {
      const t0 = Date.now();
      const warm = await runCli(args(proxy.host));
      const seconds = (Date.now() - t0) / 1000;
      assert.equal(warm.code, 0, warm.stderr);
      assert.deepEqual([warm.outputs.synced, warm.outputs.skipped], ['0', String(fx.images.length)]);
      assert.equal((await proxy.stats()).log.filter((l) => l.method === 'HEAD').length, fx.images.length);
      assert.ok(seconds < 3, `took ${seconds} s`);
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('a source without the requested platforms is reported as such, not as a missing source to retry; one with some of them says which it lacks', async () => {
    const dst = await startRegistry();
    try {
      const r = await runCli([
        'sync-images',
        '--images',
        'release/app:1.0.0\nrelease/missing:9.9\n',
        '--source-registry',
        src.host,
        '--target',
        dst.host,
        '--platforms',
        'linux/s390x',
        '--output-dir',
        workDir('o'),
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.outputs.failed, '2');
      assert.equal(readFileSync(r.outputs['missing-source'], 'utf8'), `${src.host}/release/missing:9.9\n`, 'only the image that is not there');
      assert.equal(readFileSync(r.outputs['failed-push'], 'utf8'), '');
      const report = JSON.parse(readFileSync(r.outputs.report, 'utf8'));
      assert.deepEqual(
        report.entries.map((e: { result: string }) => e.result),
        ['no-platform', 'missing-source'],
      );
      assert.deepEqual(report.noPlatform, [`${src.host}/release/app:1.0.0`]);
      assert.match(r.stderr, /warning: .*release\/app:1\.0\.0: no requested platform: .*none of its platforms \(linux\/amd64, linux\/arm64\) matches linux\/s390x/);
      assert.match(r.stderr, /error: 2 of 2 images failed \(1 with an unavailable source, 1 without a requested platform\)/);
      assert.deepEqual(await catalog(dst), []);

      // some of the requested platforms there: those are copied, the rest named in a warning
      const some = await runCli([
        'sync-images',
        '--images',
        'release/app:1.0.0',
        '--source-registry',
        src.host,
        '--target',
        dst.host,
        '--platforms',
        'linux/s390x,linux/arm64',
        '--output-dir',
        workDir('o'),
      ]);
      assert.equal(some.code, 0, some.stderr);
      assert.match(some.stderr, /warning: .*release\/app:1\.0\.0: has no linux\/s390x \(kept: linux\/arm64\)/);
      const entry = JSON.parse(readFileSync(some.outputs.report, 'utf8')).entries[0];
      assert.deepEqual([entry.result, entry.platforms, entry.missingPlatforms], ['synced', ['linux/arm64'], ['linux/s390x']]);
    } finally {
      await dst.stop();
    }
  });

  test('pinned references: repo:tag@digest is tagged at the target; a digest-only pin with a platform filter is refused up front; YAML retry lines keep their targets', async () => {
    const dst = await startRegistry();
    try {
      const db = fx.images[1].index.digest;
      const pinned = await runCli(['sync-images', '--images', `${src.host}/release/db:1.0.0@${db}`, '--target', `${dst.host}/dig`, '--output-dir', workDir('o')]);
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.equal(sha256(inspectRaw(`${dst.host}/dig/release/db:1.0.0`)), db, 'the tag exists at the target');

      const filtered = await runCli([
        'sync-images',
        '--images',
        `${src.host}/release/app@${fx.images[0].index.digest}`,
        '--target',
        `${dst.host}/digf`,
        '--platforms',
        'linux/amd64',
        '--output-dir',
        workDir('o'),
      ]);
      assert.equal(filtered.code, 1);
      assert.match(filtered.stderr, /images line 1: .*release\/app@sha256:[0-9a-f]{64} is pinned by digest and has no tag, but "platforms" writes a new index/);
      assert.deepEqual(await catalog(dst), ['dig/release/db']);

      // a YAML list with explicit targets: the retry file says where each image was going
      const out = workDir('o');
      const yaml = `${src.host}/release/missing:9.9: [${dst.host}/elsewhere/missing:9.9]\n${src.host}/release/app:1.0.0: ${dst.host}/elsewhere/app\n`;
      const r = await runCli(['sync-images', '--images', yaml, '--output-dir', out]);
      assert.equal(r.code, 1);
      assert.equal(readFileSync(r.outputs['missing-source'], 'utf8'), `${src.host}/release/missing:9.9: [${dst.host}/elsewhere/missing:9.9]\n`);
      assert.equal(sha256(inspectRaw(`${dst.host}/elsewhere/app:1.0.0`)), fx.images[0].index.digest, 'an explicit target without a tag keeps the source tag');
      const again = await runCli(['sync-images', '--images', r.outputs['missing-source'], '--output-dir', workDir('o')]);
      assert.match(again.stderr, new RegExp(`${src.host.replace(/\./g, '\\.')}/release/missing:9\\.9: source unavailable`));
    } finally {
      await dst.stop();
    }
  });

  test('an unknown platform is refused before anything is copied', async () => {
    const r = await runCli([
      'sync-images',
      '--images',
      'release/app:1.0.0',
      '--source-registry',
      src.host,
      '--target',
      '127.0.0.1:1/x',
      '--platforms',
      'linux/amd65',
      '--output-dir',
      workDir('o'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /input "platforms": unknown platform "linux\/amd65": architecture "amd65" is not one of/);
  });

  test('wrong target credentials: a clear 401 naming the registry; the password appears nowhere', { skip: needs('htpasswd') }, async () => {
    const dst = await startRegistry({ auth: 'htpasswd' });
    try {
      const r = await runCli([
        'sync-images',
        '--images',
        `${src.host}/release/app:1.0.0`,
        '--target',
        dst.host,
        '--registry-auth',
        `${dst.host}: { username: airlift, password: Wr0ng-Pa55word }`,
        '--output-dir',
        workDir('o'),
      ]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`registry ${dst.host.replace(/\./g, '\\.')}: authentication failed for release/app:1.0.0 \\(401\\); check registry-auth for ${dst.host.replace(/\./g, '\\.')}`),
      );
      assert.ok(!(r.stdout + r.stderr).includes('Wr0ng-Pa55word'));
      assert.equal(readFileSync(r.outputs['failed-push'], 'utf8'), `${src.host}/release/app:1.0.0\n`);
    } finally {
      await dst.stop();
    }
  });

  test('credentials from env vars (registry-auth), token-auth source, basic-auth targets, platform filter', { skip: needs('htpasswd', 'openssl') }, async () => {
    const tsrc = await startRegistry({ auth: 'token' });
    const dst = await startRegistry({ auth: 'htpasswd' });
    try {
      pushFixture({ ...fx, images: fx.images.slice(3) }, { host: tsrc.host, username: 'airlift', password: tsrc.users.airlift }, { namespace: 'release' });
      const auth = `${tsrc.host}: { username-env: SRC_USER, password-env: SRC_PASS }\n${dst.host}: { username: airlift, password-env: DST_PASS }\nunused.example: { username: u, password: p }\n`;
      const r = await runCli(
        [
          'sync-images',
          '--images',
          `${tsrc.host}/release/api:1.0.0`,
          '--target',
          `${dst.host}/arm`,
          '--platforms',
          'linux/arm64',
          '--registry-auth',
          auth,
          '--output-dir',
          workDir('o'),
          '--json',
        ],
        { SRC_USER: 'airlift', SRC_PASS: tsrc.users.airlift, DST_PASS: dst.users.airlift },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).synced, '1');
      assert.match(r.stderr, /warning: registry-auth names unused.example, which no image of this run uses/);
      const idx = JSON.parse(inspectRaw(`${dst.host}/arm/release/api:1.0.0`, { username: 'airlift', password: dst.users.airlift }));
      assert.deepEqual(
        idx.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture),
        ['arm64'],
      );
      assert.ok(!(r.stdout + r.stderr).includes(tsrc.users.airlift));
    } finally {
      await tsrc.stop();
      await dst.stop();
    }
  });

  test('kill -9 in the middle of a run, then a re-run completes with the right digests', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(src.url, { rules: [{ match: { path: '/blobs/', method: 'GET' }, action: 'slow', bytesPerSecond: 256 * 1024 }] });
    try {
      const args = [
        'sync-images',
        '--images',
        ['app', 'db', 'web', 'api'].map((n) => `${proxy.host}/release/${n}:1.0.0`).join('\n'),
        '--target',
        dst.host,
        '--output-dir',
        workDir('o'),
      ];
      const run = startCli(args);
      // wait until blobs are flowing, then kill it hard
      for (let i = 0; i < 400; i++) {
        const s = await proxy.stats();
        if (s.log.filter((l) => l.path.includes('/blobs/')).length >= 3) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      run.child.kill('SIGKILL');
      const killed = await run.done;
      assert.equal(killed.signal, 'SIGKILL');
      await proxy.setRules([]);
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(Number(again.outputs.synced) + Number(again.outputs.skipped), 4);
      for (const [i, name] of ['app', 'db', 'web', 'api'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/release/${name}:1.0.0`)), fx.images[i].index.digest);
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('dry run copies nothing; shards split the work', async () => {
    const dst = await startRegistry();
    try {
      const images = ['app', 'db', 'web', 'api'].map((n) => `${src.host}/release/${n}:1.0.0`).join('\n');
      const dry = await runCli(['sync-images', '--images', images, '--target', dst.host, '--dry-run', '--output-dir', workDir('o')]);
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(await catalog(dst), []);
      const s1 = await runCli(['sync-images', '--images', images, '--target', dst.host, '--shard', '1/2', '--output-dir', workDir('o')]);
      const s2 = await runCli(['sync-images', '--images', images, '--target', dst.host, '--shard', '2/2', '--output-dir', workDir('o')]);
      assert.equal(s1.code, 0);
      assert.equal(s2.code, 0);
      assert.equal(Number(s1.outputs.synced) + Number(s2.outputs.synced), 4);
      assert.equal((await catalog(dst)).length, 4);
      const bad = await runCli(['sync-images', '--images', images, '--target', dst.host, '--shard', '3/2']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /input "shard": "3\/2" is out of range/);
    } finally {
      await dst.stop();
    }
  });
});
