import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { input } from '../../src/lib/inputs.js';
import { configureLog } from '../../src/lib/log.js';
import { defineAction, MemoryHost, runAction } from '../../src/lib/run.js';
import { UserError } from '../../src/lib/errors.js';

// runAction needs a real action.yml; setup-buildx-qemu has a post step and no required inputs.
const spec = (await import('../../src/actions/setup-buildx-qemu/index.js')).default.inputs;

function capture() {
  const lines: string[] = [];
  configureLog({ mode: 'cli', debug: false, write: (l) => lines.push(l) });
  return lines;
}

afterEach(() => {
  process.exitCode = 0;
});

describe('runAction', () => {
  test('state saved in main reaches post; outputs are collected', async () => {
    capture();
    const host = new MemoryHost();
    const def = defineAction({
      name: 'setup-buildx-qemu',
      inputs: spec,
      async main(ctx) {
        ctx.saveState('builder', 'b1');
        ctx.setOutput('builder', 'b1');
        ctx.setOutput('qemu-mode', ctx.inputs.qemuMode);
      },
      async post(ctx) {
        ctx.setOutput('platforms', `removed ${ctx.getState('builder')}`);
      },
    });
    assert.equal(await runAction(def, 'main', host), 0);
    assert.equal(await runAction(def, 'post', host), 0);
    assert.deepEqual(host.outputs, { builder: 'b1', 'qemu-mode': 'auto', platforms: 'removed b1' });
  });

  test('an undeclared output is an internal error, not a silent extra', async () => {
    const lines = capture();
    const def = defineAction({
      name: 'setup-buildx-qemu',
      inputs: spec,
      async main(ctx) {
        ctx.setOutput('no-such-output', 'x');
      },
    });
    assert.equal(await runAction(def, 'main', new MemoryHost()), 1);
    assert.match(lines.join('\n'), /output "no-such-output" is not declared in actions\/setup-buildx-qemu\/action.yml/);
  });

  test('a UserError prints its message without a stack; other errors keep the stack for debug', async () => {
    let lines = capture();
    const userFail = defineAction({
      name: 'setup-buildx-qemu',
      inputs: spec,
      async main() {
        throw new UserError('qemu-image "x" cannot be pulled');
      },
    });
    assert.equal(await runAction(userFail, 'main', new MemoryHost()), 1);
    assert.deepEqual(lines, ['error: qemu-image "x" cannot be pulled']);

    lines = capture();
    const bug = defineAction({
      name: 'setup-buildx-qemu',
      inputs: spec,
      async main() {
        throw new TypeError('undefined is not a function');
      },
    });
    assert.equal(await runAction(bug, 'main', new MemoryHost()), 1);
    assert.deepEqual(lines, ['error: undefined is not a function']);

    lines = [];
    configureLog({ mode: 'cli', debug: true, write: (l) => lines.push(l) });
    await runAction(bug, 'main', new MemoryHost());
    assert.match(lines.join('\n'), /debug: TypeError: undefined is not a function\n\s+at /);
  });

  test('post with unusable inputs is skipped quietly (main already failed on them)', async () => {
    capture();
    process.env['INPUT_USE'] = 'maybe';
    try {
      let ran = false;
      const def = defineAction({
        name: 'setup-buildx-qemu',
        inputs: spec,
        async main() {},
        async post() {
          ran = true;
        },
      });
      assert.equal(await runAction(def, 'main', new MemoryHost()), 1);
      assert.equal(await runAction(def, 'post', new MemoryHost()), 0);
      assert.equal(ran, false);
    } finally {
      delete process.env['INPUT_USE'];
    }
  });

  test('the optional-flag typing compiles to undefined for empty values', () => {
    const k = input.size({ optional: true });
    assert.equal(k.optional, true);
  });
});
