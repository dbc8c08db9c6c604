import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RESERVED_HEADER, TAR_END, TarWriter, reservedTarHeader, tarHeader, tarPadding } from '../../src/lib/archive/tar.js';
import { TarIndex } from '../../src/lib/archive/tar-index.js';
import { tarDirectory } from '../../src/lib/offline/components.js';
import { truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { ParallelTarFile } from '../../src/lib/archive/tar-file.js';
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { ArchiveWriter } from '../../src/lib/image/archive-writer.js';

/** Runs `fn` in a new temporary directory, removed afterwards. */
async function inTempDir(prefix: string, fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Extracts a tar with GNU tar into a new directory; returns the directory. */
function untar(file: string, into: string): string {
  mkdirSync(into);
  execFileSync('tar', ['-xf', file, '-C', into]);
  return into;
}

describe('tar writer (checked with GNU tar)', () => {
  test('files, directories, symlinks, long names and modes extract as written', async () => {
    await inTempDir('tar-', async (dir) => {
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
      const x = untar(file, join(dir, 'x'));
      assert.equal(readFileSync(join(x, 'installer/install.sh'), 'utf8'), '#!/bin/sh\n');
      assert.equal(statSync(join(x, 'installer/install.sh')).mode & 0o777, 0o755);
      assert.ok(readFileSync(join(x, 'installer/big.bin')).equals(big));
      assert.equal(readFileSync(join(x, longName), 'utf8'), 'abc');
      assert.equal(readFileSync(join(x, 'installer', veryLongBase), 'utf8'), 'z');
      assert.equal(readlinkSync(join(x, 'installer/latest')), 'install.sh');
    });
  });

  test('a source that fails part-way leaves a well-formed archive; writing the name again replaces it', async () => {
    await inTempDir('tar-', async (dir) => {
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
      const x = untar(file, join(dir, 'x'));
      assert.ok(readFileSync(join(x, 'blobs/x')).equals(good), 'the later entry wins');
      assert.equal(readFileSync(join(x, 'after'), 'utf8'), 'after');
    });
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
  test("entries streaming at once land whole and in place; the sha256 from the hashing worker is the file's", async () => {
    await inTempDir('ptar-', async (dir) => {
      const file = join(dir, 'out.tar');
      const tar = await ParallelTarFile.open(file);
      const bodies = Array.from({ length: 6 }, (_, i) => Buffer.alloc(300_000 + i * 77_777, 65 + i));
      // all six stream in interleaved, small pieces; one is a Buffer; sizes cross the 512 KiB write batch
      // a name too long to split takes a pax header (1536 bytes, not 512): its region must allow for it
      const longName = `${'x'.repeat(150)}.json`;
      await Promise.all([
        ...bodies.map((b, i) => tar.addFile({ name: `blobs/sha256/${i}`, size: b.length }, trickle(b, 4096 + i * 1000))),
        tar.addFile({ name: longName, size: 9 }, trickle(Buffer.from('long name'), 3)),
        tar.addFile({ name: 'index.json', size: 2 }, Buffer.from('{}')),
      ]);
      const { size, sha256 } = await tar.finish();
      const bytes = readFileSync(file);
      assert.equal(size, bytes.length);
      assert.equal(size % 512, 0);
      assert.equal(sha256, createHash('sha256').update(bytes).digest('hex'));
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n').sort();
      assert.deepEqual(listing, ['blobs/sha256/0', 'blobs/sha256/1', 'blobs/sha256/2', 'blobs/sha256/3', 'blobs/sha256/4', 'blobs/sha256/5', 'index.json', longName]);
      const x = untar(file, join(dir, 'x'));
      bodies.forEach((b, i) => assert.ok(readFileSync(join(x, `blobs/sha256/${i}`)).equals(b), `entry ${i}`));
      assert.equal(readFileSync(join(x, longName), 'utf8'), 'long name');
      assert.equal(readFileSync(join(x, 'index.json'), 'utf8'), '{}');
    });
  });

  test('reserved entries land in the order reserved whatever order they are written in; one never written stops finish()', async () => {
    await inTempDir('rtar-', async (dir) => {
      const write = async (file: string, order: number[]) => {
        const tar = await ParallelTarFile.open(file);
        const bodies = [Buffer.alloc(1000, 97), Buffer.alloc(70_000, 98), Buffer.alloc(3, 99)];
        for (const [i, b] of bodies.entries()) tar.reserve({ name: `e${i}`, size: b.length });
        for (const i of order) await tar.addFile({ name: `e${i}`, size: bodies[i].length }, bodies[i]);
        await tar.addFile({ name: 'last', size: 1 }, Buffer.from('z'));
        return tar.finish();
      };
      const a = await write(join(dir, 'a.tar'), [2, 0, 1]);
      const b = await write(join(dir, 'b.tar'), [1, 2, 0]);
      assert.equal(a.sha256, b.sha256);
      assert.deepEqual(readFileSync(join(dir, 'a.tar')), readFileSync(join(dir, 'b.tar')));
      assert.deepEqual(
        execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' })
          .trim()
          .split('\n'),
        ['e0', 'e1', 'e2', 'last'],
      );
      const tar = await ParallelTarFile.open(join(dir, 'c.tar'));
      tar.reserve({ name: 'never', size: 10 });
      await assert.rejects(tar.finish(), /entries planned or failed and never written \(never\)/);
      await tar.abort();
    });
  });

  test('a source failing part-way while others stream: a retry writes the entry again in its own place, never a second entry of the name', async () => {
    await inTempDir('ptar-', async (dir) => {
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
      // a failed entry never written again: the archive cannot be finished
      await assert.rejects(tar.finish(), /never written \(short\)/);
      await assert.rejects(tar.addFile({ name: 'short', size: 11 }, Buffer.alloc(11)), /short: 11 bytes, but 10 were planned for it/);
      await tar.addFile({ name: 'short', size: 10 }, Buffer.alloc(10, 5));
      const { sha256 } = await tar.finish();
      assert.equal(sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
      const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual(listing, ['blobs/x', 'blobs/y', 'short'], 'each name once, in the order first started');
      const x = untar(file, join(dir, 'x'));
      assert.ok(readFileSync(join(x, 'blobs/x')).equals(good), 'the retried entry holds the good bytes');
      assert.ok(readFileSync(join(x, 'blobs/y')).equals(other));
      assert.ok(readFileSync(join(x, 'short')).equals(Buffer.alloc(10, 5)));
    });
  });

  test('the last entry so far failing part-way: the hash waits for its retry, which fills the same region', async () => {
    await inTempDir('ptar-', async (dir) => {
      const file = join(dir, 'out.tar');
      const tar = await ParallelTarFile.open(file);
      await tar.addFile({ name: 'first', size: 5 }, Buffer.from('first'));
      const body = Buffer.alloc(900_000, 1);
      await assert.rejects(tar.addFile({ name: 'cut', size: body.length }, trickle(Buffer.alloc(body.length, 2), 65536, 600_000)), /connection reset/);
      // give the hashing worker time to read whatever it was told it could
      await new Promise((r) => setTimeout(r, 200));
      await tar.addFile({ name: 'cut', size: body.length }, trickle(body, 65536));
      const { size, sha256 } = await tar.finish();
      const bytes = readFileSync(file);
      assert.equal(size, bytes.length);
      assert.equal(sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.deepEqual(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n'), ['first', 'cut']);
      assert.ok(readFileSync(join(untar(file, join(dir, 'x')), 'cut')).equals(body));
    });
  });

  test('short writes (a nearly full disk writes less than asked) are carried on until every byte is down', async () => {
    await inTempDir('ptar-', async (dir) => {
      const file = join(dir, 'out.tar');
      let calls = 0;
      // a real file handle whose writes take at most 3000 bytes at a time
      const shortWriting = async (path: string, flags: string): Promise<FileHandle> => {
        const fh = await open(path, flags);
        return new Proxy(fh, {
          get(target, prop) {
            if (prop === 'write') return (b: Buffer, off: number, len: number, pos: number) => (calls++, target.write(b, off, Math.min(len, 3000), pos));
            if (prop === 'writev')
              return (bufs: Buffer[], pos: number) => (
                calls++,
                target.write(
                  Buffer.concat(bufs).subarray(0, 3000),
                  0,
                  Math.min(
                    3000,
                    bufs.reduce((n, b) => n + b.length, 0),
                  ),
                  pos,
                )
              );
            const v = Reflect.get(target, prop) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      };
      const tar = await ParallelTarFile.open(file, shortWriting);
      const a = Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251));
      const b = Buffer.alloc(700_000, 5);
      await Promise.all([tar.addFile({ name: 'a', size: a.length }, a), tar.addFile({ name: 'b', size: b.length }, trickle(b, 65536))]);
      const { size, sha256 } = await tar.finish();
      assert.ok(calls > 240, `writes were cut short (${calls} calls for ~740 KB)`);
      const bytes = readFileSync(file);
      assert.equal(size, bytes.length);
      assert.equal(sha256, createHash('sha256').update(bytes).digest('hex'));
      const x = untar(file, join(dir, 'x'));
      assert.ok(readFileSync(join(x, 'a')).equals(a));
      assert.ok(readFileSync(join(x, 'b')).equals(b));
    });
  });

  test('archive writer: writers of one digest take turns; a failed copy never lands after the good one; same-tick writers write once', async () => {
    await inTempDir('aw-', async (dir) => {
      const good = Buffer.alloc(600_000, 7);
      const digest = `sha256:${createHash('sha256').update(good).digest('hex')}` as const;
      const desc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: good.length };
      const writer = new ArchiveWriter(join(dir, 'out.tar'), 'oci-archive');
      const failing = trickle(Buffer.alloc(good.length, 9), 8192, 560_000);
      // B and C wait for A; A fails; B writes; C then finds it written. D and E start in the same tick.
      const results = await Promise.allSettled([writer.writeBlob(desc, failing), writer.writeBlob(desc, trickle(good, 65536)), writer.writeBlob(desc, trickle(good, 65536))]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['rejected', 'fulfilled', 'fulfilled'],
      );
      const other = Buffer.alloc(300_000, 8);
      const otherDesc = { ...desc, digest: `sha256:${createHash('sha256').update(other).digest('hex')}` as const, size: other.length };
      await Promise.all([writer.writeBlob(otherDesc, trickle(other, 65536)), writer.writeBlob(otherDesc, trickle(other, 65536))]);
      await writer.finish();
      const listing = execFileSync('tar', ['-tf', join(dir, 'out.tar')], { encoding: 'utf8' })
        .trim()
        .split('\n');
      const hex = digest.slice(7);
      assert.equal(listing.filter((n) => n === `blobs/sha256/${hex}`).length, 1, "the good copy took the failed one's place");
      assert.equal(listing.filter((n) => n === `blobs/sha256/${otherDesc.digest.slice(7)}`).length, 1, 'same-tick writers wrote once');
      const x = untar(join(dir, 'out.tar'), join(dir, 'x'));
      assert.ok(readFileSync(join(x, 'blobs', 'sha256', hex)).equals(good), 'the one copy of the name is the good one');
    });
  });

  test("an archive writer left unfinished does not keep the process alive (the hashing worker is unref'd)", async () => {
    await inTempDir('aw-', async (dir) => {
      const src = join(import.meta.dirname, '..', '..', 'src', 'lib', 'image', 'archive-writer.ts');
      const script = `import('${src}').then(async ({ ArchiveWriter }) => { const w = new ArchiveWriter('${join(dir, 'never.tar')}', 'oci-archive'); await w.writeBlob({ mediaType: 'x', digest: 'sha256:${'0'.repeat(64)}', size: 2 }, Buffer.from('hi')); console.log('left'); })`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.signal, null, 'the process exited by itself');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'left');
    });
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

describe('reserved headers (a place kept for a header before the size is known) and appending to a tar', () => {
  test('always RESERVED_HEADER bytes: a plain header after two entries for its directory, or one with a pax header; tar and our index read them', async () => {
    await inTempDir('rtar-', async (dir) => {
      const cases = [
        { name: 'root-1.0/images/images.tar', size: 1000 },
        { name: `${'r'.repeat(160)}/images/images.tar`, size: 700 },
      ];
      for (const [i, c] of cases.entries()) {
        const dirName = c.name.slice(0, c.name.lastIndexOf('/'));
        const h = reservedTarHeader(c, c.name.length > 100 ? 'root-1.0/images' : dirName);
        assert.equal(h.length, RESERVED_HEADER);
        const data = Buffer.alloc(c.size, 65 + i);
        const file = join(dir, `t${i}.tar`);
        writeFileSync(file, Buffer.concat([h, data, tarPadding(c.size), TAR_END]));
        const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
        assert.equal(listing.at(-1), c.name);
        const idx = await TarIndex.open(file);
        assert.equal(idx.entries.get(c.name)?.size, c.size);
        assert.equal(idx.entries.get(c.name)?.offset, RESERVED_HEADER);
        const x = untar(file, join(dir, `x${i}`));
        assert.ok(readFileSync(join(x, c.name)).equals(data));
      }
      // a plain header is filled out with its directory, not with a pax header
      assert.deepEqual(
        execFileSync('tar', ['-tf', join(dir, 't0.tar')], { encoding: 'utf8' })
          .trim()
          .split('\n'),
        ['root-1.0/images/', 'root-1.0/images/', 'root-1.0/images/images.tar'],
      );

      // over 8 GiB needs a pax size record: a sparse file stands in for the data
      const huge = 8 * 1024 ** 3 + 5;
      const h = reservedTarHeader({ name: 'root-1.0/images/images.tar', size: huge }, 'root-1.0/images');
      assert.equal(h.length, RESERVED_HEADER);
      const file = join(dir, 'huge.tar');
      writeFileSync(file, h);
      truncateSync(file, RESERVED_HEADER + huge + tarPadding(huge).length + TAR_END.length);
      const idx = await TarIndex.open(file);
      assert.equal(idx.entries.get('root-1.0/images/images.tar')?.size, huge);
      assert.throws(() => reservedTarHeader({ name: 'a/b', size: 1 }, 'd'.repeat(300)), /too long to fill a reserved header/);
    });
  });

  test('tarDirectory appends at an offset; a write error (disk full) is an error, not a crash', async () => {
    await inTempDir('rtar-', async (dir) => {
      mkdirSync(join(dir, 'tree', 'sub'), { recursive: true });
      writeFileSync(join(dir, 'tree', 'sub', 'f.txt'), 'hello');
      const head = Buffer.concat([tarHeader({ name: 'first', size: 3 }), Buffer.from('abc'), tarPadding(3)]);
      const file = join(dir, 'out.tar');
      writeFileSync(file, head);
      const r = await tarDirectory(join(dir, 'tree'), 'p', file, { start: head.length });
      assert.equal(readFileSync(file).length, head.length + r.size);
      assert.deepEqual(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n'), ['first', 'p/', 'p/sub/', 'p/sub/f.txt']);
      await assert.rejects(tarDirectory(join(dir, 'tree'), 'p', '/dev/full'), /ENOSPC/);
    });
  });
});

describe('tar index', () => {
  test('a tar nested inside another is indexed where it lies: offsets point into the outer file; a cut-off nested tar is refused', async () => {
    await inTempDir('itar-', async (dir) => {
      mkdirSync(join(dir, 'inner'));
      writeFileSync(join(dir, 'inner', 'a.txt'), 'alpha\n');
      writeFileSync(join(dir, 'inner', 'b.bin'), Buffer.alloc(1500, 7));
      execFileSync('tar', ['-cf', join(dir, 'inner.tar'), '-C', join(dir, 'inner'), 'a.txt', 'b.bin']);
      writeFileSync(join(dir, 'pad.txt'), 'x'.repeat(700));
      execFileSync('tar', ['-cf', join(dir, 'outer.tar'), '-C', dir, 'pad.txt', 'inner.tar']);
      const outer = await TarIndex.open(join(dir, 'outer.tar'));
      const e = outer.get('inner.tar')!;
      assert.ok(e.offset > 512, 'the nested tar does not start at the beginning');
      const inner = await TarIndex.open(join(dir, 'outer.tar'), 'outer.tar: inner.tar', { start: e.offset, size: e.size });
      assert.deepEqual([...inner.entries.keys()], ['a.txt', 'b.bin']);
      assert.equal((await inner.read('a.txt')).toString(), 'alpha\n');
      assert.deepEqual(await inner.read('b.bin'), Buffer.alloc(1500, 7));
      assert.equal(inner.get('b.bin')!.offset, e.offset + 512 * 3, 'an offset in the outer file');
      // the region ends before b.bin's data does: the nested tar is cut short
      await assert.rejects(
        TarIndex.open(join(dir, 'outer.tar'), 'outer.tar: inner.tar', { start: e.offset, size: 512 * 3 + 1000 }),
        /outer\.tar: inner\.tar: truncated \(entry at byte 1024 needs 1500 bytes\)/,
      );
    });
  });
});

describe('directory index (a layout or an unpacked bundle read like a tar)', () => {
  test('files by path, links inside followed, a link out of the root refused naming it; reads stop at the indexed size', async () => {
    const { DirIndex } = await import('../../src/lib/archive/dir-index.js');
    await inTempDir('didx-', async (dir) => {
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      writeFileSync(join(dir, 'index.json'), '{}');
      writeFileSync(join(dir, 'blobs', 'sha256', 'abc'), 'layer');
      symlinkSync('blobs/sha256/abc', join(dir, 'alias'));
      const idx = await DirIndex.open(dir);
      assert.deepEqual([...idx.entries.keys()], ['alias', 'blobs', 'blobs/sha256', 'blobs/sha256/abc', 'index.json']);
      assert.equal((await idx.read('alias')).toString(), 'layer');
      assert.deepEqual(idx.bytesOf('blobs/sha256/abc'), { file: join(dir, 'blobs', 'sha256', 'abc'), region: { start: 0, size: 5 } });
      writeFileSync(join(dir, 'blobs', 'sha256', 'abc'), 'layer grown since');
      assert.equal((await idx.read('blobs/sha256/abc')).toString(), 'layer');
      symlinkSync('/etc/passwd', join(dir, 'evil'));
      await assert.rejects(DirIndex.open(dir), /symlink "evil" points outside the archive's root \("\/etc\/passwd"\)/);
    });
  });
});
