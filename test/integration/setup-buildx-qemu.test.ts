// setup-buildx-qemu as a user runs it (the CLI): host QEMU on the real binfmt_misc; the buildx
// path through a docker that records its calls (buildx is not packaged here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { BINFMT, unregisterHandler } from '../../src/lib/docker/qemu.js';

test('host mode: handlers registered, platforms read back; no buildx: a clear warning, no builder', { skip: needs('root', 'qemu-riscv64-static') }, async () => {
  const had = existsSync(join(BINFMT, 'qemu-riscv64'));
  try {
    const r = await runCli(['setup-buildx-qemu', '--qemu-mode', 'host', '--qemu-platforms', 'linux/riscv64']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs['qemu-mode'], 'host');
    assert.ok(r.outputs.platforms.split(',').includes('linux/riscv64'), r.outputs.platforms);
    assert.equal(r.outputs.builder, '');
    assert.match(r.stderr, /docker buildx is not available: single-platform builds fall back to the classic builder/);
    const bad = await runCli(['setup-buildx-qemu', '--qemu-mode', 'host', '--qemu-platforms', 'linux/sparc128']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /input "qemu-platforms": no QEMU emulation is known for "linux\/sparc128"/);
  } finally {
    if (!had) await unregisterHandler('riscv64');
  }
});

test('with buildx: buildkitd.toml from mirrors and insecure registries, builder created, bootstrapped, removed in post', async () => {
  const bin = workDir('fake-docker');
  const log = join(bin, 'calls.log');
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh\necho "$*" >> ${log}\nif [ "$1 $2" = "buildx version" ]; then echo "github.com/docker/buildx v0.99.0 0123abc"; exit 0; fi\nif [ "$1 $2" = "buildx create" ]; then while [ $# -gt 0 ]; do if [ "$1" = "--config" ]; then cat "$2" >> ${log}; fi; shift; done; exit 0; fi\nif [ "$1" = "buildx" ]; then exit 0; fi\nexit 1\n`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  const r = await runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--name', 'ci-builder', '--registry-mirrors', 'http://mirror.local:5000', '--insecure-registries', 'registry.local:5000', '--driver-opts', 'network=host'], {
    PATH: `${bin}:${process.env.PATH}`,
    RUNNER_TEMP: workDir('runner-temp'),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([r.outputs.builder, r.outputs['buildx-version'], r.outputs['qemu-mode']], ['ci-builder', 'v0.99.0', 'none']);
  const calls = readFileSync(log, 'utf8');
  assert.match(calls, /^buildx create --name ci-builder --driver docker-container --driver-opt network=host --config \S+buildkitd-ci-builder\.toml --use$/m);
  assert.match(calls, /\[registry\."docker\.io"\]\n {2}mirrors = \["mirror\.local:5000"\]/);
  assert.match(calls, /\[registry\."registry\.local:5000"\]\n {2}http = true\n {2}insecure = true/);
  assert.match(calls, /^buildx inspect --bootstrap ci-builder$/m);
  assert.match(calls, /^buildx rm ci-builder$/m, 'the post step removed the builder');
  assert.ok(calls.indexOf('buildx rm') > calls.indexOf('buildx inspect'));
});
