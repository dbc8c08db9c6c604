import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { removeStaleTemp, startTime, tempDir } from '../../src/lib/temp.js';

const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** The PID of a process that has exited. */
const deadPid = () => spawnSync('true').pid!;

describe('temporary folders of killed runs', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let parent: string;
  let saved: string | undefined;
  before(() => {
    saved = process.env.RUNNER_TEMP;
    parent = mkdtempSync(join(tmpdir(), 'temp-test-'));
    process.env.RUNNER_TEMP = parent;
  });
  after(() => {
    if (saved === undefined) delete process.env.RUNNER_TEMP;
    else process.env.RUNNER_TEMP = saved;
    rmSync(parent, { recursive: true, force: true });
  });
  const clear = () => readdirSync(parent).forEach((n) => rmSync(join(parent, n), { recursive: true }));

  test('the folder carries its owner from the moment it exists: a dead owner is found without any file inside', async () => {
    clear();
    const mine = basename(await tempDir('airlift-import-'));
    assert.match(mine, new RegExp(`^airlift-import-${host}-${process.pid}-${startTime(process.pid)}-[A-Za-z0-9]{6}$`));
    assert.deepEqual(readdirSync(join(parent, mine)), [], 'nothing is written into it: the name is the record');
    const dead = `airlift-import-${host}-${deadPid()}-12345-abcDEF`;
    mkdirSync(join(parent, dead));
    assert.equal(await removeStaleTemp(), 1);
    assert.deepEqual(readdirSync(parent), [mine], "this process's own folder stays");
  });

  test('a PID now used by another process does not keep the folder; the same process does', async () => {
    clear();
    const sleeper = spawn('sleep', ['30']);
    try {
      const pid = sleeper.pid!;
      const start = startTime(pid);
      assert.ok(start > 0, 'the start time of a live process is read');
      const reused = `airlift-ami-${host}-${pid}-${start - 1}-aaaaaa`;
      const owned = `airlift-ami-${host}-${pid}-${start}-bbbbbb`;
      mkdirSync(join(parent, reused));
      mkdirSync(join(parent, owned));
      assert.equal(await removeStaleTemp(), 1);
      assert.deepEqual(readdirSync(parent), [owned]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test("another host's folders and unrelated names are left; a folder from an earlier version is read by its owner file", async () => {
    clear();
    const other = `airlift-import-0badc0de-${deadPid()}-1-cccccc`;
    const unrelated = 'airlift-notes';
    const legacyDead = 'airlift-import-dddddd';
    const legacyOther = 'airlift-import-eeeeee';
    for (const n of [other, unrelated, legacyDead, legacyOther]) mkdirSync(join(parent, n));
    writeFileSync(join(parent, legacyDead, '.airlift-owner'), `${hostname()} ${deadPid()}\n`);
    writeFileSync(join(parent, legacyOther, '.airlift-owner'), `elsewhere ${deadPid()}\n`);
    assert.equal(await removeStaleTemp(), 1);
    assert.deepEqual(readdirSync(parent).sort(), [other, unrelated, legacyOther].sort());
  });
});
