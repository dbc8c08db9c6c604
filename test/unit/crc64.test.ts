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
