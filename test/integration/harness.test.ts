// The test harness itself: every real server starts, serves and stops without leaving a
// process behind. Independent clients (skopeo, docker, the AWS SDK, fetch) check each one.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startRegistry } from '../support/registry.js';
import { startDockerd } from '../support/dockerd.js';
import { startS3rver } from '../support/s3rver.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { buildOciFixture, inspectRaw, pushFixture, sha256 } from '../support/fixtures.js';
import { pidAlive, tcpOpen, workDir } from '../support/proc.js';
import { processesMentioning } from '../support/leaks.js';
import { needs } from '../support/tools.js';
import { createS3Client } from '../../src/lib/aws/s3.js';
import { retry } from '../../src/lib/retry.js';
import { HttpError } from '../../src/lib/errors.js';

async function assertStopped(pid: number, port?: number, mention?: string) {
  assert.equal(pidAlive(pid), false, `pid ${pid} still running`);
  if (port !== undefined) assert.equal(await tcpOpen(port), false, `port ${port} still open`);
  if (mention) assert.deepEqual(processesMentioning(mention), [], `processes still mention ${mention}`);
}

const portOf = (host: string) => Number(host.split(':')[1]);

describe('docker-registry', () => {
  let fixture: Awaited<ReturnType<typeof buildOciFixture>>;
  const fixtureReady = (async () => {
    fixture = await buildOciFixture(workDir('fixture'), { images: ['app', 'release/db'] });
  })();

  test('no auth: skopeo pushes a multi-arch fixture, digests kept; stop leaves nothing', { skip: needs('docker-registry', 'skopeo') }, async () => {
    await fixtureReady;
    const reg = await startRegistry();
    try {
      assert.equal((await fetch(`${reg.url}/v2/`)).status, 200);
      const refs = pushFixture(fixture, { host: reg.host });
      for (const [i, ref] of refs.entries()) {
        const raw = inspectRaw(ref);
        assert.equal(sha256(raw), fixture.images[i].index.digest);
        assert.equal(JSON.parse(raw).manifests.length, 2);
      }
    } finally {
      await reg.stop();
    }
    await assertStopped(reg.process.pid, portOf(reg.host), reg.dataDir);
  });

  test('htpasswd basic auth: right password pushes, wrong or none is refused', { skip: needs('docker-registry', 'skopeo', 'htpasswd') }, async () => {
    await fixtureReady;
    const reg = await startRegistry({ auth: 'htpasswd' });
    try {
      const anon = await fetch(`${reg.url}/v2/`);
      assert.equal(anon.status, 401);
      assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm="airlift-test"/);
      const good = Buffer.from(`airlift:${reg.users.airlift}`).toString('base64');
      assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: `Basic ${good}` } })).status, 200);
      const bad = Buffer.from('airlift:wrong').toString('base64');
      assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: `Basic ${bad}` } })).status, 401);
      const [ref] = pushFixture({ ...fixture, images: fixture.images.slice(0, 1) }, { host: reg.host, username: 'airlift', password: reg.users.airlift });
      assert.equal(sha256(inspectRaw(ref, { username: 'airlift', password: reg.users.airlift })), fixture.images[0].index.digest);
      assert.throws(
        () => pushFixture({ ...fixture, images: fixture.images.slice(0, 1) }, { host: reg.host, username: 'airlift', password: 'wrong' }),
        /unauthorized|authentication required/i,
      );
    } finally {
      await reg.stop();
    }
    await assertStopped(reg.process.pid, portOf(reg.host), reg.dataDir);
  });

  test('token auth: the real registry verifies tokens from our issuer', { skip: needs('docker-registry', 'skopeo', 'openssl') }, async () => {
    await fixtureReady;
    const reg = await startRegistry({ auth: 'token' });
    try {
      const anon = await fetch(`${reg.url}/v2/`);
      assert.equal(anon.status, 401);
      assert.match(anon.headers.get('www-authenticate') ?? '', new RegExp(`^Bearer realm="${reg.tokenUrl}",service="airlift-test-registry"`));
      const [ref] = pushFixture({ ...fixture, images: fixture.images.slice(1) }, { host: reg.host, username: 'airlift', password: reg.users.airlift });
      assert.equal(sha256(inspectRaw(ref, { username: 'airlift', password: reg.users.airlift })), fixture.images[1].index.digest);
      // a wrong password gets no token; an anonymous token has no push or pull rights here
      assert.throws(() => inspectRaw(ref, { username: 'airlift', password: 'nope' }), /unauthorized|authentication required|401/i);
      assert.throws(() => inspectRaw(ref), /unauthorized|authentication required|denied/i);
      const stats = (await (await fetch(reg.tokenUrl!.replace('/token', '/stats'))).json()) as { issued: number; denied: number; scopes: string[] };
      assert.ok(stats.issued > 0 && stats.denied > 0);
      assert.ok(
        stats.scopes.some((s) => s === 'repository:release/db:pull,push' || s === 'repository:release/db:push,pull'),
        stats.scopes.join(' '),
      );
    } finally {
      await reg.stop();
    }
    await assertStopped(reg.process.pid, portOf(reg.host), reg.dataDir);
    await assertStopped(reg.tokenServer!.pid);
  });
});

describe('dockerd', () => {
  test('builds a FROM scratch busybox image, runs it, and stops with its containerd', { skip: needs('root', 'dockerd', 'docker', 'busybox') }, async () => {
    const d = await startDockerd();
    const ctx = workDir('build-ctx');
    try {
      copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(ctx, 'busybox'));
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "echo", "hello from airlift"]\n');
      d.docker(['build', '-q', '-t', 'airlift-test/hello:1', ctx]);
      assert.equal(d.docker(['run', '--rm', '--network', 'none', 'airlift-test/hello:1']).trim(), 'hello from airlift');
    } finally {
      await d.stop();
    }
    await assertStopped(d.process.pid, undefined, d.dataRoot.replace(/\/data$/, ''));
    assert.equal(existsSync(d.host.slice('unix://'.length)), false, 'socket removed');
  });
});

describe('s3rver', () => {
  test('a streamed upload stores exactly the source bytes (checksums WHEN_REQUIRED)', async () => {
    const s3 = await startS3rver({ buckets: ['harness'] });
    try {
      const client = await createS3Client({ endpoint: s3.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
      const { PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
      const data = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
      await client.send(
        new PutObjectCommand({ Bucket: 'harness', Key: 'dir/blob.bin', Body: Readable.from([data.subarray(0, 1 << 20), data.subarray(1 << 20)]), ContentLength: data.length }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'harness', Key: 'dir/blob.bin' }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      assert.equal(body.length, data.length);
      assert.equal(sha256(body), sha256(data));
      // and on s3rver's disk, not only through its API
      const stored = readFileSync(join(s3.dataDir, 'harness', 'dir', 'blob.bin._S3rver_object'));
      assert.equal(sha256(stored), sha256(data));
      client.destroy();
    } finally {
      await s3.stop();
    }
    await assertStopped(s3.process.pid, s3.port, s3.dataDir);
  });
});

describe('fault proxy', () => {
  let upstream: Server;
  let upstreamUrl = '';
  const body = Buffer.alloc(256 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
  const ready = new Promise<void>((resolve) => {
    upstream = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'x-host-seen': req.headers.host ?? '' });
      res.end(body);
    }).listen(0, '127.0.0.1', () => {
      const a = upstream.address();
      upstreamUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
      resolve();
    });
  });
  after(() => upstream.close());

  test('forwards untouched, keeps the Host header, and injects each fault kind', async () => {
    await ready;
    const p = await startFaultProxy(upstreamUrl);
    try {
      const clean = await fetch(`${p.url}/blob`);
      assert.equal(clean.headers.get('x-host-seen'), p.host);
      assert.equal(sha256(Buffer.from(await clean.arrayBuffer())), sha256(body));

      await p.setRules([{ match: { path: '^/r429' }, action: 'status', status: 429, retryAfter: 3 }]);
      const r429 = await fetch(`${p.url}/r429`);
      assert.equal(r429.status, 429);
      assert.equal(r429.headers.get('retry-after'), '3');

      await p.setRules([{ match: { path: '^/reset' }, action: 'reset' }]);
      await assert.rejects(fetch(`${p.url}/reset`), /fetch failed/);

      await p.setRules([{ match: { path: '^/trunc' }, action: 'truncate', afterBytes: 1000 }]);
      await assert.rejects(
        async () => Buffer.from(await (await fetch(`${p.url}/trunc`)).arrayBuffer()),
        (e: Error) => /terminated|premature|other side closed/i.test(`${e.message} ${(e.cause as Error | undefined)?.message}`),
      );

      await p.setRules([{ match: { path: '^/flip' }, action: 'flip', offset: 70_000 }]);
      const flipped = Buffer.from(await (await fetch(`${p.url}/flip`)).arrayBuffer());
      assert.equal(flipped.length, body.length);
      const diff = [...flipped.keys()].filter((i) => flipped[i] !== body[i]);
      assert.deepEqual(diff, [70_000]);

      await p.setRules([
        { action: 'latency', ms: 20 },
        { match: { path: '^/slow' }, action: 'slow', bytesPerSecond: 4 * 1024 * 1024 },
      ]);
      const slow = Buffer.from(await (await fetch(`${p.url}/slow`)).arrayBuffer());
      assert.equal(sha256(slow), sha256(body));

      const stats = await p.stats();
      assert.deepEqual(stats.faults, { status: 1, reset: 1, truncate: 1, flip: 1, latency: 1, slow: 1 });
    } finally {
      await p.stop();
    }
    await assertStopped(p.process.pid, portOf(p.host));
  });

  test('seeded dice: the same seed faults the same requests; our retry layer gets through', async () => {
    await ready;
    const rules = [{ probability: 0.3, action: 'status' as const, status: 503 }];
    const pattern = async (seed: number) => {
      const p = await startFaultProxy(upstreamUrl, { seed, rules });
      try {
        const seq: number[] = [];
        for (let i = 0; i < 30; i++) seq.push(await fetch(`${p.url}/x${i}`).then(async (r) => (await r.arrayBuffer(), r.status)));
        const s = await p.stats();
        assert.equal(s.faults.status, seq.filter((x) => x === 503).length);
        // the retry layer turns the injected 503s into successes
        const got = await retry(
          async () => {
            const r = await fetch(`${p.url}/retry`);
            if (!r.ok) throw new HttpError(r.status, `status ${r.status}`, Object.fromEntries(r.headers));
            return Buffer.from(await r.arrayBuffer());
          },
          { attempts: 20, baseDelayMs: 1, maxDelayMs: 5 },
        );
        assert.equal(sha256(got), sha256(body));
        return seq.join(',');
      } finally {
        await p.stop();
      }
    };
    const a = await pattern(42);
    const b = await pattern(42);
    const c = await pattern(7);
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.ok(a.includes('503') && a.includes('200'));
  });
});

describe('fixtures', () => {
  test('the OCI layout is valid for skopeo, layers list with tar, the base layer is shared', { skip: needs('skopeo', 'tar') }, async () => {
    const dir = workDir('fx');
    const fx = await buildOciFixture(dir, { images: ['a', 'b', 'c'], platforms: ['linux/amd64', 'linux/arm64'], appLayers: 2 });
    // per platform: 1 shared base + 3 images × 2 app layers, 3 configs, 3 manifests; plus 3 indexes
    assert.equal(fx.blobs.size, 2 * (1 + 3 * 2 + 3 + 3) + 3);
    const again = await buildOciFixture(workDir('fx2'), { images: ['a', 'b', 'c'] });
    assert.deepEqual(
      again.images.map((i) => i.index.digest),
      fx.images.map((i) => i.index.digest),
      'deterministic',
    );
    for (const img of fx.images) {
      const raw = execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:${img.ref}`], { encoding: 'utf8' });
      assert.equal(sha256(raw), img.index.digest);
      const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', '--override-arch', 'arm64', `oci:${dir}:${img.ref}`], { encoding: 'utf8' }));
      assert.equal(cfg.architecture, 'arm64');
      assert.equal(cfg.rootfs.diff_ids.length, 3);
    }
    const layer = fx.images[0].manifests[0].layers[1];
    const listing = execFileSync('tar', ['-tzf', join(dir, 'blobs', 'sha256', layer.digest.slice(7))], { encoding: 'utf8' });
    assert.equal(listing, 'data/\ndata/app-1-a-1-0-0-linux-amd64-0.bin\n');
  });
});
