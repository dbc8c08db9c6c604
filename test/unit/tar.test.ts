import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TarWriter, tarHeader } from '../../src/lib/archive/tar.js';

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
