import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { exec, ExecError, packageFor, which } from '../../src/lib/exec.js';
import { UserError } from '../../src/lib/errors.js';
import { addSecret, configureLog } from '../../src/lib/log.js';

describe('exec', () => {
  test('captures stdout and streams lines to the log, redacted', async () => {
    const lines: string[] = [];
    configureLog({ mode: 'cli', write: (l) => lines.push(l) });
    addSecret('exec-secret-42');
    const r = await exec('sh', ['-c', 'echo one; echo token exec-secret-42; printf two']);
    assert.equal(r.stdout, 'one\ntoken exec-secret-42\ntwo');
    assert.deepEqual(lines, ['one', 'token ***', 'two']);
  });

  test('a missing binary names the Debian package that provides it', async () => {
    await assert.rejects(exec('skopeo-does-not-exist', []), (e: unknown) => e instanceof UserError && /"skopeo-does-not-exist" was not found on PATH/.test(e.message));
    assert.equal(packageFor('/usr/bin/qemu-aarch64-static'), 'qemu-user-static');
    assert.equal(packageFor('qemu-img'), 'qemu-utils');
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(exec('skopeo', ['--version']), /install the Debian package skopeo: apt-get install skopeo/);
    } finally {
      process.env.PATH = saved;
    }
  });

  test('a non-zero exit throws with the code and the end of stderr', async () => {
    configureLog({ mode: 'cli', write: () => undefined });
    await assert.rejects(exec('sh', ['-c', 'echo bad thing >&2; exit 3']), (e: unknown) => e instanceof ExecError && e.code === 3 && /exit code 3: bad thing/.test(e.message));
    const r = await exec('sh', ['-c', 'exit 4'], { allowFailure: true });
    assert.equal(r.code, 4);
  });

  test('stdin input', async () => {
    configureLog({ mode: 'cli', write: () => undefined });
    const r = await exec('cat', [], { input: 'abc', stream: false });
    assert.equal(r.stdout, 'abc');
  });

  test('which', async () => {
    assert.ok(await which('sh'));
    assert.equal(await which('definitely-not-a-binary-xyz'), undefined);
  });
});
