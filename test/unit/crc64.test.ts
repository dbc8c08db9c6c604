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
  assert.throws(
    () => checkFullObjectCrc('s3://b/k', { size: 9, crc64nvme: 'AAAAAAAAAAA=' }, file),
    /s3:\/\/b\/k: S3 computed CRC-64\/NVME AAAAAAAAAAA= for the stored object, the file has rosUhgp5mIg=/,
  );
});

test('eight bytes at a time agrees with the bit-by-bit definition at every length and alignment', () => {
  // the definition, one bit at a time (BigInt): reflected, init and final xor all ones
  const reference = (poly: bigint, data: Uint8Array) => {
    let crc = (1n << 64n) - 1n;
    for (const byte of data) {
      crc ^= BigInt(byte);
      for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
    }
    return crc ^ ((1n << 64n) - 1n);
  };
  const data = Buffer.alloc(2053);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const [variant, poly] of [
    ['ecma', 0xc96c5795d7870f42n],
    ['nvme', 0x9a6c9329ac4bc9b5n],
  ] as const) {
    for (const [from, to] of [
      [0, 2053],
      [1, 2053],
      [3, 1030],
      [7, 16],
      [5, 12],
      [0, 7],
    ]) {
      const slice = data.subarray(from, to);
      const got = new Crc64(variant).update(slice).digestBase64();
      const want = Buffer.alloc(8);
      want.writeBigUInt64BE(reference(poly, slice));
      assert.equal(got, want.toString('base64'), `${variant} [${from}, ${to})`);
    }
  }
});

test('the CRC of a whole is combined from its parts (any lengths, empty ones too), both variants', async () => {
  const { combineCrc64 } = await import('../../src/lib/storage/crc64.js');
  const data = Buffer.alloc(300_007);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const variant of ['ecma', 'nvme'] as const) {
    const dec = (b: Uint8Array) => BigInt('0x' + Buffer.from(new Crc64(variant).update(b).digestBase64(), 'base64').toString('hex')).toString();
    for (const cuts of [
      [0, 300_007],
      [1, 300_007],
      [65_536, 300_007],
      [0, 0, 300_007],
      [12_345, 200_000, 300_007],
    ]) {
      let crc = dec(Buffer.alloc(0));
      let from = 0;
      for (const to of cuts) {
        crc = combineCrc64(crc, dec(data.subarray(from, to)), to - from, variant);
        from = to;
      }
      assert.equal(crc, dec(data), `${variant} ${cuts.join(',')}`);
    }
  }
  assert.notEqual(combineCrc64(crc64(data.subarray(0, 10)), crc64(data.subarray(10, 20)), 9), crc64(data.subarray(0, 20)), 'the length of the second part counts');
});
