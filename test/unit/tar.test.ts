import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TarWriter, tarHeader } from '../../src/lib/archive/tar.js';
import { ParallelTarFile } from '../../src/lib/archive/tar-file.js';
import { createHash } from 'node:crypto';

describe('tar writer (checked with GNU tar)', () => {
  test('files, directories, symlinks, long names and modes extract as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      const file = join(dir, 'out.tar');
      const tar = new TarWriter(createWriteStream(file));
      const longName = `${'deep/'.repeat(40)}file-with-a-long-name.txt`;
      const veryLongBase = `${'x'.repeat(150)}.bin`;
      const big = Buffer.alloc(70_000, 7);
      await tar.addDirectory('installer');
      await tar.addFile({ name: 'installer/install.sh', size: 10, mode: 0o755 }, Buffer.from('#!/bin/sh\n'));
      await tar.addFile({ name: 'installer/big.bin', size: big.length }, Readable.from([big.subarray(0, 1000), big.subarray(1000)]));
      await tar.addFile({ name: longName, size: 3 }, Buffer.from('abc'));
      await tar.addFile({ name: `installer/${veryLongBase}`, size: 1 }, Buffer.from('z'));
      await tar.addSymlink('installer/latest', 'install.sh');
      await tar.finish();
      assert.equal(statSync(file).size % 512, 0);
      const x = join(dir, 'x');
      execFileSync('mkdir', [x]);
      execFileSync('tar', ['-xf', file, '-C', x]);
      assert.equal(readFileSync(join(x, 'installer/install.sh'), 'utf8'), '#!/bin/sh\n');
      assert.equal(statSync(join(x, 'installer/install.sh')).mode & 0o777, 0o755);
      assert.ok(readFileSync(join(x, 'installer/big.bin')).equals(big));
      assert.equal(readFileSync(join(x, longName), 'utf8'), 'abc');
      assert.equal(readFileSync(join(x, 'installer', veryLongBase), 'utf8'), 'z');
      assert.equal(readlinkSync(join(x, 'installer/latest')), 'install.sh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a source that fails part-way leaves a well-formed archive; writing the name again replaces it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      const file = join(dir, 'out.tar');
      const tar = new TarWriter(createWriteStream(file));
      const good = Buffer.alloc(100_000, 3);
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(70_000, 9));
          this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
        },
      });
      await assert.rejects(tar.addFile({ name: 'blobs/x', size: good.length }, failing), /connection reset/);
      await assert.rejects(tar.addFile({ name: 'short', size: 10 }, Readable.from([Buffer.alloc(4)])), /short: got 4 bytes, expected 10/);
      await assert.rejects(tar.addFile({ name: 'long', size: 2 }, Readable.from([Buffer.alloc(4)])), /more than the expected 2 bytes/);
      await tar.addFile({ name: 'blobs/x', size: good.length }, Readable.from([good]));
      await tar.addFile({ name: 'after', size: 5 }, Buffer.from('after'));
      await tar.finish();
      // GNU tar reads every entry (it would stop or complain at a misaligned header)
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' });
      assert.equal(listing, 'blobs/x\nshort\nlong\nblobs/x\nafter\n');
      const x = join(dir, 'x');
      execFileSync('mkdir', [x]);
      execFileSync('tar', ['-xf', file, '-C', x]);
      assert.ok(readFileSync(join(x, 'blobs/x')).equals(good), 'the later entry wins');
      assert.equal(readFileSync(join(x, 'after'), 'utf8'), 'after');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('headers are reproducible: mtime 0, uid/gid 0', () => {
    const a = tarHeader({ name: 'f', size: 1 });
    const b = tarHeader({ name: 'f', size: 1 });
    assert.ok(a.equals(b));
    assert.equal(a.subarray(136, 147).toString(), '00000000000');
  });
});

/** A stream that delivers `data` in small pieces, yielding to the event loop between them. */
function trickle(data: Buffer, piece: number, failAfter?: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (failAfter !== undefined && at >= failAfter) return this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
        if (at >= data.length) return this.push(null);
        this.push(data.subarray(at, at + piece));
        at += piece;
      });
    },
  });
}

describe('parallel tar file: entries written side by side at their own positions (checked with GNU tar)', () => {
  test('entries streaming at once land whole and in place; the sha256 from the hashing worker is the file\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptar-'));
    try {
      const file = join(dir, 'out.tar');
      const tar = await ParallelTarFile.open(file);
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(300_000 + i * 77_777, 65 + i));
      // all six stream in interleaved, small pieces; one is a Buffer; sizes cross the 512 KiB write batch
      await Promise.all([
        ...bodies.map((b, i) => tar.addFile({ name: `blobs/sha256/${i}`, size: b.length }, trickle(b, 4096 + i * 1000))),
        tar.addFile({ name: 'index.json', size: 2 }, Buffer.from('{}')),
      ]);
      const { size, sha256 } = await tar.finish();
      const bytes = readFileSync(file);
      assert.equal(size, bytes.length);
      assert.equal(size % 512, 0);
      assert.equal(sha256, createHash('sha256').update(bytes).digest('hex'));
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n').sort();
      assert.deepEqual(listing, ['blobs/sha256/0', 'blobs/sha256/1', 'blobs/sha256/2', 'blobs/sha256/3', 'blobs/sha256/4', 'blobs/sha256/5', 'index.json']);
      const x = join(dir, 'x');
      execFileSync('mkdir', [x]);
      execFileSync('tar', ['-xf', file, '-C', x]);
      bodies.forEach((b, i) => assert.ok(readFileSync(join(x, `blobs/sha256/${i}`)).equals(b), `entry ${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a source failing part-way while others stream: zero-filled, the archive stays well-formed, the name written again wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptar-'));
    try {
      const file = join(dir, 'out.tar');
      const tar = await ParallelTarFile.open(file);
      const good = Buffer.alloc(700_000, 3);
      const other = Buffer.alloc(600_001, 4);
      await Promise.all([
        assert.rejects(tar.addFile({ name: 'blobs/x', size: good.length }, trickle(Buffer.alloc(good.length, 9), 8192, 560_000)), /connection reset/),
        tar.addFile({ name: 'blobs/y', size: other.length }, trickle(other, 8192)),
        assert.rejects(tar.addFile({ name: 'short', size: 10 }, Readable.from([Buffer.alloc(4)])), /short: got 4 bytes, expected 10/),
      ]);
      await tar.addFile({ name: 'blobs/x', size: good.length }, trickle(good, 65536));
      const { sha256 } = await tar.finish();
      assert.equal(sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual([...listing].sort(), ['blobs/x', 'blobs/x', 'blobs/y', 'short']);
      const x = join(dir, 'x');
      execFileSync('mkdir', [x]);
      execFileSync('tar', ['-xf', file, '-C', x]);
      assert.ok(readFileSync(join(x, 'blobs/x')).equals(good), 'the later entry wins');
      assert.ok(readFileSync(join(x, 'blobs/y')).equals(other));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a write error (ENOSPC on /dev/full) fails that entry and every later one', async () => {
    const tar = await ParallelTarFile.open('/dev/full');
    try {
      await assert.rejects(tar.addFile({ name: 'a', size: 3 }, Buffer.from('abc')), /ENOSPC/);
      await assert.rejects(tar.addFile({ name: 'b', size: 3 }, Buffer.from('abc')), /ENOSPC/);
      await assert.rejects(tar.finish(), /ENOSPC/);
    } finally {
      await tar.abort();
    }
  });
});
