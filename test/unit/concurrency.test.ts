import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mapLimit } from '../../src/lib/concurrency.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimit', () => {
  test('results in input order, never more than the limit at once', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (x) => {
      peak = Math.max(peak, ++active);
      await tick(x * 3);
      active--;
      return x * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });

  test('after a failure nothing new starts, and the call settles only when the running ones have', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const err = await mapLimit([1, 2, 3, 4, 5, 6, 7, 8], 3, async (x) => {
      started.push(x);
      if (x === 2) throw new Error('part 2 refused');
      await tick(30);
      finished.push(x);
      return x;
    }).catch((e: Error) => e);
    assert.match(String(err), /part 2 refused/);
    assert.deepEqual(started, [1, 2, 3], 'nothing started after the failure');
    assert.deepEqual(finished.sort(), [1, 3], 'the running ones were done when the call settled');
    await tick(60);
    assert.deepEqual(started, [1, 2, 3], 'and nothing ran on afterwards');
  });

  test('the running items are told of the failure (their signal is aborted with it)', async () => {
    const seen: (string | undefined)[] = [];
    await mapLimit([1, 2], 2, async (x, _i, signal) => {
      if (x === 1) throw new Error('first failed');
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      seen.push(String(signal.reason));
    }).catch(() => undefined);
    assert.deepEqual(seen, ['Error: first failed']);
  });
});
