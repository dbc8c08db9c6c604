// readBody: a body cut off by the server is a network error (retried); only the size limit is its own.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpSend, readBody } from '../../src/lib/http.js';
import { isRetryable, retry } from '../../src/lib/retry.js';

describe('readBody', () => {
  let cut = 1;
  const server = createServer((req, res) => {
    const body = Buffer.alloc(64 * 1024, 'x');
    res.writeHead(200, { 'content-length': String(body.length) });
    if (cut-- > 0) {
      res.write(body.subarray(0, 1000));
      setTimeout(() => res.socket?.destroy(), 20); // the connection breaks halfway
    } else res.end(body);
  });
  const ready = new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = async () => (await ready, new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`));
  after(() => server.close());

  test('a body cut off halfway is retryable, and a retry reads it whole', async () => {
    cut = 1;
    const u = await url();
    const err = await readBody((await httpSend({ method: 'GET', url: u })).body).catch((e: unknown) => e);
    assert.ok(err instanceof Error, 'the cut body fails');
    assert.ok(isRetryable(err), `retryable: ${String(err)} (${(err as NodeJS.ErrnoException).code})`);
    cut = 1;
    const body = await retry(async () => readBody((await httpSend({ method: 'GET', url: u })).body), { baseDelayMs: 1, attempts: 3 });
    assert.equal(body.length, 64 * 1024);
  });

  test('a body over the limit is an error naming the limit, not retried', async () => {
    cut = 0;
    const err = await readBody((await httpSend({ method: 'GET', url: await url() })).body, 1000).catch((e: unknown) => e);
    assert.match(String(err), /response body larger than 1000 bytes/);
    assert.equal(isRetryable(err), false);
  });
});
