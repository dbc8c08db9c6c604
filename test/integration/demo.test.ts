// `airlift demo`: the README's first command, on embedded data, checked with skopeo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { sha256 } from '../support/fixtures.js';

test('the demo syncs its embedded image (every platform, then amd64 only) and skopeo agrees', { skip: needs('skopeo') }, async () => {
  const dir = workDir('demo');
  const r = await runCli(['demo', '--output-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /mirror again \(up to date\)\s+\S+\s+skipped/);
  const source = execFileSync('skopeo', ['inspect', '--raw', `oci:${join(dir, 'release')}:1.0.0`]);
  const mirror = execFileSync('skopeo', ['inspect', '--raw', `oci:${join(dir, 'mirror')}:1.0.0`]);
  assert.equal(sha256(mirror), sha256(source), 'the mirror is byte for byte the source');
  const site = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${join(dir, 'site-amd64')}:1.0.0`], { encoding: 'utf8' }));
  assert.deepEqual(site.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture), ['amd64']);
  const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${join(dir, 'site-amd64')}:1.0.0`], { encoding: 'utf8' }));
  assert.equal(cfg.architecture, 'amd64');
  // every blob of the filtered copy verifies (skopeo re-hashes while copying)
  execFileSync('skopeo', ['copy', '--all', '--quiet', `oci:${join(dir, 'site-amd64')}:1.0.0`, `oci:${workDir('demo-check')}:x`]);
});
