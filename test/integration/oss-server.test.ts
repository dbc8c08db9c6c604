// The OSS test server, driven by the real ali-oss client. There is no OSS server to install,
// so this server is ours: it verifies every request's signature (V1 and V4) and computes the
// CRC-64 OSS returns; these tests prove it speaks the protocol ali-oss speaks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOssServer, type OssServer } from '../support/oss.js';
import { seededBytes } from '../support/fixtures.js';
import { workDir, pidAlive, tcpOpen } from '../support/proc.js';
import { crc64 } from '../../src/lib/storage/crc64.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const OSS = require('ali-oss') as any;

const data = seededBytes;

describe('OSS test server with ali-oss', () => {
  let oss: OssServer;
  before(async () => {
    oss = await startOssServer({ buckets: ['infra-release'] });
  });
  after(async () => {
    await oss.stop();
    assert.equal(pidAlive(oss.process.pid), false);
    assert.equal(await tcpOpen(oss.port), false);
  });

  for (const v4 of [false, true]) {
    test(`${v4 ? 'V4' : 'V1'} signatures: put, head with CRC-64, multipart, list parts, abort`, async () => {
      const client = new OSS({
        accessKeyId: oss.accessKeyId,
        accessKeySecret: oss.accessKeySecret,
        bucket: 'infra-release',
        endpoint: oss.endpoint,
        region: 'oss-cn-hangzhou',
        authorizationV4: v4,
        sldEnable: true,
        secure: false,
        retryMax: 0,
      });
      const small = data(30_000, v4 ? 3 : 1);
      const put = await client.put(`platform/plugins/a-${v4}.tar.gz`, small);
      assert.equal(put.res.headers['x-oss-hash-crc64ecma'], crc64(small));
      const head = await client.head(`platform/plugins/a-${v4}.tar.gz`);
      assert.equal(head.res.headers['content-length'], String(small.length));
      assert.equal(head.res.headers['x-oss-hash-crc64ecma'], crc64(small));

      const big = data(350_000, v4 ? 4 : 2);
      const file = join(workDir('oss-files'), 'big.bin');
      writeFileSync(file, big);
      const mp = await client.multipartUpload(`platform/plugins/big-${v4}.bin`, file, { partSize: 100 * 1024, parallel: 2 });
      assert.equal(mp.res.status, 200);
      const got = await client.get(`platform/plugins/big-${v4}.bin`);
      assert.ok(Buffer.from(got.content).equals(big));
      assert.equal(got.res.headers['x-oss-hash-crc64ecma'], crc64(big));

      const init = await client.initMultipartUpload(`platform/plugins/aborted-${v4}.bin`);
      await client.uploadPart(`platform/plugins/aborted-${v4}.bin`, init.uploadId, 1, file, 0, 100 * 1024);
      const parts = await client.listParts(`platform/plugins/aborted-${v4}.bin`, init.uploadId);
      assert.equal(([] as unknown[]).concat(parts.parts).length, 1);
      await client.abortMultipartUpload(`platform/plugins/aborted-${v4}.bin`, init.uploadId);
      await assert.rejects(client.listParts(`platform/plugins/aborted-${v4}.bin`, init.uploadId), /NoSuchUpload|does not exist/);
    });
  }

  test('a wrong secret, a wrong key id and a missing bucket are refused', async () => {
    const denied = (await oss.stats()).denied;
    for (const v4 of [false, true]) {
      const wrong = new OSS({
        accessKeyId: oss.accessKeyId,
        accessKeySecret: 'not-the-secret',
        bucket: 'infra-release',
        endpoint: oss.endpoint,
        region: 'oss-cn-hangzhou',
        authorizationV4: v4,
        secure: false,
        retryMax: 0,
      });
      await assert.rejects(wrong.put('x', Buffer.from('x')), (e: { code?: string; status?: number }) => e.code === 'SignatureDoesNotMatch' && e.status === 403);
    }
    const badId = new OSS({ accessKeyId: 'LTAIwrong', accessKeySecret: oss.accessKeySecret, bucket: 'infra-release', endpoint: oss.endpoint, secure: false, retryMax: 0 });
    await assert.rejects(badId.put('x', Buffer.from('x')), (e: { code?: string }) => e.code === 'InvalidAccessKeyId');
    assert.equal((await oss.stats()).denied, denied + 3);
    const nobucket = new OSS({
      accessKeyId: oss.accessKeyId,
      accessKeySecret: oss.accessKeySecret,
      bucket: 'nope',
      endpoint: oss.endpoint,
      sldEnable: true,
      secure: false,
      retryMax: 0,
    });
    await assert.rejects(nobucket.put('x', Buffer.from('x')), (e: { code?: string }) => e.code === 'NoSuchBucket');
  });
});
