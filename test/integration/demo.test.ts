// `airlift demo`: the README's first command, on embedded data, checked with skopeo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { sha256 } from '../support/fixtures.js';

test('the demo: sync (every platform, then amd64 only), offline archive, upload, import at the site; skopeo and sha256sum agree', { skip: needs('skopeo') }, async () => {
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
  // the uploaded archive and its checksum file; the import at the site is the release, byte for byte
  assert.match(execFileSync('sha256sum', ['-c', 'demo-1.0.0.tar.sha256'], { cwd: join(dir, 'bucket', 'releases', '1.0.0'), encoding: 'utf8' }), /demo-1\.0\.0\.tar: OK/);
  assert.match(r.stderr, /upload again \(unchanged\)\s+\S+\s+skipped, skipped/);
  const imported = execFileSync('skopeo', ['inspect', '--raw', `oci:${join(dir, 'site-import')}:1.0.0`]);
  assert.equal(sha256(imported), sha256(source), 'imported at the site byte for byte');
  // the archive itself is one skopeo reads too
  execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${join(dir, 'offline', 'demo-1.0.0.tar')}:registry.example/release/demo:1.0.0`]);
});
