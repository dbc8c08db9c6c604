// QEMU host mode: real binfmt_misc, Debian's qemu-user-static; an arm64 binary then runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { arm64Exit } from '../support/elf.js';
import { BINFMT, ensureBinfmtMounted, registerHostHandlers, runnablePlatforms, unregisterHandler } from '../../src/lib/docker/qemu.js';

test('host mode registers qemu-user-static for arm64; an arm64 binary then runs; platforms are read back', { skip: needs('root', 'qemu-aarch64-static') }, async () => {
  await ensureBinfmtMounted();
  const before = existsSync(join(BINFMT, 'qemu-aarch64'));
  try {
    const added = await registerHostHandlers(['linux/arm64']);
    assert.deepEqual(added, before ? [] : ['linux/arm64']);
    assert.ok((await runnablePlatforms()).includes('linux/arm64'));
    assert.ok((await runnablePlatforms()).includes('linux/amd64'));
    const bin = join(workDir('qemu'), 'exit42-arm64');
    writeFileSync(bin, arm64Exit(42));
    chmodSync(bin, 0o755);
    const r = spawnSync(bin, []);
    assert.equal(r.error, undefined);
    assert.equal(r.status, 42, 'the arm64 program ran (through QEMU) and exited 42');
    // registering again changes nothing
    assert.deepEqual(await registerHostHandlers(['linux/arm64']), []);
    await assert.rejects(registerHostHandlers(['linux/sparc128']), /^OptionError: no QEMU emulation is known for "linux\/sparc128"/);
  } finally {
    if (!before) await unregisterHandler('aarch64');
  }
  if (!before) {
    assert.equal(existsSync(join(BINFMT, 'qemu-aarch64')), false);
    const bin = join(workDir('qemu2'), 'exit42-arm64');
    writeFileSync(bin, arm64Exit(42));
    chmodSync(bin, 0o755);
    assert.notEqual(spawnSync(bin, []).status, 42, 'without the handler the kernel cannot run it');
  }
});
