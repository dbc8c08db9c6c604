// upload-oss as a user runs it (the CLI), against real servers: s3rver (S3 API), a loopback
// HTTP upload endpoint, a local directory. The fault proxy counts what is (re-)sent.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startOssServer, type OssServer } from '../support/oss.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startActionsCache } from '../support/actions-cache.js';
import { seededBytes } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { cleanEnv, runCli, startCli } from '../support/cli.js';
import { builtTool, needsBuiltTools } from '../support/buildkitd.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const data = seededBytes;

/** Part uploads the proxy saw answered 200. */
const partsSent = async (proxy: FaultProxy) => (await proxy.stats()).log.filter((l) => l.method === 'PUT' && l.path.includes('partNumber=') && l.status === 200).length;

/** Runs the CLI and kills it (SIGKILL) once `n` parts went up through the proxy. */
async function killAfterParts(args: string[], proxy: FaultProxy, n: number): Promise<void> {
  const run = startCli(args);
  for (let i = 0; i < 400 && (await partsSent(proxy)) < n; i++) await new Promise((r) => setTimeout(r, 25));
  run.child.kill('SIGKILL');
  await run.done;
}

describe('upload-oss → S3 (s3rver)', () => {
  let s3: S3rver;
  let dir: string;
  const small = data(50_000, 1);
  const big = data(1_100_000, 2);
  before(async () => {
    s3 = await startS3rver({ buckets: ['release'] });
    dir = workDir('files');
    mkdirSync(join(dir, 'bundle'), { recursive: true });
    writeFileSync(join(dir, 'bundle', 'compass-1.2.0.tar'), big);
    writeFileSync(join(dir, 'bundle', 'compass-1.2.0.tar.sha256'), small);
  });
  after(() => s3.stop());
  const creds = () => ['--endpoint', s3.endpoint, '--access-key-id', s3.accessKeyId, '--access-key-secret', s3.secretAccessKey];
  const stored = (key: string) => readFileSync(join(s3.dataDir, 'release', `${key}._S3rver_object`));

  test('a directory: single PUT and multipart, bytes on the server equal the files; a re-run skips both', async () => {
    const r = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'bundle'),
      '--destination',
      's3://release/platform/{version}',
      '--version',
      '1.2.0',
      '--part-size',
      '128KiB',
      ...creds(),
      '--manifest',
      join(dir, 'm.json'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.outputs.urls.split('\n'), ['s3://release/platform/1.2.0/compass-1.2.0.tar', 's3://release/platform/1.2.0/compass-1.2.0.tar.sha256']);
    assert.equal(r.outputs.uploaded, '2');
    assert.equal(r.outputs.bytes, String(big.length + small.length));
    assert.equal(sha(stored('platform/1.2.0/compass-1.2.0.tar')), sha(big));
    assert.equal(sha(stored('platform/1.2.0/compass-1.2.0.tar.sha256')), sha(small));
    assert.match(r.stderr, /size \+ ETag \(md5\) \+ sha256 metadata/); // the single-PUT object
    assert.match(r.stderr, /compass-1\.2\.0\.tar\s+\S+ MB\s+uploaded\s+size( \+ ETag \(md5\))? \+ sha256 metadata/);
    const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    assert.equal(m.objects[0].sha256, sha(big));

    const again = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'bundle'),
      '--destination',
      's3://release/platform/1.2.0',
      '--part-size',
      '128KiB',
      '--skip-unchanged',
      ...creds(),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([again.outputs.uploaded, again.outputs.skipped], ['0', '2']);
  });

  test('multi-megabyte bodies stream completely (no byte may flow before the SDK reads it)', { timeout: 60_000 }, async () => {
    const d = workDir('mb');
    const mb = data(6 * 1024 * 1024 + 11, 9);
    writeFileSync(join(d, 'six.bin'), mb);
    const r = await runCli(['upload-oss', '--source', join(d, 'six.bin'), '--destination', 's3://release/mb', '--part-size', '8MiB', ...creds()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(stored('mb/six.bin')), sha(mb));
    const m = await runCli(['upload-oss', '--source', join(d, 'six.bin'), '--destination', 's3://release/mb-parts', '--part-size', '2MiB', ...creds()]);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(sha(stored('mb-parts/six.bin')), sha(mb));
  });

  test('killed in the middle of a multipart upload, a re-run sends only the missing parts', async () => {
    const proxy = await startFaultProxy(s3.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 150 }] });
    try {
      const state = workDir('state');
      const args = [
        'upload-oss',
        '--source',
        join(dir, 'bundle', 'compass-1.2.0.tar'),
        '--destination',
        's3://release/resume',
        '--part-size',
        '100KiB',
        '--part-concurrency',
        '2',
        '--state-dir',
        state,
        '--endpoint',
        proxy.url,
        '--access-key-id',
        s3.accessKeyId,
        '--access-key-secret',
        s3.secretAccessKey,
      ];
      await killAfterParts(args, proxy, 4);
      const parts = () => partsSent(proxy);
      const before = await parts();
      assert.ok(before >= 4 && before < 11, `parts before the kill: ${before}`);
      await proxy.setRules([]);
      await proxy.resetStats();
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      const resent = await parts();
      assert.ok(resent <= 11 - before + 2, `re-sent ${resent} of 11 parts after ${before} were done`);
      assert.equal(sha(stored('resume/compass-1.2.0.tar')), sha(big));
    } finally {
      await proxy.stop();
    }
  });

  test('wrong secret, missing bucket, nothing matched: clear errors, the secret never printed', async () => {
    // s3rver does not check secrets; S3 answers a bad signature with 403, so the fault proxy does
    const proxy = await startFaultProxy(s3.endpoint, {
      rules: [{ action: 'status', status: 403, body: '<Error><Code>SignatureDoesNotMatch</Code><Message>bad signature</Message></Error>' }],
    });
    try {
      const wrong = await runCli([
        'upload-oss',
        '--source',
        join(dir, 'bundle'),
        '--destination',
        's3://release/x',
        '--endpoint',
        proxy.url,
        '--access-key-id',
        s3.accessKeyId,
        '--access-key-secret',
        'Wr0ngS3cretValue',
      ]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /s3:\/\/release\/x\/: access to the bucket refused \(403 Forbidden\); check access-key-id\/access-key-secret and the bucket policy/);
      assert.ok(!(wrong.stdout + wrong.stderr).includes('Wr0ngS3cretValue'));
      assert.equal((await proxy.stats()).log.filter((l) => l.method === 'PUT' || l.method === 'POST').length, 0, 'nothing was sent after the refusal');
    } finally {
      await proxy.stop();
    }
    const nobucket = await runCli(['upload-oss', '--source', join(dir, 'bundle'), '--destination', 's3://no-such-bucket/x', ...creds()]);
    assert.match(nobucket.stderr, /bucket no-such-bucket does not exist/);
    const nothing = await runCli(['upload-oss', '--source', `${dir}/*.iso`, '--destination', 's3://release/x', ...creds()]);
    assert.match(nothing.stderr, /input "source" line 1: ".*\*\.iso" matches no file/);
    const scheme = await runCli(['upload-oss', '--source', dir, '--destination', 'ftp://x/y']);
    assert.match(scheme.stderr, /unknown scheme "ftp:\/\/"/);
  });
});

describe('upload-oss → HTTP endpoint and directory', () => {
  let server: Server;
  let url = '';
  const received = new Map<string, Buffer>();
  before(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer up-token-123') {
        res.writeHead(401, { 'content-type': 'text/plain' });
        req.resume();
        return res.end('bad token');
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        received.set(req.url ?? '', body);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sha256: sha(body), claimed: req.headers['x-checksum-sha256'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/upload`;
  });
  after(() => server.close());

  test('PUT with a bearer token, sha256 confirmed by the server; a wrong token is a clear 401', async () => {
    const dir = workDir('h');
    writeFileSync(join(dir, 'compass-plugins-x-1.0.tar.gz'), data(30_000, 5));
    const r = await runCli(['upload-oss', '--source', join(dir, '*.tar.gz'), '--destination', url, '--token', 'up-token-123']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(received.get('/upload/compass-plugins-x-1.0.tar.gz')!), sha(data(30_000, 5)));
    assert.match(r.stderr, /sha256 confirmed by the server/);
    const bad = await runCli(['upload-oss', '--source', join(dir, '*.tar.gz'), '--destination', url, '--token', 'nope-token-999']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\/upload\/compass-plugins-x-1\.0\.tar\.gz: the server refused the upload \(401: bad token\); check the token/);
    assert.ok(!(bad.stdout + bad.stderr).includes('nope-token-999'));
  });

  test('file:// directory, keys below a glob base, skip-unchanged', async () => {
    const dir = workDir('f');
    mkdirSync(join(dir, 'out', 'a'), { recursive: true });
    writeFileSync(join(dir, 'out', 'a', 'x.tar'), data(5000, 7));
    writeFileSync(join(dir, 'out', 'y.tar'), data(6000, 8));
    const dest = workDir('dest');
    const r = await runCli(['upload-oss', '--source', `${dir}/out/**/*.tar`, '--destination', `file://${dest}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(join(dest, 'a', 'x.tar'))), sha(data(5000, 7)));
    assert.equal(sha(readFileSync(join(dest, 'y.tar'))), sha(data(6000, 8)));
    const again = await runCli(['upload-oss', '--source', `${dir}/out/**/*.tar`, '--destination', `file://${dest}`, '--skip-unchanged']);
    assert.deepEqual([again.outputs.uploaded, again.outputs.skipped], ['0', '2']);
  });
});

describe('upload-oss → Aliyun OSS (our OSS test server: it verifies signatures and returns CRC-64s)', () => {
  let oss: OssServer;
  let dir: string;
  const big = data(520_000, 11);
  const small = data(20_000, 12);
  before(async () => {
    oss = await startOssServer({ buckets: ['infra-release'] });
    dir = workDir('ossfiles');
    mkdirSync(join(dir, 'plugins'), { recursive: true });
    writeFileSync(join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'), big);
    writeFileSync(join(dir, 'plugins', 'demo.yaml'), small);
  });
  after(() => oss.stop());
  const stored = (key: string) => readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent(key)));
  const creds = (endpoint = oss.endpoint) => ['--endpoint', endpoint, '--access-key-id', oss.accessKeyId, '--access-key-secret', oss.accessKeySecret];

  test('small and multipart objects, CRC-64 checked; a re-run skips them', async () => {
    const r = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'plugins'),
      '--destination',
      'oss://infra-release/platform/plugins/{version}',
      '--version',
      '1.2.0',
      '--part-size',
      '100KiB',
      ...creds(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.outputs.urls.split('\n'), [
      'oss://infra-release/platform/plugins/1.2.0/compass-plugins-demo-1.2.0.tar.gz',
      'oss://infra-release/platform/plugins/1.2.0/demo.yaml',
    ]);
    assert.equal(sha(stored('platform/plugins/1.2.0/compass-plugins-demo-1.2.0.tar.gz')), sha(big));
    assert.equal(sha(stored('platform/plugins/1.2.0/demo.yaml')), sha(small));
    assert.match(r.stderr, /size \+ CRC-64 \(x-oss-hash-crc64ecma\) \+ sha256 metadata/);
    const again = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'plugins'),
      '--destination',
      'oss://infra-release/platform/plugins/1.2.0',
      '--part-size',
      '100KiB',
      '--skip-unchanged',
      ...creds(),
    ]);
    assert.deepEqual([again.code, again.outputs.uploaded, again.outputs.skipped], [0, '0', '2']);
  });

  test(
    "ossutil, Aliyun's own client, reads what Airlift wrote (multipart) and writes multipart uploads the test server accepts",
    { skip: needsBuiltTools(['ossutil', 'ossutil']) },
    async () => {
      const ossutil = (...args: string[]) =>
        execFileSync(builtTool('ossutil', 'ossutil'), [...args, '-e', oss.endpoint, '-i', oss.accessKeyId, '-k', oss.accessKeySecret, '--config-file', '/dev/null'], {
          cwd: workDir('ossutil'),
          encoding: 'utf8',
        });
      const r = await runCli([
        'upload-oss',
        '--source',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        '--destination',
        'oss://infra-release/peer/',
        '--part-size',
        '100KiB',
        ...creds(),
      ]);
      assert.equal(r.code, 0, r.stderr);
      const got = join(workDir('ossutil-get'), 'got.tar.gz');
      ossutil('cp', '-f', 'oss://infra-release/peer/compass-plugins-demo-1.2.0.tar.gz', got);
      assert.equal(sha(readFileSync(got)), sha(big), 'ossutil downloads the same bytes (and checks the CRC-64 the server reports)');
      // ossutil's multipart upload (Go's XML encoder writes the ETags' quotes as &#34;), then Airlift's skip check reads it
      ossutil(
        'cp',
        '-f',
        '--bigfile-threshold',
        '102400',
        '--part-size',
        '102400',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        'oss://infra-release/by-ossutil/compass-plugins-demo-1.2.0.tar.gz',
      );
      assert.equal(sha(stored('by-ossutil/compass-plugins-demo-1.2.0.tar.gz')), sha(big));
      const skip = await runCli([
        'upload-oss',
        '--source',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        '--destination',
        'oss://infra-release/by-ossutil/',
        '--part-size',
        '100KiB',
        '--skip-unchanged',
        ...creds(),
      ]);
      assert.deepEqual([skip.code, skip.outputs.uploaded, skip.outputs.skipped], [0, '0', '1'], skip.stderr);
    },
  );

  test('kill -9 during a multipart upload; the re-run sends only the missing parts', async () => {
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 150 }] });
    try {
      const args = [
        'upload-oss',
        '--source',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        '--destination',
        'oss://infra-release/resume',
        '--part-size',
        '100KiB',
        '--part-concurrency',
        '1',
        '--state-dir',
        workDir('state'),
        ...creds(proxy.url),
      ];
      await killAfterParts(args, proxy, 2);
      const parts = () => partsSent(proxy);
      const before = await parts();
      assert.ok(before >= 2 && before < 6, `parts before the kill: ${before}`);
      await proxy.setRules([]);
      await proxy.resetStats();
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      const resent = await parts();
      assert.ok(resent <= 6 - before + 1, `re-sent ${resent} of 6 parts after ${before} were done`);
      assert.equal(sha(stored('resume/compass-plugins-demo-1.2.0.tar.gz')), sha(big));
    } finally {
      await proxy.stop();
    }
  });

  test('killed before any part was sent, and the upload gone since: the re-run starts a new upload', async () => {
    // every part PUT hangs, so the run dies with a checkpoint that has an upload id and no parts
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 60_000 }] });
    try {
      const state = workDir('state-zero');
      const args = [
        'upload-oss',
        '--source',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        '--destination',
        'oss://infra-release/zero',
        '--part-size',
        '100KiB',
        '--state-dir',
        state,
      ];
      const run = startCli([...args, ...creds(proxy.url)]);
      const checkpoints = () => (existsSync(state) ? readdirSync(state).filter((f) => f.endsWith('.json')) : []);
      for (let i = 0; i < 400 && checkpoints().length < 1; i++) await new Promise((r) => setTimeout(r, 25));
      run.child.kill('SIGKILL');
      await run.done;
      const [cp] = checkpoints();
      assert.ok(cp, 'a checkpoint was written');
      assert.deepEqual(JSON.parse(readFileSync(join(state, cp), 'utf8')).parts, {});
      rmSync(join(oss.dataDir, 'infra-release', 'uploads'), { recursive: true, force: true }); // expired on the server
      const again = await runCli([...args, ...creds()]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr + again.stdout, /the checkpointed upload \S+ no longer exists; starting a new one/);
      assert.equal(sha(stored('zero/compass-plugins-demo-1.2.0.tar.gz')), sha(big));
    } finally {
      await proxy.stop();
    }
  });

  test('a part corrupted in flight is caught by the CRC-64 check: once, re-sent; always, the step fails naming the part', async () => {
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=2&', times: 1 }, action: 'flip-request', offset: 777 }] });
    try {
      const args = (dest: string) => [
        'upload-oss',
        '--source',
        join(dir, 'plugins', 'compass-plugins-demo-1.2.0.tar.gz'),
        '--destination',
        dest,
        '--part-size',
        '100KiB',
        '--resume',
        'false',
        ...creds(proxy.url),
      ];
      const once = await runCli(args('oss://infra-release/flip-once'));
      assert.equal(once.code, 0, once.stderr);
      assert.equal((await proxy.stats()).faults['flip-request'], 1);
      assert.equal(sha(stored('flip-once/compass-plugins-demo-1.2.0.tar.gz')), sha(big));

      await proxy.setRules([{ match: { method: 'PUT', path: 'partNumber=3&' }, action: 'flip-request', offset: 5 }]);
      const always = await runCli(args('oss://infra-release/flip-always'));
      assert.equal(always.code, 1);
      assert.match(
        always.stderr,
        /oss:\/\/infra-release\/flip-always\/compass-plugins-demo-1\.2\.0\.tar\.gz part 3: CRC-64 mismatch \(OSS stored \d+, the file has \d+\): corrupted in transit/,
      );
      assert.throws(() => stored('flip-always/compass-plugins-demo-1.2.0.tar.gz'), /ENOENT/);
    } finally {
      await proxy.stop();
    }
  });

  test('a wrong secret is refused by the server; the secret is never printed', async () => {
    const r = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'plugins'),
      '--destination',
      'oss://infra-release/x',
      '--endpoint',
      oss.endpoint,
      '--access-key-id',
      oss.accessKeyId,
      '--access-key-secret',
      'N0tTheOssSecret',
    ]);
    assert.equal(r.code, 1);
    // the check is a HEAD, whose 403 has no body to name the code in
    assert.match(
      r.stderr,
      /oss:\/\/infra-release\/x\/: access to the bucket refused \(403 (SignatureDoesNotMatch|Forbidden)\); check access-key-id\/access-key-secret and the bucket policy/,
    );
    assert.ok((await oss.stats()).denied > 0, 'the server refused the signature');
    assert.ok(!(r.stdout + r.stderr).includes('N0tTheOssSecret'));
    const missing = await runCli(['upload-oss', '--source', join(dir, 'plugins'), '--destination', 'oss://infra-release/x', '--endpoint', oss.endpoint]);
    assert.match(missing.stderr, /OSS needs access-key-id and access-key-secret/);
  });
});

describe('upload-oss post step', () => {
  test('with resume off, the post step aborts the multipart upload a killed run left behind', async () => {
    const oss = await startOssServer({ buckets: ['infra-release'] });
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 200 }] });
    try {
      const dir = workDir('post');
      writeFileSync(join(dir, 'big.bin'), data(600_000, 21));
      const state = workDir('post-state');
      const inputs = [
        '--source',
        join(dir, 'big.bin'),
        '--destination',
        'oss://infra-release/post',
        '--part-size',
        '100KiB',
        '--part-concurrency',
        '1',
        '--resume',
        'false',
        '--state-dir',
        state,
        '--access-key-id',
        oss.accessKeyId,
        '--access-key-secret',
        oss.accessKeySecret,
      ];
      await killAfterParts(['upload-oss', ...inputs, '--endpoint', proxy.url], proxy, 1);
      const uploads = () => readdirSync(join(oss.dataDir, 'infra-release', 'uploads'));
      assert.equal(uploads().length, 1, 'the killed run left an unfinished upload');
      // the post step, as a runner runs it after a cancelled job: same inputs, its own process
      const env: NodeJS.ProcessEnv = { ...cleanEnv() };
      for (let i = 0; i < inputs.length; i += 2) env[`INPUT_${inputs[i].slice(2).toUpperCase()}`] = inputs[i + 1];
      env['INPUT_ENDPOINT'] = oss.endpoint;
      const post = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/actions/upload-oss/post.ts').then((m) => m.run())"], { env, encoding: 'utf8' });
      assert.equal(post.status, 0, post.stdout + post.stderr);
      assert.match(post.stdout, /upload-oss: aborted the unfinished upload of oss:\/\/infra-release\/post\/big\.bin/);
      assert.deepEqual(uploads(), [], 'the server no longer holds the upload');
      assert.deepEqual(
        readdirSync(state).filter((f) => f.endsWith('.json')),
        [],
        'the checkpoint is gone',
      );
    } finally {
      await proxy.stop();
      await oss.stop();
    }
  });
});

describe('upload-oss → OSS with an OIDC role (STS AssumeRoleWithOIDC, served by the OSS test server)', () => {
  const sts = {
    roleArn: 'acs:ram::1234567890:role/release-uploader',
    providerArn: 'acs:ram::1234567890:oidc-provider/github',
    oidcToken: 'eyJhbGciOiJSUzI1NiJ9.test-oidc-token.signature',
    lifetimeMs: 1500,
  };
  /** A 1.2 MB file to upload (bundle.tar) and the OIDC token file, in a fresh directory. */
  const stsFiles = (name: string, seed: number) => {
    const dir = workDir(name);
    const body = data(1_200_000, seed);
    writeFileSync(join(dir, 'bundle.tar'), body);
    writeFileSync(join(dir, 'oidc-token'), sts.oidcToken);
    return { dir, body };
  };

  test('short-lived credentials renewed mid-upload; the multipart upload carries on with the new keys; nothing secret printed', { timeout: 60_000 }, async () => {
    const oss = await startOssServer({ buckets: ['infra-release'], sts });
    // 200 ms per part: the upload outlives the 1.5 s credentials
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 200 }] });
    try {
      const { dir, body } = stsFiles('sts', 31);
      const r = await runCli(
        [
          'upload-oss',
          '--source',
          join(dir, 'bundle.tar'),
          '--destination',
          'oss://infra-release/sts',
          '--endpoint',
          proxy.url,
          '--part-size',
          '100KiB',
          '--part-concurrency',
          '1',
          '--role-arn',
          sts.roleArn,
          '--oidc-provider-arn',
          sts.providerArn,
          '--sts-endpoint',
          oss.stsEndpoint,
          '--role-session-name',
          'ci-run-1',
        ],
        { ALIBABA_CLOUD_OIDC_TOKEN_FILE: join(dir, 'oidc-token') },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /OSS: STS credentials for acs:ram::1234567890:role\/release-uploader \(session ci-run-1\), renewed every 1 s/);
      const stats = await oss.stats();
      const temporary = Object.keys(stats.byKey).filter((k) => k.startsWith('STS.'));
      assert.ok(stats.stsIssued >= 2 && temporary.length >= 2, `credentials were renewed during the upload (${JSON.stringify(stats)})`);
      assert.equal(stats.byKey[oss.accessKeyId], undefined, 'only temporary keys were used');
      assert.equal(stats.denied, 0, 'no request went out with expired credentials');
      assert.equal(sha(readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent('sts/bundle.tar')))), sha(body));
      assert.ok(!(r.stdout + r.stderr).includes(sts.oidcToken.split('.')[1]), 'the OIDC token is never printed');
    } finally {
      await proxy.stop();
      await oss.stop();
    }
  });

  test('a renewal that fails while the credentials in hand still have over a minute: kept, with a warning; the upload carries on', { timeout: 60_000 }, async () => {
    // 70 s credentials are renewed every second (half-life would be too long for a test); the STS
    // proxy refuses the second AssumeRoleWithOIDC, the first renewal
    const oss = await startOssServer({ buckets: ['infra-release'], sts: { ...sts, lifetimeMs: 70_000 } });
    const parts = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 200 }] });
    const stsProxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { path: '/__sts/', nth: 2 }, action: 'status', status: 403 }] });
    try {
      const { dir, body } = stsFiles('sts-keep', 33);
      const r = await runCli(
        [
          'upload-oss',
          '--source',
          join(dir, 'bundle.tar'),
          '--destination',
          'oss://infra-release/sts-keep',
          '--endpoint',
          parts.url,
          '--part-size',
          '100KiB',
          '--part-concurrency',
          '1',
          '--role-arn',
          sts.roleArn,
          '--oidc-provider-arn',
          sts.providerArn,
          '--sts-endpoint',
          `${stsProxy.url}/__sts/`,
        ],
        { ALIBABA_CLOUD_OIDC_TOKEN_FILE: join(dir, 'oidc-token') },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout + r.stderr,
        /OSS: renewing the STS credentials failed \(STS AssumeRoleWithOIDC for \S+ was refused \(403.*\); the current ones are valid until \S+, trying again in 30 s/,
      );
      assert.equal((await stsProxy.stats()).faults.status, 1, 'the renewal was refused');
      assert.equal((await oss.stats()).stsIssued, 1, 'the first credentials carried the whole upload');
      assert.equal(sha(readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent('sts-keep/bundle.tar')))), sha(body));
    } finally {
      await stsProxy.stop();
      await parts.stop();
      await oss.stop();
    }
  });

  test('the GitHub OIDC token service is asked with the audience; a wrong role, a missing token, half a role: clear errors', async () => {
    const oss = await startOssServer({ buckets: ['infra-release'], sts });
    const asked: string[] = [];
    const tokens = createServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization}`);
      res.writeHead(req.headers.authorization === 'Bearer runtime-req-token' ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ value: sts.oidcToken }));
    });
    await new Promise<void>((r) => tokens.listen(0, '127.0.0.1', r));
    const port = (tokens.address() as { port: number }).port;
    try {
      const dir = workDir('sts-gh');
      writeFileSync(join(dir, 'f.txt'), 'hello');
      const base = [
        'upload-oss',
        '--source',
        join(dir, 'f.txt'),
        '--destination',
        'oss://infra-release/gh',
        '--endpoint',
        oss.endpoint,
        '--oidc-provider-arn',
        sts.providerArn,
        '--sts-endpoint',
        oss.stsEndpoint,
      ];
      const gh = { ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-req-token' };
      const ok = await runCli([...base, '--role-arn', sts.roleArn], gh);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(asked[0], /^\/token\?api-version=2\.0&audience=sts\.aliyuncs\.com Bearer runtime-req-token$/);
      const wrongRole = await runCli([...base, '--role-arn', 'acs:ram::1234567890:role/other'], gh);
      assert.equal(wrongRole.code, 1);
      assert.match(wrongRole.stderr, /STS AssumeRoleWithOIDC for acs:ram::1234567890:role\/other was refused \(404 EntityNotExist\.Role/);
      const noToken = await runCli([...base, '--role-arn', sts.roleArn]);
      assert.equal(noToken.code, 1);
      assert.match(noToken.stderr, /needs an OIDC token: on GitHub give the job "permissions: id-token: write"/);
      const half = await runCli(['upload-oss', '--source', join(dir, 'f.txt'), '--destination', 'oss://infra-release/gh', '--endpoint', oss.endpoint, '--role-arn', sts.roleArn]);
      assert.match(half.stderr, /input "oidc-provider-arn" is needed too/);
      const badArn = await runCli([...base, '--role-arn', 'release-uploader']);
      assert.match(badArn.stderr, /input "role-arn".*acs:ram::<account>:role\/<name>/);
      const both = await runCli([...base, '--role-arn', sts.roleArn, '--security-token', 'leftover-sts-token']);
      assert.match(both.stderr, /input "role-arn": give either access keys \(with security-token\) or an OIDC role, not both/);
      assert.ok(!both.stderr.includes('leftover-sts-token'));
      const lonelySession = await runCli([
        'upload-oss',
        '--source',
        join(dir, 'f.txt'),
        '--destination',
        'oss://infra-release/gh',
        '--endpoint',
        oss.endpoint,
        '--role-session-name',
        'ci-run-1',
      ]);
      assert.match(lonelySession.stderr, /input "role-session-name" only applies with role-arn and oidc-provider-arn/);
      const noUrl = await runCli([...base.slice(0, -1), 'sts.aliyuncs.com', '--role-arn', sts.roleArn], gh);
      assert.match(noUrl.stderr, /input "sts-endpoint": "sts\.aliyuncs\.com" is not a URL/);
      const plain = await runCli([...base.slice(0, -1), 'http://sts.aliyuncs.com', '--role-arn', sts.roleArn], gh);
      assert.match(plain.stderr, /input "sts-endpoint": "http:\/\/sts\.aliyuncs\.com": use https/);
      for (const r of [both, lonelySession, noUrl, plain]) assert.equal(r.code, 1, r.stderr);
      assert.ok(!(ok.stdout + ok.stderr + wrongRole.stderr).includes(sts.oidcToken.split('.')[1]));
    } finally {
      tokens.close();
      await oss.stop();
    }
  });
});

describe('upload-oss on a runner: checkpoints through the Actions cache (a local stand-in for the cache service, v1 protocol)', () => {
  test(
    'killed, post step saves the checkpoints; a re-run on a fresh runner restores them and sends only the missing parts; a stale checkpoint starts over',
    { timeout: 120_000 },
    async () => {
      const oss = await startOssServer({ buckets: ['infra-release'] });
      const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 150 }] });
      const cache = await startActionsCache();
      const root = join(import.meta.dirname, '..', '..');
      try {
        const dir = workDir('runner');
        const body = data(1_000_000, 41);
        writeFileSync(join(dir, 'bundle.tar'), body);
        const state = join(dir, 'temp', 'airlift-upload');
        const files = { GITHUB_OUTPUT: join(dir, 'out'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
        for (const f of Object.values(files)) writeFileSync(f, '');
        const env = (attempt: number) =>
          cleanEnv({
            ...files,
            ...cache.env,
            GITHUB_ACTIONS: 'true',
            GITHUB_RUN_ID: '777',
            GITHUB_RUN_ATTEMPT: String(attempt),
            GITHUB_WORKSPACE: dir,
            RUNNER_TEMP: join(dir, 'temp'),
            INPUT_SOURCE: join(dir, 'bundle.tar'),
            INPUT_DESTINATION: 'oss://infra-release/cached',
            INPUT_ENDPOINT: proxy.url,
            'INPUT_PART-SIZE': '100KiB',
            'INPUT_PART-CONCURRENCY': '1',
            'INPUT_ACCESS-KEY-ID': oss.accessKeyId,
            'INPUT_ACCESS-KEY-SECRET': oss.accessKeySecret,
          });
        const parts = async () => (await oss.stats()).parts;

        // attempt 1: killed after a few parts; the post step (it runs after a cancelled step) saves the checkpoints
        const child = spawn(process.execPath, [join(root, 'dist', 'upload-oss', 'index.js')], { env: env(1), stdio: 'ignore' });
        for (let i = 0; i < 400 && (await parts()) < 3; i++) await new Promise((r) => setTimeout(r, 25));
        child.kill('SIGKILL');
        await new Promise((r) => child.on('close', r));
        const sentBefore = await parts();
        assert.ok(sentBefore >= 3 && sentBefore < 10, `killed mid-upload (${sentBefore} parts)`);
        const post = spawnSync(process.execPath, [join(root, 'dist', 'upload-oss', 'post.js')], { env: env(1), encoding: 'utf8' });
        assert.equal(post.status, 0, post.stdout + post.stderr);
        assert.match(post.stdout, /1 unfinished upload\(s\) saved to the Actions cache \(airlift-upload-[0-9a-f]{16}-777-1\)/);

        // attempt 2 on a fresh runner: nothing on disk, the checkpoints come from the cache
        rmSync(join(dir, 'temp'), { recursive: true, force: true });
        const second = spawnSync(process.execPath, [join(root, 'dist', 'upload-oss', 'index.js')], { env: env(2), encoding: 'utf8' });
        assert.equal(second.status, 0, second.stdout + second.stderr);
        assert.match(second.stdout, /restored upload checkpoints from the Actions cache \(airlift-upload-[0-9a-f]{16}-777-1\)/);
        const total = await parts();
        assert.ok(total <= 10 + 1, `only the missing parts were sent again (${total} parts for 10, ${sentBefore} before the kill)`);
        assert.equal(sha(readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent('cached/bundle.tar')))), sha(body));
        assert.equal(existsSync(state) ? readdirSync(state).filter((f) => f.endsWith('.json')).length : 0, 0, 'no checkpoint left after success');

        // attempt 3: the cache still holds attempt 1's checkpoint, whose upload has completed since
        rmSync(join(dir, 'temp'), { recursive: true, force: true });
        const third = spawnSync(process.execPath, [join(root, 'dist', 'upload-oss', 'index.js')], { env: env(3), encoding: 'utf8' });
        assert.equal(third.status, 0, third.stdout + third.stderr);
        assert.match(third.stdout, /the checkpointed upload \S+ no longer exists; starting a new one/);
        assert.equal(sha(readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent('cached/bundle.tar')))), sha(body));
        assert.equal((await cache.stats()).saves, 1);
      } finally {
        await cache.stop();
        await proxy.stop();
        await oss.stop();
      }
    },
  );
});

describe('upload-oss → S3: abort (s3rver extended with AbortMultipartUpload and ListParts, servers/s3rver-plus.mjs)', () => {
  test('resume off: a part that keeps failing aborts the upload; a killed run is aborted by the post step', { timeout: 60_000 }, async () => {
    const s3 = await startS3rver({ buckets: ['release'], multipartOps: true });
    const uploads = () => {
      const d = readdirSync(join(s3.dataDir, 'release')).find((f) => f.includes('uploads'));
      return d ? readdirSync(join(s3.dataDir, 'release', d)) : [];
    };
    const s3stats = async () => (await (await fetch(`${s3.endpoint}/__stats`)).json()) as { aborted: number };
    try {
      const dir = workDir('s3-abort');
      writeFileSync(join(dir, 'big.bin'), data(700_000, 51));
      const base = [
        'upload-oss',
        '--source',
        join(dir, 'big.bin'),
        '--part-size',
        '100KiB',
        '--part-concurrency',
        '1',
        '--resume',
        'false',
        '--access-key-id',
        s3.accessKeyId,
        '--access-key-secret',
        s3.secretAccessKey,
      ];

      // part 3 always answers 500: the step fails, and the upload is aborted, not left behind
      const failing = await startFaultProxy(s3.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=3' }, action: 'status', status: 500 }] });
      const r = await runCli([...base, '--destination', 's3://release/failing', '--endpoint', failing.url, '--state-dir', workDir('st1')]);
      await failing.stop();
      assert.equal(r.code, 1);
      assert.equal((await s3stats()).aborted, 1, 'AbortMultipartUpload was sent');
      assert.deepEqual(uploads(), [], 'no multipart upload left on the store');

      // killed mid-upload: the post step aborts what the checkpoint recorded
      const slow = await startFaultProxy(s3.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 200 }] });
      const state = workDir('st2');
      const run = startCli([...base, '--destination', 's3://release/killed', '--endpoint', slow.url, '--state-dir', state]);
      const parts = async () => (await slow.stats()).log.filter((l) => l.method === 'PUT' && l.path.includes('partNumber=') && l.status === 200).length;
      for (let i = 0; i < 400 && (await parts()) < 1; i++) await new Promise((res) => setTimeout(res, 25));
      run.child.kill('SIGKILL');
      await run.done;
      await slow.stop();
      assert.equal(uploads().length, 1, 'the killed run left an unfinished upload');
      // the post step, as a runner runs it after a cancelled job: same inputs, its own process
      const inputs = [...base.slice(1), '--destination', 's3://release/killed', '--endpoint', s3.endpoint, '--state-dir', state];
      const env: NodeJS.ProcessEnv = { ...cleanEnv() };
      for (let i = 0; i < inputs.length; i += 2) env[`INPUT_${inputs[i].slice(2).toUpperCase()}`] = inputs[i + 1];
      const post = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/actions/upload-oss/post.ts').then((m) => m.run())"], { env, encoding: 'utf8' });
      assert.equal(post.status, 0, post.stdout + post.stderr);
      assert.match(post.stdout, /upload-oss: aborted the unfinished upload of s3:\/\/release\/killed\/big\.bin/);
      assert.deepEqual(uploads(), []);
      assert.equal((await s3stats()).aborted, 2);
    } finally {
      await s3.stop();
    }
  });
});

describe('upload-oss: what a release engineer trips over (sources, part sizes, changing files, signed URLs, resume off)', () => {
  test('sources: symlinks followed, * skips dotfiles, names with "," and " #", two files on one key refused, an empty list refused', async () => {
    const dir = workDir('src');
    mkdirSync(join(dir, 'real'), { recursive: true });
    mkdirSync(join(dir, 'x86'));
    mkdirSync(join(dir, 'arm'));
    writeFileSync(join(dir, 'real', 'app-1.2.tar'), 'app');
    writeFileSync(join(dir, 'real', '.env'), 'SECRET=1');
    writeFileSync(join(dir, 'real', 'app,v2 #1.tar'), 'odd');
    symlinkSync(join(dir, 'real', 'app-1.2.tar'), join(dir, 'real', 'app-latest.tar'));
    writeFileSync(join(dir, 'x86', 'app.tar'), 'x86');
    writeFileSync(join(dir, 'arm', 'app.tar'), 'arm');
    const out = workDir('dst');
    const r = await runCli(['upload-oss', '--source', `${join(dir, 'real', '*')}\n${join(dir, 'real', 'app,v2 #1.tar')}`, '--destination', `file://${out}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['app,v2 #1.tar', 'app-1.2.tar', 'app-latest.tar'], 'the link is uploaded, .env is not');
    assert.equal(readFileSync(join(out, 'app-latest.tar'), 'utf8'), 'app');

    // a directory: a linked directory is walked under its own name as well as the real one;
    // a link out of the directory is left out (with a warning), a loop is cut
    mkdirSync(join(dir, 'tree', 'v1.2'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'v1.2', 'app.bin'), 'v');
    symlinkSync('v1.2', join(dir, 'tree', 'latest'));
    symlinkSync('/etc', join(dir, 'tree', 'sysroot'));
    symlinkSync('.', join(dir, 'tree', 'loop'));
    const treeOut = workDir('dst-tree');
    const tree = await runCli(['upload-oss', '--source', join(dir, 'tree'), '--destination', `file://${treeOut}`]);
    assert.equal(tree.code, 0, tree.stderr);
    assert.deepEqual(
      readdirSync(treeOut, { recursive: true })
        .map(String)
        .filter((p) => p.endsWith('.bin'))
        .sort(),
      ['latest/app.bin', 'v1.2/app.bin'],
    );
    assert.match(tree.stderr, /warning: input "source" line 1: sysroot links outside .*tree \(to \/etc\); left out/);

    const clash = await runCli(['upload-oss', '--source', `${join(dir, 'x86', 'app.tar')}\n${join(dir, 'arm', 'app.tar')}`, '--destination', `file://${workDir('dst2')}`]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /input "source" line 2: .*arm\/app\.tar and .*x86\/app\.tar would both be uploaded as app\.tar/);
    const empty = await runCli(['upload-oss', '--source', '# nothing yet', '--destination', `file://${workDir('dst3')}`]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /input "source" lists no file/);
  });

  test('a part size the store would refuse is refused before anything is sent', async () => {
    const dir = workDir('ps');
    writeFileSync(join(dir, 'a.bin'), data(300_000, 3));
    // AWS S3 (no custom endpoint): parts of 5 MiB or more; nothing is contacted to find out
    const aws = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'a.bin'),
      '--destination',
      's3://release-bucket/x',
      '--part-size',
      '100KiB',
      '--access-key-id',
      'AKIAEXAMPLE',
      '--access-key-secret',
      'not-used-secret',
    ]);
    assert.equal(aws.code, 1);
    assert.match(aws.stderr, /input "part-size": 102\.4 kB is below the 5\.2 MB a part must be at s3:\/\/release-bucket\/x/);
    // 10,000 parts at most: a sparse 1.1 GB file at 100 KiB would need 10,743
    const sparse = join(dir, 'disk.raw');
    writeFileSync(sparse, '');
    truncateSync(sparse, 1_100_000_000);
    const oss = await runCli([
      'upload-oss',
      '--source',
      sparse,
      '--destination',
      'oss://infra-release/x',
      '--endpoint',
      'http://127.0.0.1:9',
      '--part-size',
      '100KiB',
      '--access-key-id',
      'a',
      '--access-key-secret',
      'b-secret-value',
    ]);
    assert.equal(oss.code, 1);
    assert.match(
      oss.stderr,
      /input "part-size": .*disk\.raw \(1\.1 GB\) would take 10743 parts of 102\.4 kB, and oss:\/\/infra-release\/x takes at most 10000; use a part size of at least 110\.0 kB/,
    );
  });

  test('an HTTP destination with a signed query and credentials: keys go in the path, the query stays; no output shows the secrets; a file that changes while it goes up fails the step', async () => {
    const got = new Map<string, Buffer>();
    const dir = workDir('sig');
    const growing = join(dir, 'growing.log');
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.set(req.url ?? '', Buffer.concat(chunks));
        // a careless server that echoes the credentials it got
        if (req.url?.includes('echo')) {
          res.writeHead(500);
          return res.end(`oops auth=${req.headers.authorization}`);
        }
        // the file being uploaded is appended to while it goes up
        if (req.url?.includes('growing.log')) appendFileSync(growing, 'more\n');
        res.writeHead(201);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      writeFileSync(join(dir, 'a.txt'), 'a');
      writeFileSync(join(dir, 'b.tar'), 'b');
      const dest = `http://uploader:PassW0rdXyz@127.0.0.1:${port}/up/4?sig=QuerySecret123`;
      const r = await runCli(['upload-oss', '--source', `${join(dir, 'a.txt')}\n${join(dir, 'b.tar')}`, '--destination', dest, '--manifest', join(dir, 'out', 'm.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...got.keys()].sort(), ['/up/4/a.txt?sig=QuerySecret123', '/up/4/b.tar?sig=QuerySecret123']);
      const dry = await runCli(['upload-oss', '--source', join(dir, 'a.txt'), '--destination', dest, '--dry-run']);
      const everything = r.stdout + r.stderr + dry.stdout + dry.stderr + readFileSync(join(dir, 'out', 'm.json'), 'utf8');
      for (const secret of ['PassW0rdXyz', 'QuerySecret123']) assert.ok(!everything.includes(secret), secret);
      assert.match(dry.stdout, new RegExp(`urls=http://127\\.0\\.0\\.1:${port}/up/4/a\\.txt`));
      const echo = await runCli(['upload-oss', '--source', join(dir, 'a.txt'), '--destination', `http://uploader:PassW0rdXyz@127.0.0.1:${port}/echo`]);
      assert.equal(echo.code, 1);
      assert.match(echo.stderr, /answered 500: oops auth=Basic \*\*\*/);
      assert.ok(!(echo.stdout + echo.stderr).includes(Buffer.from('uploader:PassW0rdXyz').toString('base64')));

      writeFileSync(growing, 'start\n');
      const changing = await runCli(['upload-oss', '--source', growing, '--destination', `http://127.0.0.1:${port}/up`]);
      assert.equal(changing.code, 1);
      assert.match(changing.stderr, /growing\.log changed while it was uploaded .*: upload it again once it is final/);
    } finally {
      server.close();
    }
  });

  test('resume off after a killed run: the upload its checkpoint recorded is aborted, not left in the bucket', async () => {
    const oss = await startOssServer({ buckets: ['infra-release'] });
    const proxy = await startFaultProxy(oss.endpoint, { rules: [{ match: { method: 'PUT', path: 'partNumber=' }, action: 'latency', ms: 200 }] });
    try {
      const dir = workDir('roff');
      writeFileSync(join(dir, 'big.bin'), data(600_000, 22));
      const state = workDir('roff-state');
      const args = [
        'upload-oss',
        '--source',
        join(dir, 'big.bin'),
        '--destination',
        'oss://infra-release/roff',
        '--part-size',
        '100KiB',
        '--part-concurrency',
        '1',
        '--state-dir',
        state,
        '--access-key-id',
        oss.accessKeyId,
        '--access-key-secret',
        oss.accessKeySecret,
      ];
      await killAfterParts([...args, '--endpoint', proxy.url], proxy, 1);
      const uploads = () => readdirSync(join(oss.dataDir, 'infra-release', 'uploads'));
      assert.equal(uploads().length, 1);
      const again = await runCli([...args, '--endpoint', oss.endpoint, '--resume', 'false', '--debug']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout + again.stderr, /resume is off: aborting the recorded upload/);
      assert.deepEqual(uploads(), [], 'neither the old upload nor the new one is left');
      assert.equal(sha(readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent('roff/big.bin')))), sha(data(600_000, 22)));
    } finally {
      await proxy.stop();
      await oss.stop();
    }
  });
});

describe('upload-oss: no silent damage (placeholders that walk out, corruption on the way in, stalls, lost answers)', () => {
  test('{version} and {tag} values that would leave the destination are refused before anything is sent', async () => {
    const dir = workDir('walk');
    writeFileSync(join(dir, 'f.txt'), 'release notes');
    const dest = workDir('walk-dest');
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(201);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const http = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const bad: [string, string, RegExp][] = [
        ['--version', '../../escaped', /\{version\} cannot be "\.\.\/\.\.\/escaped": it holds a path separator/],
        ['--version', '..', /\{version\} cannot be "\.\.": it holds "\.\."/],
        ['--version', '%2e%2e', /\{version\} cannot be "%2e%2e": it holds "%"/],
        ['--tag', 'release/1.0', /\{tag\} cannot be "release\/1\.0": it holds a path separator/],
        ['--version', '1.0\nx', /\{version\} cannot be "1\.0\\x0ax": it holds a control character/],
      ];
      for (const [flag, value, message] of bad) {
        for (const destination of [`file://${dest}/releases/{${flag.slice(2)}}`, `${http}/releases/{${flag.slice(2)}}/`]) {
          const r = await runCli(['upload-oss', '--source', join(dir, 'f.txt'), '--destination', destination, flag, value]);
          assert.equal(r.code, 1, `${destination} ${value}: ${r.stderr}`);
          assert.match(r.stderr, /input "destination"/);
          assert.match(r.stderr, message);
        }
      }
      assert.equal(requests, 0, 'nothing was sent');
      assert.deepEqual(readdirSync(dest), [], 'nothing was written');
      assert.equal(existsSync(join(dest, '..', 'escaped')), false);
      // a plain version goes where it says
      const ok = await runCli(['upload-oss', '--source', join(dir, 'f.txt'), '--destination', `file://${dest}/releases/{version}`, '--version', 'v1.2.0-rc.1']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(readFileSync(join(dest, 'releases', 'v1.2.0-rc.1', 'f.txt'), 'utf8'), 'release notes');
      // pack-offline names files after its version: one plain name too
      const pack = await runCli(['pack-offline', '--images', '127.0.0.1:1/x/y:1', '--version', '../../x', '--output-dir', workDir('walk-pack')]);
      assert.equal(pack.code, 1);
      assert.match(pack.stderr, /input "version": "\.\.\/\.\.\/x" is not valid \(a version such as 1\.2\.0/);
    } finally {
      server.close();
    }
  });

  test('HTTP: a server reporting another sha256 gets the file again; one that always does fails the step and the bad object is deleted', async () => {
    const dir = workDir('http-damage');
    const body = data(300_000, 61);
    writeFileSync(join(dir, 'bundle.tar'), body);
    const stored = new Map<string, Buffer>();
    let damage = 1;
    let deletes = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'DELETE') {
          deletes++;
          stored.delete(req.url ?? '');
          res.writeHead(204);
          return res.end();
        }
        const got = Buffer.concat(chunks);
        // damage as a flaky link would: one byte changed before it is stored
        if (damage > 0) {
          damage--;
          got[1000] ^= 0xff;
        }
        stored.set(req.url ?? '', got);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sha256: sha(got) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/up`;
    try {
      const once = await runCli(['upload-oss', '--source', join(dir, 'bundle.tar'), '--destination', url]);
      assert.equal(once.code, 0, once.stderr);
      assert.match(once.stderr, /the server received sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; removed it, uploading again \(2 of 3\)/);
      assert.equal(deletes, 1);
      assert.ok(stored.get('/up/bundle.tar')?.equals(body), 'the good bytes are stored');

      damage = 99;
      const always = await runCli(['upload-oss', '--source', join(dir, 'bundle.tar'), '--destination', `${url}/always`]);
      assert.equal(always.code, 1);
      assert.match(
        always.stderr,
        /http:\/\/127\.0\.0\.1:\d+\/up\/always\/bundle\.tar: the server received sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; removed it after 3 attempts/,
      );
      assert.equal(stored.has('/up/always/bundle.tar'), false, 'no object that failed verification stays under its name');
    } finally {
      server.close();
    }
  });

  test('S3: a corrupted CompleteMultipartUpload is sent again; a stalled part is given up and re-sent; a lost answer to Complete is found done', { timeout: 90_000 }, async () => {
    const s3 = await startS3rver({ buckets: ['release'] });
    const dir = workDir('s3-damage');
    const body = data(700_000, 71);
    writeFileSync(join(dir, 'big.bin'), body);
    const stored = (key: string) => readFileSync(join(s3.dataDir, 'release', `${key}._S3rver_object`));
    const proxy = await startFaultProxy(s3.endpoint);
    const args = (dest: string, state: string) => [
      'upload-oss',
      '--source',
      join(dir, 'big.bin'),
      '--destination',
      dest,
      '--part-size',
      '100KiB',
      '--endpoint',
      proxy.url,
      '--access-key-id',
      s3.accessKeyId,
      '--access-key-secret',
      s3.secretAccessKey,
      '--state-dir',
      state,
    ];
    const checkpoints = (state: string) => (existsSync(state) ? readdirSync(state).filter((f) => f.endsWith('.json')) : []);
    try {
      // the part list flipped on the way: the store refuses it (or stores other parts); sent again
      await proxy.setRules([{ match: { method: 'POST', path: 'uploadId=', times: 1 }, action: 'flip-request', offset: 60 }]);
      const flipped = await runCli(args('s3://release/flipped', workDir('st-flip')));
      assert.equal(flipped.code, 0, flipped.stderr);
      assert.doesNotMatch(flipped.stderr, /NodeVersionSupportWarning/, "the SDK's Node-version warning is not printed");
      assert.equal((await proxy.stats()).faults['flip-request'], 1);
      assert.ok(stored('flipped/big.bin').equals(body));

      // one part's request hangs: given up after the idle timeout, sent again
      await proxy.setRules([{ match: { method: 'PUT', path: 'partNumber=2&', times: 1 }, action: 'latency', ms: 60_000 }]);
      const started = Date.now();
      const stalled = await runCli(args('s3://release/stalled', workDir('st-stall')), { AIRLIFT_IDLE_TIMEOUT_MS: '1500' });
      assert.equal(stalled.code, 0, stalled.stderr);
      assert.ok(Date.now() - started < 30_000, 'not waited out');
      assert.ok(stored('stalled/big.bin').equals(body));

      // the store completes the upload but the answer never arrives: the object shows it is done
      const state = workDir('st-lost');
      await proxy.setRules([{ match: { method: 'POST', path: 'uploadId=', times: 1 }, action: 'drop-response' }]);
      const lost = await runCli(args('s3://release/lost', state));
      assert.equal(lost.code, 0, lost.stderr);
      assert.equal((await proxy.stats()).faults['drop-response'], 1);
      assert.ok(stored('lost/big.bin').equals(body));
      assert.deepEqual(checkpoints(state), [], 'no checkpoint left to trip the next run');
      const again = await runCli([...args('s3://release/lost', state), '--skip-unchanged']);
      assert.deepEqual([again.code, again.outputs.skipped], [0, '1'], again.stderr);
    } finally {
      await proxy.stop();
      await s3.stop();
    }
  });

  test('OSS: a lost answer to CompleteMultipartUpload is found done by its CRC-64; a stalled part is re-sent', { timeout: 90_000 }, async () => {
    const oss = await startOssServer({ buckets: ['infra-release'] });
    const proxy = await startFaultProxy(oss.endpoint);
    const dir = workDir('oss-damage');
    const body = data(500_000, 81);
    writeFileSync(join(dir, 'big.bin'), body);
    const args = (dest: string, state: string) => [
      'upload-oss',
      '--source',
      join(dir, 'big.bin'),
      '--destination',
      dest,
      '--part-size',
      '100KiB',
      '--endpoint',
      proxy.url,
      '--access-key-id',
      oss.accessKeyId,
      '--access-key-secret',
      oss.accessKeySecret,
      '--state-dir',
      state,
    ];
    const stored = (key: string) => readFileSync(join(oss.dataDir, 'infra-release', 'objects', encodeURIComponent(key)));
    try {
      const state = workDir('oss-lost');
      await proxy.setRules([{ match: { method: 'POST', path: 'uploadId=', times: 1 }, action: 'drop-response' }]);
      const lost = await runCli(args('oss://infra-release/lost', state));
      assert.equal(lost.code, 0, lost.stderr);
      assert.equal((await proxy.stats()).faults['drop-response'], 1);
      assert.ok(stored('lost/big.bin').equals(body));
      assert.deepEqual(
        readdirSync(state).filter((f) => f.endsWith('.json')),
        [],
      );

      await proxy.setRules([{ match: { method: 'PUT', path: 'partNumber=2&', times: 1 }, action: 'latency', ms: 60_000 }]);
      const stalled = await runCli(args('oss://infra-release/stalled', workDir('oss-stall')), { AIRLIFT_IDLE_TIMEOUT_MS: '1500' });
      assert.equal(stalled.code, 0, stalled.stderr);
      assert.ok(stored('stalled/big.bin').equals(body));
    } finally {
      await proxy.stop();
      await oss.stop();
    }
  });
});
