// The multipart routine S3 and OSS share, in process against a store kept in memory: which parts
// go up, what a failure leaves behind, what a resumed run sends, and when it starts over.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { configureLog } from '../../src/lib/log.js';
import { uploadMultipart, type MultipartCalls } from '../../src/lib/storage/multipart.js';
import { CheckpointFile } from '../../src/lib/storage/checkpoint.js';
import type { LocalFile, UploadOptions } from '../../src/lib/storage/types.js';
import { sha256Digest } from '../support/oci.js';
import { tempFolder } from '../support/temp-folder.js';

const SIZE = 10 * 1000 + 7;
const PART = 1000;
const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 31) % 251));
const file: LocalFile = { path: '/mem/file', key: 'file', size: SIZE, sha256: sha256Digest(bytes).slice(7), partSize: PART };

class Store {
  uploads = new Map<string, Map<number, Buffer>>();
  objects = new Map<string, Buffer>();
  aborted: string[] = [];
  partCalls: number[] = [];
  private next = 1;
  /** part numbers that fail (once each, or always), with an error that is or is not worth a retry */
  fail = new Map<number, { times: number; retryable: boolean }>();
  calls(): MultipartCalls<string> {
    return {
      store: 'mem',
      url: 'mem://bucket/file',
      create: async () => {
        const id = `upload-${this.next++}`;
        this.uploads.set(id, new Map());
        return id;
      },
      abort: async (id) => {
        this.aborted.push(id);
        this.uploads.delete(id);
      },
      uploadPart: async (id, n, start, end) => {
        this.partCalls.push(n);
        const parts = this.uploads.get(id);
        if (!parts) throw Object.assign(new Error(`NoSuchUpload ${id}`), { gone: true });
        const f = this.fail.get(n);
        if (f && f.times-- > 0) throw Object.assign(new Error(`part ${n}: ${f.retryable ? 'connection reset' : 'access denied'}`), { retryable: f.retryable });
        parts.set(n, bytes.subarray(start, end));
        return `"etag-${n}"`;
      },
      complete: async (id, etags) => {
        const parts = this.uploads.get(id)!;
        assert.deepEqual(
          etags,
          [...parts.keys()].sort((a, b) => a - b).map((n) => `"etag-${n}"`),
        );
        const whole = Buffer.concat([...parts.entries()].sort(([a], [b]) => a - b).map(([, b]) => b));
        this.objects.set('file', whole);
        this.uploads.delete(id);
        return id;
      },
      isGone: (err) => (err as { gone?: boolean }).gone === true,
      retryable: (err) => (err as { retryable?: boolean }).retryable === true,
    };
  }
}

function options(stateDir: string, resume: boolean): UploadOptions {
  return { contentType: 'application/octet-stream', partConcurrency: 3, verify: true, resume, stateDir, open: () => Readable.from([]) };
}
const checkpoints = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('multipart upload (in process)', () => {
  test('every part goes up once, in order at completion; the checkpoint is gone after', async () => {
    configureLog({ mode: 'cli', write: () => {} });
    const dir = tempFolder('al-mp-');
    const store = new Store();
    const r = await uploadMultipart(file, options(dir, true), store.calls());
    assert.equal(r.sent, 11);
    assert.ok(store.objects.get('file')!.equals(bytes));
    assert.deepEqual(
      [...store.partCalls].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    assert.deepEqual(checkpoints(dir), []);
  });

  test('with resume, a failed part leaves the checkpoint and the upload; the next run sends only what is missing', async () => {
    const dir = tempFolder('al-mp-');
    const store = new Store();
    store.fail.set(7, { times: 1, retryable: false });
    await assert.rejects(uploadMultipart(file, options(dir, true), store.calls()), /part 7: access denied/);
    assert.equal(checkpoints(dir).length, 1);
    assert.equal(store.uploads.size, 1, 'the upload is kept for the next run');
    assert.deepEqual(store.aborted, []);
    const before = store.partCalls.length;
    const r = await uploadMultipart(file, options(dir, true), store.calls());
    const again = store.partCalls.slice(before);
    assert.ok(again.includes(7));
    assert.equal(r.sent, again.length);
    assert.ok(r.sent < 11, `only the missing parts (${again.join(',')})`);
    assert.ok(store.objects.get('file')!.equals(bytes));
    assert.deepEqual(checkpoints(dir), []);
  });

  test('a resumed upload the store no longer has is started over; without resume a failure aborts and leaves nothing', async () => {
    const dir = tempFolder('al-mp-');
    const store = new Store();
    store.fail.set(3, { times: 1, retryable: false });
    await assert.rejects(uploadMultipart(file, options(dir, true), store.calls()));
    store.uploads.clear(); // expired in the bucket
    const r = await uploadMultipart(file, options(dir, true), store.calls());
    assert.equal(r.sent, 11, 'a new upload: every part');
    assert.ok(store.objects.get('file')!.equals(bytes));

    const off = tempFolder('al-mp-');
    const s2 = new Store();
    s2.fail.set(5, { times: 1, retryable: false });
    await assert.rejects(uploadMultipart(file, options(off, false), s2.calls()));
    assert.deepEqual(s2.aborted, ['upload-1']);
    assert.equal(s2.uploads.size, 0);
    assert.deepEqual(checkpoints(off), []);
  });

  test('checkpoint saves that come while one is written are folded into the next, and none is lost', async () => {
    const cp = new CheckpointFile(tempFolder('al-mp-'), 'identity');
    const state = { url: 'mem://bucket/file', uploadId: 'upload-9', parts: {} as Record<number, string> };
    const saves: Promise<void>[] = [];
    for (let n = 1; n <= 40; n++) {
      state.parts[n] = `"etag-${n}"`;
      const p = cp.save(state);
      // when a save has settled, the file holds at least what it was given
      saves.push(p.then(() => assert.ok(Object.keys((JSON.parse(readFileSync(cp.path, 'utf8')) as typeof state).parts).length >= n, `save ${n}`)));
    }
    await Promise.all(saves);
    assert.equal(Object.keys((await cp.load())!.parts).length, 40);
  });

  test('once a part has failed for good, the others stop retrying: the failure is reported at once', async () => {
    const dir = tempFolder('al-mp-');
    const store = new Store();
    store.fail.set(2, { times: 100, retryable: true }); // would retry for seconds
    store.fail.set(3, { times: 1, retryable: false });
    const t0 = Date.now();
    await assert.rejects(uploadMultipart(file, options(dir, false), store.calls()), /part 3: access denied/);
    assert.ok(Date.now() - t0 < 200, `reported in ${Date.now() - t0} ms`);
    assert.ok(store.partCalls.filter((n) => n === 2).length <= 2, 'part 2 was not retried on');
    assert.deepEqual(store.aborted, ['upload-1']);
  });

  test('a part failing with a transient error is sent again and the upload completes', async () => {
    const dir = tempFolder('al-mp-');
    const store = new Store();
    store.fail.set(2, { times: 1, retryable: true });
    const r = await uploadMultipart(file, options(dir, false), store.calls());
    assert.equal(store.partCalls.filter((n) => n === 2).length, 2);
    assert.equal(r.sent, 11);
    assert.ok(store.objects.get('file')!.equals(bytes));
  });
});
