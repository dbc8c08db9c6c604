// A sync run in process: the plan's images reached through an in-memory opener, so what the run
// reports, retries and skips is checked without registries or child processes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { configureLog } from '../../src/lib/log.js';
import { buildPlan } from '../../src/lib/sync/plan.js';
import { runSync, type SyncOptions } from '../../src/lib/sync/run.js';
import { count, image, memoryOpener } from '../support/memory-images.js';

const quiet = () => configureLog({ mode: 'cli', write: () => {} });
const run = (o: Partial<SyncOptions> & Pick<SyncOptions, 'items' | 'open'>) => runSync({ concurrency: 4, blobConcurrency: 8, progressIntervalMs: 60_000, ...o });

describe('sync run (in process)', () => {
  test('each image is classified, the retry lists name what a re-run would fix, and a second run only looks', async () => {
    quiet();
    const images = { 'src.example/release/app:1.0': image('app'), 'src.example/release/db:1.0': image('db'), 'src.example/release/web:1.0': image('web') };
    const mem = memoryOpener(images, {
      targetFor: (t) => {
        if (t.s.host === 'locked.example') t.failPut = { retryable: false };
      },
    });
    // four lines of a plain list under mirror.example/ns, and two of a YAML list naming their targets
    const plain = buildPlan({ text: 'src.example/release/app:1.0\nsrc.example/release/gone:1.0\nsrc.example/release/db:1.0' }, { targets: ['mirror.example/ns'] });
    const yaml = buildPlan(
      { text: 'src.example/release/web:1.0: [mirror.example/web:1.0, locked.example/web:1.0]\nsrc.example/release/lost:2.0: [mirror.example/lost:2.0]' },
      { targets: [] },
    );
    const items = [...plain, ...yaml];
    const report = await run({ items, open: mem.opener });
    assert.deepEqual(
      report.entries.map((e) => [e.source, e.result]),
      [
        ['src.example/release/app:1.0', 'synced'],
        ['src.example/release/gone:1.0', 'missing-source'],
        ['src.example/release/db:1.0', 'synced'],
        ['src.example/release/web:1.0', 'failed'],
        ['src.example/release/lost:2.0', 'missing-source'],
      ],
    );
    assert.deepEqual([report.synced, report.skipped, report.failed], [2, 0, 3]);
    // plain lines come back plain; a YAML line comes back with its targets
    assert.deepEqual(report.missingSource, ['src.example/release/gone:1.0', 'src.example/release/lost:2.0: [mirror.example/lost:2.0]']);
    assert.deepEqual(report.failedPush, ['src.example/release/web:1.0: [mirror.example/web:1.0, locked.example/web:1.0]']);
    const web = report.entries[3];
    assert.deepEqual(Object.fromEntries(web.targets.map((t) => [t.target, t.result])), { 'mirror.example/web:1.0': 'copied', 'locked.example/web:1.0': 'failed' });
    assert.match(web.targets.find((t) => t.result === 'failed')?.error ?? '', /denied/);
    assert.equal(count(mem.store('locked.example').log, 'MANIFEST'), 0, 'no tag on a target that refused a blob');
    // the base layer is sent once into mirror.example and mounted into the other repositories
    const mirror = mem.store('mirror.example');
    assert.equal(report.blobsMounted, 2);
    assert.equal(mirror.repo(mirror.manifests, 'ns/release/app').get('1.0')?.digest, images['src.example/release/app:1.0'].top.digest, 'digest preserved');

    const again = await run({ items, open: mem.opener });
    assert.deepEqual(
      again.entries.map((e) => e.result),
      ['skipped', 'missing-source', 'skipped', 'failed', 'missing-source'],
    );
    assert.ok(again.bytes < report.bytes, 'only the refused target is sent to again');
  });

  test('fail-fast stops at the first failure: what was not tried is not-attempted and goes to the push retry list', async () => {
    quiet();
    const items = buildPlan({ text: 'src.example/gone:1\nsrc.example/release/app:1.0\nsrc.example/release/db:1.0' }, { targets: ['mirror.example'] });
    const mem = memoryOpener({ 'src.example/release/app:1.0': image('app'), 'src.example/release/db:1.0': image('db') });
    const report = await run({ items, open: mem.opener, concurrency: 1, failFast: true });
    assert.deepEqual(
      report.entries.map((e) => e.result),
      ['missing-source', 'not-attempted', 'not-attempted'],
    );
    assert.deepEqual(report.failedPush, ['src.example/release/app:1.0', 'src.example/release/db:1.0']);
    assert.equal(report.failed, 3);
    assert.deepEqual(
      mem.store('mirror.example').log.filter((l) => !l.startsWith('HEAD')),
      [],
      'nothing written after the failure',
    );
  });

  test('fail-fast: a source the check finds missing stops the copies not yet started, wherever it stands in the list', async () => {
    quiet();
    const items = buildPlan({ text: 'src.example/release/app:1.0\nsrc.example/release/db:1.0\nsrc.example/release/web:1.0\nsrc.example/gone:1' }, { targets: ['mirror.example'] });
    const mem = memoryOpener({ 'src.example/release/app:1.0': image('app'), 'src.example/release/db:1.0': image('db'), 'src.example/release/web:1.0': image('web') });
    const report = await run({ items, open: mem.opener, concurrency: 1, failFast: true });
    // the first copy had begun before the last check came back; the rest never start
    assert.deepEqual(
      report.entries.map((e) => e.result),
      ['synced', 'not-attempted', 'not-attempted', 'missing-source'],
    );
    assert.deepEqual(report.failedPush, ['src.example/release/db:1.0', 'src.example/release/web:1.0']);
    assert.deepEqual(report.missingSource, ['src.example/gone:1']);
  });

  test('an image the check settles (here: its source is gone) does not wait for a copy slot held by a long copy', async () => {
    // app's blobs go up only when the gate opens
    let opened = 0;
    const gate = new Promise<void>((r) => setTimeout(() => ((opened = Date.now()), r()), 400));
    const mem = memoryOpener(
      { 'src.example/release/app:1.0': image('app') },
      {
        targetFor: (t) => {
          const put = t.putBlob.bind(t);
          t.putBlob = async (d, body) => (await gate, put(d, body));
        },
      },
    );
    const lines: { at: number; line: string }[] = [];
    configureLog({ mode: 'cli', write: (line) => lines.push({ at: Date.now(), line }) });
    const items = buildPlan({ text: 'src.example/release/app:1.0\nsrc.example/release/gone:1.0' }, { targets: ['mirror.example'] });
    const report = await run({ items, open: mem.opener, concurrency: 1 });
    assert.deepEqual(
      report.entries.map((e) => e.result),
      ['synced', 'missing-source'],
    );
    const gone = lines.find((l) => /gone:1\.0: source unavailable/.test(l.line));
    assert.ok(gone && gone.at < opened, `reported while app's copy held the slot (${gone ? gone.at - opened : 'no line'} ms from the gate)`);
  });

  test('a dry run writes nothing; a platform no image has is no-platform, in neither retry list', async () => {
    quiet();
    const items = buildPlan({ text: 'src.example/release/app:1.0' }, { targets: ['mirror.example'] });
    const mem = memoryOpener({ 'src.example/release/app:1.0': image('app') });
    const dry = await run({ items, open: mem.opener, dryRun: true });
    assert.equal(dry.entries[0].result, 'would-sync');
    assert.deepEqual(mem.store('mirror.example').log, []);
    const none = await run({ items, open: mem.opener, platforms: [{ os: 'linux', architecture: 's390x' }] });
    assert.equal(none.entries[0].result, 'no-platform');
    assert.deepEqual([none.missingSource, none.failedPush, none.noPlatform], [[], [], ['src.example/release/app:1.0']]);
    const arm = await run({ items, open: mem.opener, platforms: [{ os: 'linux', architecture: 'arm64' }] });
    assert.equal(arm.entries[0].result, 'synced');
    assert.deepEqual(arm.entries[0].platforms, ['linux/arm64']);
  });
});
