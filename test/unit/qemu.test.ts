import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArchFor, runnablePlatforms } from '../../src/lib/docker/qemu.js';

test('platform → QEMU architecture', () => {
  assert.equal(qemuArchFor('linux/arm64'), 'aarch64');
  assert.equal(qemuArchFor('linux/arm64/v8'), 'aarch64');
  assert.equal(qemuArchFor('linux/arm/v7'), 'arm');
  assert.equal(qemuArchFor('linux/arm/v6'), 'arm');
  assert.equal(qemuArchFor('linux/riscv64'), 'riscv64');
  assert.equal(qemuArchFor('linux/sparc128'), undefined);
});

test('runnable platforms are read back from binfmt_misc: enabled qemu handlers only', async () => {
  const root = mkdtempSync(join(tmpdir(), 'binfmt-'));
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'qemu-aarch64'), 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\n');
  writeFileSync(join(root, 'qemu-riscv64'), 'disabled\ninterpreter /x\n');
  writeFileSync(join(root, 'python3.11'), 'enabled\n');
  writeFileSync(join(root, 'status'), 'enabled\n');
  const got = await runnablePlatforms(root);
  assert.ok(got.includes('linux/arm64'));
  assert.ok(!got.includes('linux/riscv64'));
  assert.equal(got.length, 2, got.join(' '));
});
