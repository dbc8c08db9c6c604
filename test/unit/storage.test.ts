// The file:// and http(s):// stores in process (an http server inside the test): what is sent,
// what a store's answer is held to, and what never stays under an object's name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { configureLog } from '../../src/lib/log.js';
import { openStorage } from '../../src/lib/storage/open.js';
import { selectFiles } from '../../src/lib/storage/select.js';
import { uploadAll, type UploadAllOptions } from '../../src/lib/storage/upload.js';
import { listEntries } from '../../src/lib/list.js';
import { tempFolder } from '../support/temp-folder.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const logged: string[] = [];
const OPTS = (stateDir: string): UploadAllOptions => ({
  concurrency: 2,
  partSize: 8 * 1024 * 1024,
  partConcurrency: 2,
  skipUnchanged: true,
  verify: true,
  dryRun: false,
  resume: false,
  stateDir,
});

function release(): { dir: string; files: string[] } {
  const dir = tempFolder('al-store-src-');
  writeFileSync(join(dir, 'app-1.0.tar.gz'), Buffer.alloc(300_000, 7));
  writeFileSync(join(dir, 'SHA256SUMS'), `${sha(Buffer.alloc(300_000, 7))}  app-1.0.tar.gz\n`);
  return { dir, files: [join(dir, 'app-1.0.tar.gz'), join(dir, 'SHA256SUMS')] };
}

describe('file:// store (in process)', () => {
  test('files land whole under their keys; a second run skips them; nothing temporary is left', async () => {
    configureLog({ mode: 'cli', write: (l) => logged.push(l) });
    const src = release();
    const out = tempFolder('al-store-out-');
    const storage = openStorage(`file://${out}/releases/1.0`, {});
    const files = await selectFiles(listEntries(src.files.join('\n')));
    const first = await uploadAll(files, storage, OPTS(join(out, '.state')));
    assert.deepEqual(
      first.map((o) => o.status),
      ['uploaded', 'uploaded'],
    );
    for (const f of src.files) assert.ok(readFileSync(join(out, 'releases/1.0', f.split('/').pop()!)).equals(readFileSync(f)));
    assert.deepEqual(readdirSync(join(out, 'releases/1.0')).sort(), ['SHA256SUMS', 'app-1.0.tar.gz']);
    const again = await uploadAll(files, storage, OPTS(join(out, '.state')));
    assert.deepEqual(
      again.map((o) => o.status),
      ['skipped', 'skipped'],
    );
  });
});

describe('http(s):// store (in process)', () => {
  let server: Server;
  let base: string;
  const objects = new Map<string, Buffer>();
  const requests: { method: string; path: string; auth?: string; sha?: string }[] = [];
  /** what the server does next, per path: answer 503 once, or claim a wrong sha256 */
  const quirks = new Map<string, 'busy' | 'lie' | 'deny'>();
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  before(async () => {
    server = createServer((req, res) => {
      void (async () => {
        const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
        requests.push({ method: req.method!, path, auth: req.headers.authorization, sha: req.headers['x-checksum-sha256'] as string | undefined });
        if (req.headers.authorization !== 'Bearer upload-token-1234') return res.writeHead(401).end('bad token');
        if (req.method === 'HEAD') {
          const o = objects.get(path);
          if (!o) return res.writeHead(404).end();
          return res.writeHead(200, { 'content-length': o.length, 'x-checksum-sha256': sha(o) }).end();
        }
        if (req.method === 'DELETE') {
          objects.delete(path);
          return res.writeHead(204).end();
        }
        const data = await body(req);
        const quirk = quirks.get(path);
        quirks.delete(path);
        if (quirk === 'busy') return res.writeHead(503).end('try later');
        if (quirk === 'deny') return res.writeHead(403).end('read-only bucket');
        objects.set(path, data);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sha256: quirk === 'lie' ? sha('something else') : sha(data) }));
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('each file PUT with the token and its sha256; a 503 is retried; a store that received other bytes has them removed and is sent the file again', async () => {
    configureLog({ mode: 'cli', write: (l) => logged.push(l) });
    const src = release();
    const state = tempFolder('al-store-state-');
    const storage = openStorage(`${base}/1.0`, { token: 'upload-token-1234' });
    quirks.set('/upload/1.0/app-1.0.tar.gz', 'busy');
    quirks.set('/upload/1.0/SHA256SUMS', 'lie');
    const files = await selectFiles(listEntries(src.files.join('\n')));
    const r = await uploadAll(files, storage, { ...OPTS(state), skipUnchanged: false });
    assert.deepEqual(
      r.map((o) => [o.key, o.status, o.verified]),
      [
        ['app-1.0.tar.gz', 'uploaded', 'sha256 confirmed by the server'],
        ['SHA256SUMS', 'uploaded', 'sha256 confirmed by the server'],
      ],
    );
    for (const f of src.files) assert.ok(objects.get(`/upload/1.0/${f.split('/').pop()}`)!.equals(readFileSync(f)));
    const puts = (p: string) => requests.filter((q) => q.method === 'PUT' && q.path === p);
    assert.equal(puts('/upload/1.0/app-1.0.tar.gz').length, 2, 'the 503 was retried');
    assert.equal(puts('/upload/1.0/SHA256SUMS').length, 2, 'sent again after the mismatch');
    assert.ok(
      requests.some((q) => q.method === 'DELETE' && q.path === '/upload/1.0/SHA256SUMS'),
      'what the server claimed to hold was removed first',
    );
    assert.ok(requests.every((q) => q.auth === 'Bearer upload-token-1234'));
    assert.equal(puts('/upload/1.0/app-1.0.tar.gz')[0].sha, sha(readFileSync(src.files[0])));
    assert.ok(logged.some((l) => /received sha256 .*; removed it, uploading again/.test(l)));
  });

  test('a refusal names the object and says to check the token; the token is never printed', async () => {
    const lines: string[] = [];
    configureLog({ mode: 'cli', write: (l) => lines.push(l) });
    const src = release();
    const state = tempFolder('al-store-state-');
    const wrong = openStorage(`${base}/1.0`, { token: 'wrong-token-5678' });
    const files = await selectFiles(listEntries(src.files[0]));
    const err = await uploadAll(files, wrong, { ...OPTS(state), skipUnchanged: false }).catch((e: Error) => e);
    assert.match(String(err), /app-1\.0\.tar\.gz: the server refused the upload \(401: bad token\); check the token/);
    quirks.set('/upload/ro/app-1.0.tar.gz', 'deny');
    const denied = await uploadAll(files, openStorage(`${base}/ro`, { token: 'upload-token-1234' }), { ...OPTS(state), skipUnchanged: false }).catch((e: Error) => e);
    assert.match(String(denied), /refused the upload \(403: read-only bucket\)/);
    assert.ok(!`${String(err)}${String(denied)}${lines.join('\n')}`.includes('token-5678'), 'the token stays out of messages');
  });
});
