import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../src/lib/errors.js';
import { backoffDelay, isRetryable, retry, retryAfterMs, RetryableError } from '../../src/lib/retry.js';

function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    sleeps,
  };
}

const netErr = (code: string) => Object.assign(new Error(code), { code });

describe('retry', () => {
  test('retries resets, 5xx and 429 until success', async () => {
    const c = fakeClock();
    const errors = [netErr('ECONNRESET'), new HttpError(503, 'unavailable'), new HttpError(429, 'slow down')];
    let calls = 0;
    const v = await retry(
      async () => {
        calls++;
        const e = errors.shift();
        if (e) throw e;
        return 'ok';
      },
      { now: c.now, sleep: c.sleep, random: () => 0.5 },
    );
    assert.equal(v, 'ok');
    assert.equal(calls, 4);
    assert.equal(c.sleeps.length, 3);
  });

  test('does not retry a 404, a 401 or a plain error', async () => {
    for (const e of [new HttpError(404, 'nope'), new HttpError(401, 'denied'), new Error('bug')]) {
      let calls = 0;
      await assert.rejects(
        retry(
          async () => {
            calls++;
            throw e;
          },
          { sleep: async () => undefined },
        ),
        e,
      );
      assert.equal(calls, 1);
    }
  });

  test('honours Retry-After (seconds) over a shorter backoff', async () => {
    const c = fakeClock();
    let calls = 0;
    await retry(
      async () => {
        if (calls++ === 0) throw new HttpError(429, 'busy', { 'Retry-After': '7' });
        return 1;
      },
      { now: c.now, sleep: c.sleep, random: () => 0 },
    );
    assert.deepEqual(c.sleeps, [7000]);
  });

  test('Retry-After as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(new HttpError(503, 'x', { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now), 30_000);
  });

  test('bounded attempts: the last error is thrown', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new HttpError(500, `boom ${calls}`);
        },
        { attempts: 3, sleep: async () => undefined },
      ),
      /boom 3/,
    );
    assert.equal(calls, 3);
  });

  test('bounded total time: no retry that would end past maxTotalMs', async () => {
    const c = fakeClock();
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw new HttpError(503, 'down', { 'retry-after': '120' });
        },
        { attempts: 10, maxTotalMs: 60_000, now: c.now, sleep: c.sleep },
      ),
      /down/,
    );
    assert.equal(calls, 1);
  });

  test('full jitter stays within [0, min(max, base*2^n))', () => {
    assert.equal(
      backoffDelay(1, 100, 1000, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelay(5, 100, 1000, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelay(3, 100, 1000, () => 0),
      0,
    );
  });

  test('classification', () => {
    assert.ok(isRetryable(netErr('ETIMEDOUT')));
    assert.ok(isRetryable(new RetryableError('digest mismatch')));
    assert.ok(isRetryable(new Error('fetch failed', { cause: netErr('UND_ERR_SOCKET') })));
    assert.ok(isRetryable(new HttpError(408, 'timeout')));
    assert.ok(!isRetryable(new HttpError(501, 'not implemented')));
    assert.ok(!isRetryable(new HttpError(403, 'forbidden')));
  });
});
