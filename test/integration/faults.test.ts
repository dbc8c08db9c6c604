// A fault run: sync, pack, import and upload through proxies that reset, fail, cut off, corrupt
// and lose about one request in ten, seeded. Each run must end verified (checked by skopeo,
// GNU tar, sha256sum and the store's bytes) or fail with a clear error: never a green step with
// damaged output.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { startRegistry, type Registry } from '../support/registry.js';
import { buildOciFixture, inspectRaw, pushFixture, seededBytes, sha256, type Fixture } from '../support/fixtures.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../support/fault-proxy.js';
import { startS3rver } from '../support/s3rver.js';
import { startOssServer } from '../support/oss.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli, type CliRun } from '../support/cli.js';

/** About one request in ten meets a fault (each rule fires for 2.5 %, the first to fire decides). */
const READ_FAULTS: FaultRule[] = [
  { probability: 0.025, action: 'reset' },
  { probability: 0.025, action: 'status', status: 503 },
  { match: { method: 'GET' }, probability: 0.025, action: 'truncate', afterBytes: 700 },
  { match: { method: 'GET' }, probability: 0.025, action: 'flip', offset: 150 },
];
const WRITE_FAULTS: FaultRule[] = [
  { probability: 0.025, action: 'reset' },
  { probability: 0.025, action: 'status', status: 500 },
  { match: { method: 'PUT' }, probability: 0.025, action: 'flip-request', offset: 40 },
  { probability: 0.025, action: 'drop-response' },
];

/** A failed run must say what failed, in words (no bare socket error, no stack). */
function clearFailure(r: CliRun, what: string): void {
  assert.equal(r.code, 1, `${what}: ${r.stderr}`);
  const error = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('error:'))
    .join('\n');
  assert.ok(error, `${what}: an error line (${r.stderr.slice(-500)})`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
}

describe('fault run: ~10 % of requests faulted, every result verified or a clear failure', { skip: needs('docker-registry', 'skopeo', 'tar', 'sha256sum') }, () => {
  let fx: Fixture;
  let src: Registry;
  let dst: Registry;
  let srcProxy: FaultProxy;
  let dstProxy: FaultProxy;
  const names = ['app', 'db', 'web'];
  before(async () => {
    fx = await buildOciFixture(workDir('fx'), { images: names, baseLayerBytes: 300 * 1024, appLayerBytes: 120 * 1024 });
    src = await startRegistry();
    dst = await startRegistry();
    pushFixture(fx, { host: src.host }, { namespace: 'release' });
    srcProxy = await startFaultProxy(src.url, { seed: 15 });
    dstProxy = await startFaultProxy(dst.url, { seed: 16 });
  });
  after(async () => {
    await srcProxy.stop();
    await dstProxy.stop();
    await src.stop();
    await dst.stop();
  });

  /** The target holds every image with the source's digest, and skopeo reads every blob of it. */
  const verifyImages = (repo: string) => {
    for (const [i, n] of names.entries()) {
      assert.equal(sha256(inspectRaw(`${dst.host}/${repo}/release/${n}:1.0.0`)), fx.images[i].index.digest, `${repo}/${n}`);
      execFileSync('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${dst.host}/${repo}/release/${n}:1.0.0`, `oci:${workDir('verify')}:x`], {
        stdio: 'pipe',
      });
    }
  };

  test('sync, pack, import: three seeds each', { timeout: 240_000 }, async (t) => {
    const list = names.map((n) => `release/${n}:1.0.0`).join('\n');
    let faults = 0;
    const outcomes: string[] = [];
    for (const seed of [1, 2, 3]) {
      await srcProxy.setRules(READ_FAULTS.map((r) => ({ ...r })));
      await dstProxy.setRules(WRITE_FAULTS.map((r) => ({ ...r })));
      const out = workDir(`fault-${seed}`);

      const sync = await runCli(['sync-images', '--images', list, '--source-registry', srcProxy.host, '--target', `${dstProxy.host}/sync${seed}`, '--output-dir', out]);
      if (sync.code === 0) verifyImages(`sync${seed}`);
      else clearFailure(sync, `sync seed ${seed}`);

      const pack = await runCli([
        'pack-offline',
        '--images',
        names.map((n) => `${srcProxy.host}/release/${n}:1.0.0`).join('\n'),
        '--format',
        'oci-archive',
        '--output',
        'images.tar',
        '--output-dir',
        out,
      ]);
      if (pack.code === 0) {
        execFileSync('sha256sum', ['-c', `${basename(pack.outputs.bundle)}.sha256`], { cwd: dirname(pack.outputs.bundle), stdio: 'pipe' });
        const entries = execFileSync('tar', ['-tf', pack.outputs.bundle], { encoding: 'utf8' }).trim().split('\n');
        assert.deepEqual(
          entries.filter((e, i) => entries.indexOf(e) !== i),
          [],
          `pack seed ${seed}: no entry twice`,
        );
        const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', pack.outputs.bundle, '--target', `${dstProxy.host}/site${seed}`]);
        if (imp.code === 0) verifyImages(`site${seed}`);
        else clearFailure(imp, `import seed ${seed}`);
        // the same archive gzip-compressed: imported as a stream (re-read for every retried blob)
        execFileSync('gzip', ['-k', '-1', '-f', pack.outputs.bundle]);
        const gz = await runCli(['pack-offline', '--mode', 'import', '--archive', `${pack.outputs.bundle}.gz`, '--target', `${dstProxy.host}/gz${seed}`]);
        if (gz.code === 0) verifyImages(`gz${seed}`);
        else clearFailure(gz, `import .tar.gz seed ${seed}`);
        outcomes.push(`seed ${seed}: sync ${sync.code}, pack 0, import ${imp.code}, import .tar.gz ${gz.code}`);
      } else {
        clearFailure(pack, `pack seed ${seed}`);
        outcomes.push(`seed ${seed}: sync ${sync.code}, pack 1`);
      }
      for (const p of [srcProxy, dstProxy]) faults += Object.entries((await p.stats()).faults).reduce((n, [, c]) => n + c, 0);
      await srcProxy.resetStats();
      await dstProxy.resetStats();
    }
    t.diagnostic(`${faults} faults; ${outcomes.join('; ')} (exit codes)`);
    assert.ok(faults >= 10, `faults were injected (${faults}; ${outcomes.join('; ')})`);
  });

  test('upload to S3 and OSS (several files at once, multipart): verified or a clear failure, never a wrong object, no stack trace', { timeout: 180_000 }, async () => {
    const s3 = await startS3rver({ buckets: ['release'] });
    const oss = await startOssServer({ buckets: ['infra-release'] });
    const stores = [
      {
        name: 'S3',
        dest: 's3://release',
        creds: [s3.accessKeyId, s3.secretAccessKey],
        proxy: await startFaultProxy(s3.endpoint, { seed: 17 }),
        stored: (key: string) => join(s3.dataDir, 'release', `${key}._S3rver_object`),
      },
      {
        name: 'OSS',
        dest: 'oss://infra-release',
        creds: [oss.accessKeyId, oss.accessKeySecret],
        proxy: await startFaultProxy(oss.endpoint, { seed: 18 }),
        stored: (key: string) => join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent(key)),
      },
    ];
    try {
      const dir = workDir('fault-upload');
      const files = ['bundle.tar', 'installer.tar', 'charts.tgz'];
      files.forEach((f, i) => writeFileSync(join(dir, f), seededBytes(600_000 + i * 250_000, 91 + i)));
      let faults = 0;
      for (const store of stores)
        for (const seed of [1, 2, 3]) {
          await store.proxy.setRules(WRITE_FAULTS.map((r) => ({ ...r })));
          const r = await runCli([
            'upload-oss',
            '--source',
            dir,
            '--destination',
            `${store.dest}/fault${seed}`,
            '--part-size',
            '100KiB',
            '--concurrency',
            '3',
            '--endpoint',
            store.proxy.url,
            '--access-key-id',
            store.creds[0],
            '--access-key-secret',
            store.creds[1],
            '--state-dir',
            workDir('fault-state'),
          ]);
          if (r.code === 0) {
            for (const f of files)
              assert.ok(
                readFileSync(store.stored(`fault${seed}/${f}`)).equals(readFileSync(join(dir, f))),
                `${store.name} upload seed ${seed}: the stored bytes of ${f} are the file's`,
              );
            assert.doesNotMatch(r.stderr, /^\s+at /m, `${store.name} upload seed ${seed}: no stack trace in a green run`);
          } else clearFailure(r, `${store.name} upload seed ${seed}`);
          faults += Object.values((await store.proxy.stats()).faults).reduce((n, c) => n + c, 0);
          await store.proxy.resetStats();
        }
      assert.ok(faults >= 6, `faults were injected (${faults})`);
    } finally {
      for (const store of stores) await store.proxy.stop();
      await s3.stop();
      await oss.stop();
    }
  });
});
