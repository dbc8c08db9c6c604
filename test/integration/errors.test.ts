// Clear errors (#15 item 13), as a user meets them through the CLI: each names the input or the
// server and says what to do, instead of "fetch failed", a raw ECONNREFUSED, a bare EEXIST, a
// loop at full CPU or "Unexpected end of JSON input"; every problem of a run reported at once,
// before anything is made.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, workDir } from '../support/proc.js';
import { runCli, startCli, type CliRun } from '../support/cli.js';

/** A CLI run that must end by itself within `ms` (a hang is a failure, not a stuck test). */
async function runWithin(ms: number, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const r = await done;
  clearTimeout(timer);
  assert.notEqual(r.signal, 'SIGKILL', `airlift ${args[0]} did not end within ${ms} ms`);
  return r;
}

describe('clear errors', () => {
  test('upload-oss: every bad input at once (placeholder, source, state-dir, manifest), and no directory made', async () => {
    const dir = workDir('errors');
    writeFileSync(join(dir, 'a-file'), 'x');
    const state = join(dir, 'state');
    const manifestDir = join(dir, 'manifest-dir');
    const r = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'missing.tar'),
      '--destination',
      `file://${join(dir, 'out')}/{version}`,
      '--version',
      '../escape',
      '--state-dir',
      join(dir, 'a-file', 'sub'),
      '--manifest',
      join(manifestDir, 'm.json'),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /input "destination": \{version\} cannot be "\.\.\/escape"/);
    assert.match(r.stderr, /input "source" line 1: .*missing\.tar was not found/);
    assert.match(r.stderr, /input "state-dir": .*a-file\/sub cannot be made a directory: a file is in the way at .*a-file \(ENOTDIR\)/);
    assert.ok(!existsSync(manifestDir), 'the manifest directory was not made for a run refused for its inputs');
    assert.ok(!existsSync(state));
    assert.ok(!existsSync(join(dir, 'out')));
    // with everything right, the manifest's directory is made
    writeFileSync(join(dir, 'file.txt'), 'hello\n');
    const ok = await runCli([
      'upload-oss',
      '--source',
      join(dir, 'file.txt'),
      '--destination',
      `file://${join(dir, 'out')}/{version}`,
      '--version',
      '1.0.0',
      '--state-dir',
      state,
      '--manifest',
      join(manifestDir, 'm.json'),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(existsSync(join(manifestDir, 'm.json')));
  });

  test('a directory that cannot be made (under /proc, or a file in the way) fails at once, naming the input', async () => {
    const dir = workDir('errors');
    writeFileSync(join(dir, 'f.txt'), 'x');
    const proc = await runWithin(20_000, ['upload-oss', '--source', join(dir, 'f.txt'), '--destination', 'file:///proc/airlift-test/x/']);
    assert.equal(proc.code, 1);
    assert.match(proc.stderr, /\/proc\/airlift-test\/x cannot be made a directory: the file system there takes no new directories at \/proc\/airlift-test/);
    const sync = await runWithin(20_000, ['sync-images', '--images', '127.0.0.1:5000/a/b:1', '--target', '127.0.0.1:5001/x', '--output-dir', join(dir, 'f.txt'), '--dry-run']);
    assert.equal(sync.code, 1);
    assert.match(sync.stderr, /input "output-dir": .*f\.txt cannot be made a directory: a file is in the way at .*f\.txt \(ENOTDIR\)/);
    assert.doesNotMatch(sync.stderr, /EEXIST|mkdir/);
  });

  test('nothing answers: the server and the reason are named (not "fetch failed" or a raw ECONNREFUSED)', async () => {
    const dir = workDir('errors');
    writeFileSync(join(dir, 'f.txt'), 'x');
    const port = await freePort();
    const http = await runWithin(60_000, ['upload-oss', '--source', join(dir, 'f.txt'), '--destination', `http://127.0.0.1:${port}/up/`]);
    assert.equal(http.code, 1);
    assert.match(
      http.stderr,
      new RegExp(
        `http://127\\.0\\.0\\.1:${port}/up/f\\.txt: PUT got no answer from 127\\.0\\.0\\.1:${port}: nothing accepts connections there \\(connection refused\\).*\\(ECONNREFUSED\\)`,
      ),
    );
    const s3 = await runWithin(60_000, [
      'upload-oss',
      '--source',
      join(dir, 'f.txt'),
      '--destination',
      's3://bucket/x',
      '--endpoint',
      `http://127.0.0.1:${port}`,
      '--access-key-id',
      'a',
      '--access-key-secret',
      'b',
    ]);
    assert.match(s3.stderr, new RegExp(`the endpoint http://127\\.0\\.0\\.1:${port} got no answer: nothing accepts connections there`));
    const buildx = await runWithin(60_000, ['setup-buildx-qemu', '--qemu-mode', 'none', '--buildx-url', `http://127.0.0.1:${port}/buildx`, '--buildx-version', 'v0.38.2']);
    assert.equal(buildx.code, 1);
    assert.match(buildx.stderr, new RegExp(`input "buildx-url": http://127\\.0\\.0\\.1:${port}/buildx got no answer: nothing accepts connections there`));
    assert.doesNotMatch(buildx.stderr + http.stderr, /fetch failed|^error: connect ECONNREFUSED/m);
  });

  test('a buildx-url that answers 503 until the retries run out: the error still names the input', { timeout: 60_000 }, async () => {
    let asked = 0;
    const server = createServer((_req, res) => {
      asked++;
      res.writeHead(503).end('busy');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await runWithin(45_000, ['setup-buildx-qemu', '--qemu-mode', 'none', '--buildx-url', `http://127.0.0.1:${port}/buildx`, '--buildx-version', 'v0.38.2']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`error: input "buildx-url": http://127\\.0\\.0\\.1:${port}/buildx answered 503`));
      assert.ok(asked > 1, `retried (${asked} requests)`);
    } finally {
      server.close();
    }
  });

  test('sync-images: a YAML target without a registry is refused, not sent to Docker Hub; the log counts images and targets as they are', async () => {
    const dir = workDir('errors');
    writeFileSync(join(dir, 'list.yaml'), '127.0.0.1:5000/a/b:1:\n  - 42\n');
    const r = await runCli(['sync-images', '--images', join(dir, 'list.yaml'), '--dry-run', '--output-dir', join(dir, 'out')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /list\.yaml line 2: target "42" names no registry host, so it would go to Docker Hub/);
    assert.doesNotMatch(r.stderr, /docker\.io\/library\/42/);
    assert.ok(!existsSync(join(dir, 'out')), 'no output directory for a refused run');
    const port = await freePort();
    const four = await runWithin(60_000, [
      'sync-images',
      '--images',
      `127.0.0.1:${port}/a/one:1\n127.0.0.1:${port}/a/two:1\n127.0.0.1:${port}/a/three:1\n127.0.0.1:${port}/a/four:1`,
      '--target',
      '127.0.0.1:5001/site',
      '--dry-run',
      '--output-dir',
      join(dir, 'out2'),
    ]);
    assert.match(four.stderr, /sync-images: 4 images → 127\.0\.0\.1:5001\/site \(4 repositories, every platform\), dry run/);
  });

  test('a broken index.json is named as such; invalid buildkitd TOML is refused before anything is installed; sizes are shown in the units of their limits', async () => {
    const dir = workDir('errors');
    const layout = join(dir, 'layout');
    mkdirSync(layout);
    writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(layout, 'index.json'), '{"schemaVersion":2,"manif');
    const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', layout, '--target', '127.0.0.1:5000/site']);
    assert.equal(imp.code, 1);
    assert.match(imp.stderr, /layout: index\.json \(the OCI index\) is not valid JSON \(.*\); the archive is damaged or was cut short/);
    assert.doesNotMatch(imp.stderr, /UserError|NotFoundError/);

    const toml = await runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--buildkitd-config-inline', 'debug = tru']);
    assert.equal(toml.code, 1);
    assert.match(toml.stderr, /input "buildkitd-config-inline": the inline config is not valid TOML \(line 1: invalid value\)/);
    const dup = await runCli([
      'setup-buildx-qemu',
      '--qemu-mode',
      'none',
      '--registry-mirrors',
      'https://mirror.example.com',
      '--buildkitd-config-inline',
      '[registry."docker.io"]\n  mirrors = ["other.example.com"]',
    ]);
    assert.match(dup.stderr, /input "buildkitd-config-inline": the inline config sets again what registry-mirrors or insecure-registries write/);

    const size = await runCli(['upload-oss', '--source', 'x', '--destination', 'file:///tmp/x', '--part-size', '50KB']);
    assert.match(size.stderr, /input "part-size": "50KB" \(50,000 bytes\) is below the minimum 100 KiB \(102,400 bytes\); KB\/MB\/GB are decimal, KiB\/MiB\/GiB binary/);
  });
});
