// setup-buildx-qemu as a user runs it (the CLI): host QEMU on the real binfmt_misc; the buildx
// path through a docker that records its calls (buildx is not packaged here).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { freePort, workDir } from '../support/proc.js';
import { builtTool, needsBuiltTools, TOOL_VERSIONS } from '../support/buildkitd.js';
import { needs } from '../support/tools.js';
import { startDockerd } from '../support/dockerd.js';
import { arm64Exit } from '../support/elf.js';
import { BINFMT, unregisterHandler } from '../../src/lib/docker/qemu.js';
import { installBuildx } from '../../src/lib/docker/buildx.js';

test(
  'host mode: handlers registered, an arm64 binary then runs, platforms read back; no buildx: a clear warning, no builder',
  { skip: needs('root', 'qemu-aarch64-static', 'qemu-riscv64-static') },
  async () => {
    const had = { aarch64: existsSync(join(BINFMT, 'qemu-aarch64')), riscv64: existsSync(join(BINFMT, 'qemu-riscv64')) };
    for (const [arch, was] of Object.entries(had)) if (was) await unregisterHandler(arch);
    try {
      const r = await runCli(['setup-buildx-qemu', '--qemu-mode', 'host', '--qemu-platforms', 'arm64,linux/riscv64']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.outputs['qemu-mode'], 'host');
      assert.match(r.stderr, /registered linux\/arm64, linux\/riscv64/);
      assert.ok(r.outputs.platforms.split(',').includes('linux/arm64'), r.outputs.platforms);
      assert.ok(r.outputs.platforms.split(',').includes('linux/riscv64'), r.outputs.platforms);
      const bin = join(workDir('arm64-host'), 'exit3');
      writeFileSync(bin, arm64Exit(3));
      chmodSync(bin, 0o755);
      assert.equal(spawnSync(bin, []).status, 3, 'the arm64 program ran through the host qemu-user-static');
      assert.equal(r.outputs.builder, '');
      assert.match(r.stderr, /docker buildx is not available: single-platform builds fall back to the classic builder/);
      const bad = await runCli(['setup-buildx-qemu', '--qemu-mode', 'host', '--qemu-platforms', 'linux/sparc128']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /input "qemu-platforms": unknown platform "linux\/sparc128"/);
      // driver remote: an endpoint is needed, and what only a local buildkitd reads is refused
      const remote = (...a: string[]) => runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--driver', 'remote', ...a]);
      assert.match((await remote()).stderr, /input "endpoint" is required with driver remote/);
      assert.match(
        (await remote('--endpoint', 'tcp://127.0.0.1:1', '--registry-mirrors', 'mirror.local')).stderr,
        /input "registry-mirrors" does not apply to driver remote: a remote buildkitd reads its own buildkitd\.toml/,
      );
      assert.match((await remote('--endpoint', '127.0.0.1:1234')).stderr, /input "endpoint".*tcp:\/\/host:port/);
      assert.match((await runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--endpoint', 'tcp://127.0.0.1:1'])).stderr, /input "endpoint" is for driver remote/);

      // auto, nothing registered, the installer image unusable (no engine here): the host's QEMU
      await unregisterHandler('aarch64');
      const auto = await runCli(['setup-buildx-qemu', '--qemu-mode', 'auto', '--qemu-image', 'mirror.invalid/binfmt:1', '--qemu-platforms', 'linux/arm64'], {
        DOCKER_HOST: 'unix:///nonexistent.sock',
      });
      assert.equal(auto.code, 0, auto.stderr);
      assert.equal(auto.outputs['qemu-mode'], 'host');
      assert.match(auto.stderr, /the installer image mirror\.invalid\/binfmt:1 could not be used .*; using the host's qemu-user-static/);
      assert.equal(spawnSync(bin, []).status, 3);
    } finally {
      await unregisterHandler('aarch64');
      await unregisterHandler('riscv64');
    }
  },
);

test('with buildx: buildkitd.toml from mirrors and insecure registries, builder created, bootstrapped, removed in post', async () => {
  const bin = workDir('fake-docker');
  const log = join(bin, 'calls.log');
  writeFileSync(
    join(bin, 'docker'),
    `#!/bin/sh\necho "$*" >> ${log}\nif [ "$1 $2" = "buildx version" ]; then echo "github.com/docker/buildx v0.99.0 0123abc"; exit 0; fi\nif [ "$1 $2" = "buildx create" ]; then while [ $# -gt 0 ]; do if [ "$1" = "--config" ]; then cat "$2" >> ${log}; fi; shift; done; exit 0; fi\nif [ "$1" = "buildx" ]; then exit 0; fi\nexit 1\n`,
  );
  chmodSync(join(bin, 'docker'), 0o755);
  const r = await runCli(
    [
      'setup-buildx-qemu',
      '--qemu-mode',
      'none',
      '--name',
      'ci-builder',
      '--registry-mirrors',
      'http://mirror.local:5000',
      '--insecure-registries',
      'registry.local:5000',
      '--driver-opts',
      'network=host',
    ],
    {
      PATH: `${bin}:${process.env.PATH}`,
      RUNNER_TEMP: workDir('runner-temp'),
    },
  );
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

/**
 * A binfmt installer image built here (no registry needed), standing in for a mirror of
 * tonistiigi/binfmt: `--install arm64` registers qemu-aarch64 with the F flag, so the kernel
 * keeps the image's own qemu-aarch64-static open after the container is gone.
 */
const INSTALL_SH = `#!/bin/sh
[ "$1" = "--install" ] || { echo "usage: --install <arch,...>"; exit 2; }
B=/proc/sys/fs/binfmt_misc
[ -e $B/register ] || /bin/busybox mount -t binfmt_misc binfmt_misc $B
for a in $(echo "$2" | /bin/busybox tr , ' '); do
  case $a in
    arm64|aarch64|all) [ -e $B/qemu-aarch64 ] || echo ':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/bin/qemu-aarch64-static:F' > $B/register ;;
    *) echo "no emulator for $a"; exit 1 ;;
  esac
done
echo installed
`;

test(
  'image mode: the binfmt installer image (a local stand-in for a mirror) registers arm64; an arm64 binary then runs',
  { skip: needs('root', 'dockerd', 'busybox', 'qemu-aarch64-static') },
  async () => {
    const had = existsSync(join(BINFMT, 'qemu-aarch64'));
    if (had) await unregisterHandler('aarch64');
    const d = await startDockerd();
    try {
      const ctx = workDir('binfmt-image');
      copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(ctx, 'busybox'));
      copyFileSync('/usr/bin/qemu-aarch64-static', join(ctx, 'qemu-aarch64-static'));
      writeFileSync(join(ctx, 'install.sh'), INSTALL_SH);
      writeFileSync(
        join(ctx, 'Dockerfile'),
        'FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nCOPY qemu-aarch64-static /usr/bin/qemu-aarch64-static\nCOPY install.sh /install.sh\nENTRYPOINT ["/bin/sh", "/install.sh"]\n',
      );
      d.docker(['build', '-q', '-t', 'mirror.local/tonistiigi/binfmt:test', ctx]);
      const r = await runCli(['setup-buildx-qemu', '--qemu-mode', 'image', '--qemu-image', 'mirror.local/tonistiigi/binfmt:test', '--qemu-platforms', 'linux/arm64'], {
        DOCKER_HOST: d.host,
        DOCKER_CONFIG: d.env.DOCKER_CONFIG,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.outputs['qemu-mode'], 'image');
      assert.ok(r.outputs.platforms.split(',').includes('linux/arm64'), r.outputs.platforms);
      assert.match(readFileSync(join(BINFMT, 'qemu-aarch64'), 'utf8'), /interpreter \/usr\/bin\/qemu-aarch64-static\nflags: F/);
      const bin = join(workDir('arm64'), 'exit7');
      writeFileSync(bin, arm64Exit(7));
      chmodSync(bin, 0o755);
      assert.equal(spawnSync(bin, []).status, 7, 'the arm64 program ran through the emulator the image registered');

      // auto mode with the handler now registered: nothing to do, no image run
      const auto = await runCli(['setup-buildx-qemu', '--qemu-mode', 'auto', '--qemu-image', 'does.not/exist:1', '--qemu-platforms', 'linux/arm64'], {
        DOCKER_HOST: d.host,
        DOCKER_CONFIG: d.env.DOCKER_CONFIG,
      });
      assert.equal(auto.code, 0, auto.stderr);
      assert.equal(auto.outputs['qemu-mode'], 'none');
    } finally {
      await unregisterHandler('aarch64');
      await d.stop();
    }
  },
);

/** A docker CLI plugin standing in for a pinned buildx release (the real docker CLI runs it). */
function fakeBuildxPlugin(dir: string, version: string): string {
  const file = join(dir, `docker-buildx-${version}`);
  writeFileSync(
    file,
    `#!/bin/sh
if [ "$1" = "docker-cli-plugin-metadata" ]; then echo '{"SchemaVersion":"0.1.0","Vendor":"Airlift tests","Version":"${version}","ShortDescription":"fake buildx"}'; exit 0; fi
if [ "$1 $2" = "buildx version" ] || [ "$1" = "version" ]; then echo "github.com/docker/buildx ${version} 0123abc"; exit 0; fi
exit 0
`,
  );
  chmodSync(file, 0o755);
  return file;
}

test('buildx from buildx-url: sha256 checked, cached by version, the reported version checked', { skip: needs('docker') }, async () => {
  const src = workDir('buildx-src');
  const bin = fakeBuildxPlugin(src, 'v0.99.1');
  const sum = createHash('sha256').update(readFileSync(bin)).digest('hex');
  const cache = workDir('xdg-cache');
  const run = (args: string[]) => {
    const config = workDir('docker-config');
    return runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--name', 'pinned', '--no-cleanup', '--buildx-url', bin, ...args], {
      DOCKER_CONFIG: config,
      XDG_CACHE_HOME: cache,
      RUNNER_TEMP: workDir('rt'),
    }).then((r) => ({ ...r, config }));
  };
  const bad = await run(['--buildx-version', 'v0.99.1', '--buildx-sha256', '0'.repeat(64)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`input "buildx-sha256": the binary from \\S+ has sha256 ${sum}, not 0{64}; nothing was installed`));
  assert.equal(existsSync(join(bad.config, 'cli-plugins', 'docker-buildx')), false);

  const ok = await run(['--buildx-version', 'v0.99.1', '--buildx-sha256', sum]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.outputs['buildx-version'], 'v0.99.1');
  assert.equal(ok.outputs.builder, 'pinned');
  assert.match(ok.stderr, /buildx v0\.99\.1: installed from \S+ \(sha256 verified\)/);
  assert.ok(existsSync(join(cache, 'airlift', 'tool-cache', 'docker-buildx', '0.99.1', process.arch, 'docker-buildx')));

  // the source is gone: the next job installs from the cache
  rmSync(bin);
  const again = await run(['--buildx-version', '0.99.1', '--buildx-sha256', sum]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /buildx 0\.99\.1: from the tool cache/);
  assert.equal(
    createHash('sha256')
      .update(readFileSync(join(again.config, 'cli-plugins', 'docker-buildx')))
      .digest('hex'),
    sum,
  );

  // a binary reporting another version is refused; the buildx already installed stays as it was
  fakeBuildxPlugin(src, 'v0.99.1');
  const config = workDir('docker-config-existing');
  mkdirSync(join(config, 'cli-plugins'));
  writeFileSync(join(config, 'cli-plugins', 'docker-buildx'), '#!/bin/sh\necho previous buildx\n', { mode: 0o755 });
  const mismatch = await runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--no-cleanup', '--buildx-url', bin, '--buildx-version', 'v0.98.0'], {
    DOCKER_CONFIG: config,
    XDG_CACHE_HOME: cache,
    RUNNER_TEMP: workDir('rt'),
  });
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /input "buildx-version": v0\.98\.0 was asked for, but the binary from buildx-url reports v0\.99\.1; it was not installed/);
  assert.equal(readFileSync(join(config, 'cli-plugins', 'docker-buildx'), 'utf8'), '#!/bin/sh\necho previous buildx\n', 'the existing buildx is untouched');
  assert.equal(existsSync(join(cache, 'airlift', 'tool-cache', 'docker-buildx', '0.98.0')), false, 'a wrong binary is never cached');

  // a mirror behind basic auth, its credentials in the URL: sent as a header, never printed
  fakeBuildxPlugin(src, 'v0.99.1');
  const served = readFileSync(bin);
  const mirror = createServer((req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from('ci:s3cr3t-Pw').toString('base64')}`) return void res.writeHead(401).end();
    res.writeHead(200, { 'content-length': served.length }).end(served);
  });
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));
  try {
    const url = `http://ci:s3cr3t-Pw@127.0.0.1:${(mirror.address() as { port: number }).port}/buildx?token=abc`;
    const viaAuth = await runCli(['setup-buildx-qemu', '--qemu-mode', 'none', '--no-cleanup', '--buildx-url', url, '--buildx-version', 'v0.99.1'], {
      DOCKER_CONFIG: workDir('docker-config-auth'),
      XDG_CACHE_HOME: workDir('xdg-auth'),
      RUNNER_TEMP: workDir('rt'),
    });
    assert.equal(viaAuth.code, 0, viaAuth.stderr);
    assert.match(viaAuth.stderr, /installed from http:\/\/127\.0\.0\.1:\d+\/buildx →/);
    assert.doesNotMatch(viaAuth.stdout + viaAuth.stderr, /s3cr3t-Pw|token=abc/);
  } finally {
    mirror.close();
  }

  const noVersion = await run([]);
  assert.equal(noVersion.code, 1);
  assert.match(noVersion.stderr, /input "buildx-version" is required with buildx-url/);
});

test('on a runner the pinned buildx goes through @actions/tool-cache', async () => {
  const toolCache = workDir('runner-tool-cache');
  const saved = { ...process.env };
  process.env.RUNNER_TOOL_CACHE = toolCache;
  process.env.RUNNER_TEMP = workDir('runner-temp2');
  try {
    const bin = fakeBuildxPlugin(workDir('buildx-src2'), 'v0.99.2');
    const first = await installBuildx({ source: bin, version: 'v0.99.2', toolCache: true, pluginDir: workDir('plugins') });
    assert.equal(first.fromCache, false);
    assert.ok(existsSync(join(toolCache, 'docker-buildx', '0.99.2', process.arch, 'docker-buildx')));
    assert.ok(existsSync(join(toolCache, 'docker-buildx', '0.99.2', `${process.arch}.complete`)), 'tool-cache marks the entry complete');
    rmSync(bin);
    const second = await installBuildx({ source: bin, version: '0.99.2', toolCache: true, pluginDir: workDir('plugins2') });
    assert.equal(second.fromCache, true);
  } finally {
    process.env = saved;
  }
});

describe('setup-buildx-qemu: a builder that cannot start', { skip: needsBuiltTools(['buildx', 'buildx']) }, () => {
  test('driver remote with no buildkitd at the endpoint: a clear error naming it, and the builder is removed', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const env = { DOCKER_CONFIG: workDir('dead-config'), XDG_CACHE_HOME: workDir('dead-cache') };
    const r = await runCli(
      [
        'setup-buildx-qemu',
        '--qemu-mode',
        'none',
        '--buildx-url',
        builtTool('buildx', 'buildx'),
        '--buildx-version',
        TOOL_VERSIONS.buildx,
        '--driver',
        'remote',
        '--endpoint',
        `tcp://127.0.0.1:${port}`,
        '--name',
        'airlift-dead',
      ],
      env,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `error: the buildx builder airlift-dead \\(driver remote at tcp://127\\.0\\.0\\.1:${port}\\) did not start: .+\\. Is a buildkitd running and listening at tcp://127\\.0\\.0\\.1:${port}, and reachable from here\\?`,
      ),
    );
    // the post step (run by the CLI when the command ends) removed it
    const ls = spawnSync('docker', ['buildx', 'ls'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.doesNotMatch(ls.stdout, /airlift-dead/);
  });
});
