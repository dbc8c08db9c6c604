// Protocol corners of the registry client, against docker-registry and, where a behaviour
// needs a registry that does something docker-registry does not (redirecting blobs to
// another host), a small loopback server that speaks just that part of the protocol.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { startRegistry, type Registry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { buildOciFixture, inspectRaw, pushFixture, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { RegistryClient } from '../../src/lib/registry/client.js';
import { digestOf } from '../../src/lib/registry/digest.js';
import { Copier } from '../../src/lib/image/copy.js';
import { openSource, openTarget, RegistryPool } from '../../src/lib/image/open.js';
import { parseImageRef } from '../../src/lib/image/transport.js';
import { configureLog } from '../../src/lib/log.js';
import { Readable } from 'node:stream';
import { execFileSync } from 'node:child_process';

configureLog({ mode: 'cli', write: () => undefined });

describe('registry client', { skip: needs('docker-registry', 'skopeo') }, () => {
  let fx: Fixture;
  let src: Registry;
  before(async () => {
    fx = await buildOciFixture(workDir('fx'), { images: ['app'], baseLayerBytes: 300 * 1024 });
    src = await startRegistry();
    pushFixture(fx, { host: src.host });
  });
  after(() => src.stop());

  test('a registry refusing one monolithic PUT gets the blob in PATCH chunks, and later blobs too', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(dst.url, { rules: [{ match: { method: 'PUT', path: '/blobs/uploads/.*digest=', times: 1 }, action: 'status', status: 413 }] });
    try {
      const pool = new RegistryPool({ chunkSize: 64 * 1024 });
      // one blob at a time, so "after the refusal" is well defined
      const r = await new Copier({ blobConcurrency: 1 }).copy(openSource(parseImageRef(`${src.host}/app:1.0.0`), pool), [
        openTarget(parseImageRef(`${proxy.host}/chunked/app:1.0.0`), pool),
      ]);
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
      assert.equal(sha256(inspectRaw(`${dst.host}/chunked/app:1.0.0`)), fx.images[0].index.digest);
      const log = (await proxy.stats()).log;
      assert.equal(log.filter((l) => l.status === 413).length, 1);
      assert.ok(log.filter((l) => l.method === 'PATCH').length >= 5, 'the 300 kB base layer went in 64 kB chunks');
      const uuid = (path: string) => /\/blobs\/uploads\/([^?]+)/.exec(path)?.[1];
      const committed = log.filter((l) => l.method === 'PUT' && l.status === 201 && l.path.includes('/blobs/uploads/'));
      assert.ok(committed.length >= 3);
      for (const c of committed)
        assert.ok(
          log.some((l) => l.method === 'PATCH' && uuid(l.path) === uuid(c.path)),
          `upload ${uuid(c.path)} went in chunks`,
        );
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('a blob or manifest corrupted on the way in (DIGEST_INVALID, MANIFEST_INVALID) is sent again; the copy lands with the right digests', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(dst.url, {
      rules: [
        { match: { method: 'PUT', path: '/blobs/uploads/.*digest=', times: 1 }, action: 'flip-request', offset: 50 },
        { match: { method: 'PUT', path: '/manifests/sha256:', times: 1 }, action: 'flip-request', offset: 3 },
        { match: { method: 'PUT', path: '/manifests/1\\.0\\.0', times: 1 }, action: 'flip-request', offset: 3 },
      ],
    });
    try {
      const pool = new RegistryPool();
      const r = await new Copier({ random: () => 0 }).copy(openSource(parseImageRef(`${src.host}/app:1.0.0`), pool), [
        openTarget(parseImageRef(`${proxy.host}/flipped/app:1.0.0`), pool),
      ]);
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
      const log = (await proxy.stats()).log;
      assert.equal((await proxy.stats()).faults['flip-request'], 3);
      assert.deepEqual(
        log.filter((l) => l.fault).map((l) => l.status! >= 400),
        [true, true, true],
        'the registry refused each corrupted request',
      );
      // skopeo checks what landed: the index and every platform, blob by blob
      assert.equal(sha256(inspectRaw(`${dst.host}/flipped/app:1.0.0`)), fx.images[0].index.digest);
      execFileSync('skopeo', ['copy', '--all', '--quiet', '--src-tls-verify=false', `docker://${dst.host}/flipped/app:1.0.0`, `oci:${workDir('flipped')}:x`]);
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('a blob whose answer stalls mid-body is given up after the idle timeout and fetched again', async () => {
    const dst = await startRegistry();
    const layer = fx.images[0].manifests[0].layers[0].digest;
    const proxy = await startFaultProxy(src.url, { rules: [{ match: { method: 'GET', path: `/blobs/${layer}`, times: 1 }, action: 'stall', afterBytes: 4096 }] });
    process.env.AIRLIFT_IDLE_TIMEOUT_MS = '1000';
    try {
      const pool = new RegistryPool();
      const r = await new Copier({ random: () => 0 }).copy(openSource(parseImageRef(`${proxy.host}/app:1.0.0`), pool), [
        openTarget(parseImageRef(`${dst.host}/stalled/app:1.0.0`), pool),
      ]);
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
      assert.equal((await proxy.stats()).faults.stall, 1);
      assert.equal(sha256(inspectRaw(`${dst.host}/stalled/app:1.0.0`)), fx.images[0].index.digest);
    } finally {
      delete process.env.AIRLIFT_IDLE_TIMEOUT_MS;
      await proxy.stop();
      await dst.stop();
    }
  });

  test('two tags in one repository: each blob and child manifest goes up once', async () => {
    const dst = await startRegistry();
    const proxy = await startFaultProxy(dst.url);
    try {
      const pool = new RegistryPool();
      const targets = ['1.0.0', 'latest'].map((t) => openTarget(parseImageRef(`${proxy.host}/two/app:${t}`), pool));
      const r = await new Copier().copy(openSource(parseImageRef(`${src.host}/app:1.0.0`), pool), targets);
      assert.deepEqual(
        r.targets.map((t) => [t.status, String(t.error ?? '')]),
        [
          ['copied', ''],
          ['copied', ''],
        ],
      );
      const log = (await proxy.stats()).log;
      const blobPuts = log.filter((l) => l.method === 'PUT' && l.path.includes('/blobs/uploads/')).map((l) => /digest=([^&]+)/.exec(l.path)?.[1]);
      assert.equal(new Set(blobPuts).size, blobPuts.length, 'no blob sent twice');
      const childPuts = log.filter((l) => l.method === 'PUT' && l.path.includes('/manifests/sha256')).map((l) => l.path);
      assert.equal(new Set(childPuts).size, childPuts.length, 'no child manifest sent twice');
      for (const t of ['1.0.0', 'latest']) assert.equal(sha256(inspectRaw(`${dst.host}/two/app:${t}`)), fx.images[0].index.digest);
    } finally {
      await proxy.stop();
      await dst.stop();
    }
  });

  test('relative Location headers (http.relativeurls) are resolved', async () => {
    const dst = await startRegistry({ relativeUrls: true });
    try {
      const probe = await fetch(`${dst.url}/v2/rel/x/blobs/uploads/`, { method: 'POST' });
      assert.match(probe.headers.get('location') ?? '', /^\/v2\//);
      const pool = new RegistryPool();
      const r = await new Copier().copy(openSource(parseImageRef(`${src.host}/app:1.0.0`), pool), [openTarget(parseImageRef(`${dst.host}/rel/app:1.0.0`), pool)]);
      assert.equal(r.targets[0].status, 'copied', String(r.targets[0].error));
      assert.equal(sha256(inspectRaw(`${dst.host}/rel/app:1.0.0`)), fx.images[0].index.digest);
    } finally {
      await dst.stop();
    }
  });

  test('tag listing follows Link pagination', async () => {
    const client = new RegistryClient(src.host);
    const m = await client.getManifest('app', '1.0.0');
    for (const t of ['a', 'b', 'c', 'd', 'e']) await client.putManifest('app', t, m.bytes, m.mediaType);
    assert.deepEqual((await client.listTags('app', 2)).sort(), ['1.0.0', 'a', 'b', 'c', 'd', 'e']);
  });

  test('a manifest whose bytes do not match the announced digest is refused', async () => {
    const proxy = await startFaultProxy(src.url, { rules: [{ match: { method: 'GET', path: '/manifests/' }, action: 'flip', offset: 10 }] });
    try {
      const client = new RegistryClient(proxy.host, { retry: { attempts: 2, baseDelayMs: 1 } });
      await assert.rejects(client.getManifest('app', '1.0.0'), /does not match its digest/);
    } finally {
      await proxy.stop();
    }
  });
});

describe('redirects', () => {
  // A registry that answers /v2/ with a Basic challenge and redirects blob GETs to a storage
  // host on another port (as registries backed by S3 do), and the storage host itself.
  let registry: Server;
  let storage: Server;
  let regPort = 0;
  let storagePort = 0;
  const seen: { host: string; headers: IncomingHttpHeaders; url: string }[] = [];
  const blob = Buffer.from('blob bytes served from storage');
  const digest = digestOf(blob);
  const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
  before(async () => {
    storage = createServer((req, res) => {
      seen.push({ host: 'storage', headers: req.headers, url: req.url ?? '' });
      res.writeHead(200, { 'content-length': blob.length });
      res.end(blob);
    });
    registry = createServer((req, res) => {
      seen.push({ host: 'registry', headers: req.headers, url: req.url ?? '' });
      if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        return res.end();
      }
      if (req.url === '/v2/') return res.end('{}');
      if (req.url?.startsWith(`/v2/r/blobs/${digest}`)) {
        const same = req.url.endsWith('?same');
        res.writeHead(307, { location: same ? `/v2/r/blobs/${digest}/data` : `http://127.0.0.1:${storagePort}/bucket/${digest}?X-Amz-Signature=abc` });
        if (req.url.endsWith('/data')) {
          res.writeHead(200, { 'content-length': blob.length });
          return res.end(blob);
        }
        return res.end();
      }
      res.writeHead(404);
      res.end();
    });
    storagePort = await listen(storage);
    regPort = await listen(registry);
  });
  after(() => {
    registry.close();
    storage.close();
  });

  test('followed without sending Authorization to another host; the blob is verified', async () => {
    const client = new RegistryClient(`127.0.0.1:${regPort}`, { credentials: async () => ({ username: 'u', password: 'p' }) });
    const stream = await client.getBlob('r', digest, blob.length);
    const got = Buffer.concat(await Readable.from(stream).toArray());
    assert.ok(got.equals(blob));
    const toStorage = seen.filter((s) => s.host === 'storage');
    assert.equal(toStorage.length, 1);
    assert.equal(toStorage[0].headers.authorization, undefined);
    assert.ok(seen.some((s) => s.host === 'registry' && s.headers.authorization?.startsWith('Basic ')));
  });
});
