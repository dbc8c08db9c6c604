import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Crc64, crc64 } from '../../src/lib/storage/crc64.js';

test('CRC-64/ECMA (XZ parameters): the standard check value, chunking, empty input', () => {
  // the catalogued check value of CRC-64/XZ for "123456789" is 0x995DC9BBDF1939FA
  assert.equal(crc64(Buffer.from('123456789')), BigInt('0x995DC9BBDF1939FA').toString());
  assert.equal(crc64(Buffer.alloc(0)), '0');
  const data = Buffer.alloc(100_003);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
  const chunked = new Crc64();
  for (let i = 0; i < data.length; i += 4096) chunked.update(data.subarray(i, i + 4096));
  assert.equal(chunked.digest(), crc64(data));
  assert.notEqual(crc64(Buffer.from('123456780')), crc64(Buffer.from('123456789')));
});

test('CRC-64/NVME (S3 full-object checksums): the catalogued check value, as S3 prints it (base64 of 8 big-endian bytes)', () => {
  // CRC-64/NVME check value for "123456789": 0xAE8B14860A799888
  assert.equal(new Crc64('nvme').update(Buffer.from('123456789')).digestBase64(), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  const data = Buffer.alloc(70_001, 7);
  const chunked = new Crc64('nvme');
  for (let i = 0; i < data.length; i += 999) chunked.update(data.subarray(i, i + 999));
  assert.equal(chunked.digestBase64(), new Crc64('nvme').update(data).digestBase64());
  assert.notEqual(new Crc64('nvme').update(data).digestBase64(), new Crc64('ecma').update(data).digestBase64());
});

test('S3 full-object CRC: compared when the store reports one, a mismatch names the object, absent means not checked', async () => {
  const { checkFullObjectCrc } = await import('../../src/lib/storage/s3.js');
  const file = { path: '/x', key: 'k', size: 9, sha256: '', partSize: 1, crc64nvme: new Crc64('nvme').update(Buffer.from('123456789')).digestBase64() };
  assert.equal(checkFullObjectCrc('s3://b/k', { size: 9, crc64nvme: file.crc64nvme }, file), true);
  assert.equal(checkFullObjectCrc('s3://b/k', { size: 9 }, file), false);
  assert.throws(() => checkFullObjectCrc('s3://b/k', { size: 9, crc64nvme: 'AAAAAAAAAAA=' }, file), /s3:\/\/b\/k: S3 computed CRC-64\/NVME AAAAAAAAAAA= for the stored object, the file has rosUhgp5mIg=/);
});
