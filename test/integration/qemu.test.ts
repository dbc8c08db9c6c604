// QEMU host mode: real binfmt_misc, Debian's qemu-user-static; an arm64 binary then runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { BINFMT, ensureBinfmtMounted, registerHostHandlers, runnablePlatforms, unregisterHandler } from '../../src/lib/docker/qemu.js';

/**
 * A complete static Linux/arm64 program, assembled by hand: `exit(42)`. ELF header, one
 * PT_LOAD program header, then three instructions: movz x0,#42; movz x8,#93 (exit); svc #0.
 */
function arm64Exit42(): Buffer {
  const code = Buffer.alloc(12);
  code.writeUInt32LE(0xd2800540, 0); // movz x0, #42
  code.writeUInt32LE(0xd2800ba8, 4); // movz x8, #93
  code.writeUInt32LE(0xd4000001, 8); // svc #0
  const size = 64 + 56 + code.length;
  const h = Buffer.alloc(64 + 56);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(h, 0); // ELF, 64-bit, little endian, v1, SysV
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(0xb7, 18); // EM_AARCH64
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeBigUInt64LE(0x400000n + 120n, 24); // entry: right after the headers
  h.writeBigUInt64LE(64n, 32); // program headers at 64
  h.writeUInt16LE(64, 52); // header size
  h.writeUInt16LE(56, 54); // program header size
  h.writeUInt16LE(1, 56); // one program header
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // R + X
  h.writeBigUInt64LE(0n, 72); // from file offset 0
  h.writeBigUInt64LE(0x400000n, 80); // vaddr
  h.writeBigUInt64LE(0x400000n, 88); // paddr
  h.writeBigUInt64LE(BigInt(size), 96); // filesz
  h.writeBigUInt64LE(BigInt(size), 104); // memsz
  h.writeBigUInt64LE(0x1000n, 112); // align
  return Buffer.concat([h, code]);
}

test('host mode registers qemu-user-static for arm64; an arm64 binary then runs; platforms are read back', { skip: needs('root', 'qemu-aarch64-static') }, async () => {
  await ensureBinfmtMounted();
  const before = existsSync(join(BINFMT, 'qemu-aarch64'));
  try {
    const added = await registerHostHandlers(['linux/arm64']);
    assert.deepEqual(added, before ? [] : ['linux/arm64']);
    assert.ok((await runnablePlatforms()).includes('linux/arm64'));
    assert.ok((await runnablePlatforms()).includes('linux/amd64'));
    const bin = join(workDir('qemu'), 'exit42-arm64');
    writeFileSync(bin, arm64Exit42());
    chmodSync(bin, 0o755);
    const r = spawnSync(bin, []);
    assert.equal(r.error, undefined);
    assert.equal(r.status, 42, 'the arm64 program ran (through QEMU) and exited 42');
    // registering again changes nothing
    assert.deepEqual(await registerHostHandlers(['linux/arm64']), []);
    await assert.rejects(registerHostHandlers(['linux/sparc128']), /input "qemu-platforms": no QEMU emulation is known for "linux\/sparc128"/);
  } finally {
    if (!before) await unregisterHandler('aarch64');
  }
  if (!before) {
    assert.equal(existsSync(join(BINFMT, 'qemu-aarch64')), false);
    const bin = join(workDir('qemu2'), 'exit42-arm64');
    writeFileSync(bin, arm64Exit42());
    chmodSync(bin, 0o755);
    assert.notEqual(spawnSync(bin, []).status, 42, 'without the handler the kernel cannot run it');
  }
});
