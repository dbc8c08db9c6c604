// build-release-image as a user runs it (the CLI), against real docker-registry instances and a
// real dockerd (the classic builder, the docker driver, and the engine the checks run on); buildx
// and BuildKit built from their Go modules (.ci/tools.sh): a remote buildkitd, a docker-container
// builder from a private BuildKit image; per-architecture archives over loopback HTTP. skopeo,
// GNU tar and `docker load` check what it produced. A docker wrapper remains only to show the
// exact arguments buildx is given.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { runCli, type CliRun } from '../support/cli.js';
import { startDockerd, type Dockerd } from '../support/dockerd.js';
import { arm64Exit } from '../support/elf.js';
import { inspectRaw, sha256 } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { catalog, startRegistry } from '../support/registry.js';
import { runnableImage } from '../support/runnable.js';
import { needs } from '../support/tools.js';
import { builtTool, buildkitImage, needsBuiltTools, startBuildkitd, TOOL_VERSIONS } from '../support/buildkitd.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { dockerSaveArchive } from '../support/docker-save.js';
import { verifyDescribe } from '../../src/lib/release/describe.js';
import { BINFMT, ensureBinfmtMounted, registerHostHandlers, unregisterHandler } from '../../src/lib/docker/qemu.js';

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** A git repository holding a FROM scratch busybox image, committed and tagged. */
function releaseRepo(
  tag = 'v1.2.3',
  dockerfile = 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\nARG GREETING=hello\nLABEL greeting=$GREETING\nCMD ["/bin/busybox", "echo", "release image"]\n',
  files: Record<string, Buffer> = {},
): string {
  const dir = workDir('release-repo');
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data, { mode: 0o755 });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'release@example.com');
  git(dir, 'config', 'user.name', 'Release');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'release');
  git(dir, 'tag', tag);
  return dir;
}

function skopeoInspect(ref: string, creds?: string): { Labels: Record<string, string>; Architecture: string; Digest: string } {
  return JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${ref}`], { encoding: 'utf8' })) as never;
}

describe(
  'build-release-image (real dockerd and registries; buildx and BuildKit built from source)',
  { skip: needs('root', 'dockerd', 'docker', 'busybox', 'skopeo', 'git') },
  () => {
    let d: Dockerd;
    before(async () => {
      d = await startDockerd();
    });
    after(async () => {
      await d?.stop();
    });
    const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
      runCli(['build-release-image', ...args], { DOCKER_HOST: d.host, DOCKER_CONFIG: d.env.DOCKER_CONFIG, ...env });

    test('tag checked, tags derived, check run, pushed with labels, saved archive loads with docker load', async () => {
      const reg = await startRegistry();
      try {
        const repo = releaseRepo('openEuler-22.03-LTS-SP1');
        const out = join(workDir('out'), 'release.tar.gz');
        const r = await cli([
          '--context',
          repo,
          '--image',
          `${reg.host}/release/app`,
          '--tag',
          'openEuler-22.03-LTS-SP1',
          '--version',
          'openEuler-22.03-LTS-SP1',
          '--tag-rules',
          'special.openEuler-22.03-*=22.03',
          '--build-args',
          'GREETING=from-ci, with a comma',
          '--labels',
          'com.example.team=release, platform',
          '--check',
          '/bin/busybox test -x /bin/busybox && /bin/busybox echo check-ran',
          '--save',
          out,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /docker buildx is not available: building with the classic builder/);
        assert.match(r.stderr + r.stdout, /check-ran/, 'the check ran inside the image');
        assert.deepEqual(r.outputs.tags.split('\n'), ['openEuler-22.03-LTS-SP1', '22.03-lts-sp1', '22.03', 'latest']);
        const refs = r.outputs['image-refs'].split('\n');
        assert.deepEqual(
          refs,
          ['openEuler-22.03-LTS-SP1', '22.03-lts-sp1', '22.03', 'latest'].map((t) => `${reg.host}/release/app:${t}`),
        );
        // one digest under every tag, the one reported
        for (const ref of refs) assert.equal(sha256(inspectRaw(ref)), r.outputs.digest, ref);
        const manifest = JSON.parse(inspectRaw(refs[0])) as { mediaType: string; layers: { mediaType: string }[] };
        assert.deepEqual(
          manifest.layers.map((l) => l.mediaType),
          ['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar+gzip'],
          'layers pushed compressed',
        );
        const info = skopeoInspect(refs[1]);
        assert.equal(info.Labels['org.opencontainers.image.revision'], git(repo, 'rev-parse', 'HEAD'));
        assert.equal(info.Labels['org.opencontainers.image.version'], 'openEuler-22.03-LTS-SP1');
        assert.match(info.Labels['org.opencontainers.image.created'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(info.Labels['com.example.team'], 'release, platform');
        assert.equal(info.Labels.greeting, 'from-ci, with a comma', 'build-args reached the build, commas and all');
        const meta = JSON.parse(r.outputs.metadata) as { builder: string; images: { digest: string; platforms: string[] }[] };
        assert.equal(meta.builder, 'classic');
        assert.deepEqual(meta.images[0].platforms, ['linux/amd64']);
        // the saved archive: its sha256 as reported, and docker load gives a runnable image
        assert.equal(r.outputs.saved, out);
        assert.equal(sha256(readFileSync(out)), `sha256:${r.outputs['saved-sha256']}`);
        d.docker(['rmi', '-f', ...refs]);
        assert.match(d.docker(['load', '-i', out]), new RegExp(`Loaded image: ${reg.host}/release/app:openEuler-22.03-LTS-SP1`));
        assert.equal(d.docker(['run', '--rm', '--network', 'none', `${reg.host}/release/app:openEuler-22.03-LTS-SP1`]).trim(), 'release image');
      } finally {
        await reg.stop();
      }
    });

    test('a failing check fails the step and nothing is pushed or saved', async () => {
      const reg = await startRegistry();
      try {
        const repo = releaseRepo('v2.0.0');
        const out = join(workDir('out'), 'release.tar');
        const r = await cli(['--context', repo, '--image', `${reg.host}/release/app`, '--tag', 'v2.0.0', '--check', '/bin/busybox false', '--save', out]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /check failed on linux\/amd64 \(exit 1\)/);
        assert.deepEqual(await catalog(reg), []);
        assert.equal(d.docker(['images', '-q', `${reg.host}/release/app`]).trim(), '', 'the release tags were taken off the unchecked image');
        assert.equal(existsSync(out), false);
        assert.equal(existsSync(`${out}.partial`), false);
      } finally {
        await reg.stop();
      }
    });

    test('registry.yaml: two basic-auth registries, credentials from env vars, one digest in both', async () => {
      const a = await startRegistry({ auth: 'htpasswd', users: { ci: 'secret-a-123' } });
      const b = await startRegistry({ auth: 'htpasswd', users: { bot: 'secret-b-456' } });
      try {
        const repo = releaseRepo('v3.1.0');
        const yaml = join(repo, 'registry.yaml');
        writeFileSync(
          yaml,
          `registries:\n  - repository: ${a.host}/prod/app\n    username-env: A_USER\n    password-env: A_PASS\n  - repository: ${b.host}/mirror/app\n    username-env: B_USER\n    password-env: B_PASS\n`,
        );
        const env = { A_USER: 'ci', A_PASS: 'secret-a-123', B_USER: 'bot', B_PASS: 'secret-b-456' };
        // registry.yaml is an untracked file: describe stays clean (untracked files are not "dirty")
        const r = await cli(['--context', repo, '--registries', yaml, '--tag', 'v3.1.0', '--tag-rules', 'latest: false'], env);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.outputs['image-refs'].split('\n'), [`${a.host}/prod/app:v3.1.0`, `${b.host}/mirror/app:v3.1.0`]);
        assert.equal(sha256(inspectRaw(`${a.host}/prod/app:v3.1.0`, { username: 'ci', password: 'secret-a-123' })), r.outputs.digest);
        assert.equal(sha256(inspectRaw(`${b.host}/mirror/app:v3.1.0`, { username: 'bot', password: 'secret-b-456' })), r.outputs.digest);
        assert.doesNotMatch(r.stdout + r.stderr, /secret-a-123|secret-b-456/);

        const unset = await cli(['--context', repo, '--registries', yaml, '--tag', 'v3.1.0'], { ...env, B_PASS: '' });
        assert.equal(unset.code, 1);
        assert.match(unset.stderr, /input "registries" \(\S+registry\.yaml\), entry 2: environment variable B_PASS \(password-env\) is not set/);

        const none = await cli(['--context', repo, '--image', `${a.host}/prod/app`, '--tag', 'v3.1.0']);
        assert.equal(none.code, 1);
        assert.match(none.stderr, new RegExp(`push to ${a.host}/prod/app needs credentials and none were given for ${a.host}`));
        assert.doesNotMatch(none.stderr, /classic builder/, 'refused before building');

        const wrong = await cli([
          '--context',
          repo,
          '--image',
          `${a.host}/prod/app`,
          '--tag',
          'v3.1.0',
          '--registry-auth',
          `${a.host}: {username: ci, password: not-the-password}`,
        ]);
        assert.equal(wrong.code, 1);
        assert.match(wrong.stderr, new RegExp(`push to ${a.host}/prod/app is refused with the credentials given`));
        assert.doesNotMatch(wrong.stderr, /not-the-password/);
      } finally {
        await a.stop();
        await b.stop();
      }
    });

    test('several registries: one failing after another took the image fails the step naming it, outputs say who holds what; a re-run pushes only what is missing; 429s are waited out', async () => {
      const a = await startRegistry();
      const b = await startRegistry();
      const pa = await startFaultProxy(a.url);
      const pb = await startFaultProxy(b.url, { rules: [{ match: { method: 'PUT', path: '/manifests/' }, action: 'status', status: 500, body: 'storage backend down' }] });
      try {
        const repo = releaseRepo('v3.2.0');
        const yaml = join(workDir('yaml'), 'registry.yaml');
        writeFileSync(yaml, `registries:\n  - repository: ${pa.host}/prod/app\n  - repository: ${pb.host}/mirror/app\n`);
        const args = ['--context', repo, '--registries', yaml, '--tag', 'v3.2.0', '--tag-rules', 'latest: false'];
        // a reproducible build (SOURCE_DATE_EPOCH): the re-run builds the same digest
        const epoch = { SOURCE_DATE_EPOCH: '1767225600' };
        const first = await cli(args, epoch);
        assert.equal(first.code, 1);
        assert.match(
          first.stderr,
          new RegExp(
            `push failed for 1 of 2 references \\(${pb.host.replace(/[.]/g, '\\.')}/mirror/app:v3\\.2\\.0: .*500.*\\); sha256:[0-9a-f]{64} is in ${pa.host.replace(/[.]/g, '\\.')}/prod/app:v3\\.2\\.0\\. Run again`,
          ),
        );
        assert.deepEqual(first.outputs['image-refs'].split('\n'), [`${pa.host}/prod/app:v3.2.0`]);
        assert.equal(sha256(inspectRaw(`${a.host}/prod/app:v3.2.0`)), first.outputs.digest, 'the registry that worked holds the digest the outputs name');
        // the job summary (on stderr in the CLI): each reference, what it holds or why it failed
        assert.match(first.stderr, /pushed to 1 of 2 references/);
        assert.match(first.stderr, new RegExp(`${pb.host.replace(/[.]/g, '\\.')}/mirror/app:v3\\.2\\.0.*failed: .*500`));

        // the second registry back, though busy: two 429s with Retry-After, waited out
        await pb.setRules([
          {
            match: { method: 'PUT', path: '/manifests/', times: 2 },
            action: 'status',
            status: 429,
            retryAfter: 1,
            body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
          },
        ]);
        await pa.resetStats();
        await pb.resetStats();
        const again = await cli(args, epoch);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.outputs.digest, first.outputs.digest);
        assert.equal((await pb.stats()).faults.status, 2, 'both 429s were met');
        assert.equal(sha256(inspectRaw(`${b.host}/mirror/app:v3.2.0`)), again.outputs.digest);
        const toA = (await pa.stats()).log.filter((l) => l.method !== 'HEAD' && l.method !== 'GET');
        assert.deepEqual(
          toA.filter((l) => l.method === 'PUT' || l.method === 'PATCH').map((l) => `${l.method} ${l.path}`),
          [],
          'nothing was pushed again to the registry that had it',
        );
      } finally {
        await pa.stop();
        await pb.stop();
        await a.stop();
        await b.stop();
      }
    });

    test(
      'from-archives: per-architecture docker-save archives (xz and gzip) over http, resumed and verified, joined into one index, checked on both platforms, tagged, pushed, saved; no build',
      { skip: needs('xz', 'gzip', 'tar', 'qemu-aarch64-static') },
      async () => {
        await ensureBinfmtMounted();
        const had = existsSync(join(BINFMT, 'qemu-aarch64'));
        await registerHostHandlers(['linux/arm64']);
        const reg = await startRegistry();
        // two `docker save` archives as a distribution publishes them: uncompressed layers, one image each
        const site = workDir('site');
        const dir = join(site, 'openEuler-22.03-LTS-SP1', 'docker_img');
        mkdirSync(join(dir, 'x86_64'), { recursive: true });
        mkdirSync(join(dir, 'aarch64'), { recursive: true });
        dockerSaveArchive(join(dir, 'x86_64', 'openEuler-docker.x86_64.tar'), 'amd64', {
          'bin/true': readFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()),
        });
        dockerSaveArchive(join(dir, 'aarch64', 'openEuler-docker.aarch64.tar'), 'arm64', { 'bin/true': arm64Exit(0) });
        execFileSync('xz', ['-0', join(dir, 'aarch64', 'openEuler-docker.aarch64.tar')]);
        execFileSync('gzip', ['-n', join(dir, 'x86_64', 'openEuler-docker.x86_64.tar')]);
        const xzFile = join(dir, 'aarch64', 'openEuler-docker.aarch64.tar.xz');
        const gzFile = join(dir, 'x86_64', 'openEuler-docker.x86_64.tar.gz');
        writeFileSync(`${xzFile}.sha256sum`, `${sha256(readFileSync(xzFile)).slice(7)}  openEuler-docker.aarch64.tar.xz\n`);
        writeFileSync(`${gzFile}.sha256`, `${sha256(readFileSync(gzFile)).slice(7)}\n`);
        // a file server whose first answer for the xz archive is cut off half-way (the download resumes)
        const seen: string[] = [];
        let cut = true;
        const server = createServer((req, res) => {
          const path = join(site, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
          seen.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`);
          if (!existsSync(path)) {
            res.writeHead(404);
            return res.end();
          }
          const data = readFileSync(path);
          const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
          const start = range ? Number(range[1]) : 0;
          res.writeHead(range ? 206 : 200, { 'content-length': data.length - start, ...(range ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
          if (cut && path.endsWith('.xz')) {
            cut = false;
            res.write(data.subarray(0, Math.floor(data.length / 2)));
            return setTimeout(() => res.socket?.destroy(), 50);
          }
          res.end(data.subarray(start));
        });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
        const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/openEuler-{version}/{index}/{arch}/openEuler-docker.{arch}`;
        try {
          const archives = `linux/amd64=${base}.tar.gz\nlinux/arm64=${base}.tar.xz\n`;
          const out = join(workDir('out'), 'openeuler.tar');
          const args = [
            '--from-archives',
            archives,
            '--image',
            `${reg.host}/library/openeuler`,
            '--tag',
            'openEuler-22.03-LTS-SP1',
            '--version',
            '22.03-LTS-SP1',
            '--tag-rules',
            'special.openEuler-22.03-*=22.03',
            '--no-verify-describe',
            '--check',
            '["/bin/true"]',
          ];
          const r = await cli([...args, '--save', out, '--save-platform', 'all']);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /linux\/arm64: openEuler-docker\.aarch64\.tar\.xz verified/);
          assert.ok(
            seen.some((l) => /aarch64\.tar\.xz bytes=\d+-$/.test(l)),
            `the cut download was resumed with a Range request (${seen.join('; ')})`,
          );
          assert.deepEqual(r.outputs.tags.split('\n'), ['openEuler-22.03-LTS-SP1', '22.03-lts-sp1', '22.03', 'latest']);
          const meta = JSON.parse(r.outputs.metadata);
          assert.equal(meta.builder, 'archives');
          assert.deepEqual(meta.images[0].checked, ['linux/amd64', 'linux/arm64']);
          // skopeo: one index, both platforms, every tag; layers gzip-compressed
          const raw = inspectRaw(`${reg.host}/library/openeuler:22.03`);
          assert.equal(sha256(raw), r.outputs.digest);
          const index = JSON.parse(raw) as { manifests: { digest: string; platform: { architecture: string } }[] };
          assert.deepEqual(
            index.manifests.map((m) => m.platform.architecture),
            ['amd64', 'arm64'],
          );
          const arm = JSON.parse(
            execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/library/openeuler@${index.manifests[1].digest}`], { encoding: 'utf8' }),
          ) as { layers: { mediaType: string }[] };
          assert.deepEqual(
            arm.layers.map((l) => l.mediaType),
            ['application/vnd.oci.image.layer.v1.tar+gzip'],
          );
          execFileSync('skopeo', ['copy', '--all', '-q', '--src-tls-verify=false', `docker://${reg.host}/library/openeuler:latest`, `oci:${workDir('copied')}:x`]);
          const saved = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' })) as { manifests: { digest: string }[] };
          assert.equal(saved.manifests[0].digest, r.outputs.digest);

          // the same archives again: the same digest (compression is deterministic), nothing pushed again
          const again = await cli(args);
          assert.equal(again.code, 0, again.stderr);
          assert.equal(again.outputs.digest, r.outputs.digest);
          assert.match(again.stderr, /already there/);

          // a checksum that does not match: the archive is named, nothing is pushed
          const wrong = await cli([
            '--from-archives',
            `linux/amd64=${base}.tar.gz ${'0'.repeat(64)}`,
            '--version',
            '22.03-LTS-SP1',
            '--image',
            `${reg.host}/library/damaged`,
            '--tag',
            'v1',
            '--no-verify-describe',
          ]);
          assert.equal(wrong.code, 1);
          assert.match(
            wrong.stderr,
            /linux\/amd64: \S+openEuler-docker\.x86_64\.tar\.gz has sha256 [0-9a-f]{64}, but its checksum says 0{64}: the archive is damaged or not the one published/,
          );
          assert.deepEqual((await catalog(reg)).sort(), ['library/openeuler']);
        } finally {
          server.close();
          await reg.stop();
          if (!had) await unregisterHandler('aarch64');
        }
      },
    );

    test('meta.yml: one image per entry, each with its own tag; later ones build FROM earlier ones', async () => {
      const reg = await startRegistry();
      try {
        const repo = releaseRepo('v4.0.0');
        writeFileSync(join(repo, 'Dockerfile.ai'), `FROM ${reg.host}/release/app:base-{tag}\nLABEL variant=ai\n`.replace('{tag}', 'v4.0.0'));
        writeFileSync(join(repo, 'meta.yml'), 'base-{tag}: Dockerfile\nai-{tag}: Dockerfile.ai\n');
        git(repo, 'add', '.');
        git(repo, 'commit', '-q', '-m', 'meta');
        git(repo, 'tag', '-f', 'v4.0.0');
        const r = await cli(['--context', repo, '--image', `${reg.host}/release/app`, '--tag', 'v4.0.0', '--meta', join(repo, 'meta.yml')]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.outputs.tags.split('\n'), ['base-v4.0.0', 'ai-v4.0.0']);
        const lines = r.outputs.digest.split('\n');
        assert.equal(lines.length, 2);
        assert.equal(`ai-v4.0.0 ${sha256(inspectRaw(`${reg.host}/release/app:ai-v4.0.0`))}`, lines[1]);
        assert.equal(skopeoInspect(`${reg.host}/release/app:ai-v4.0.0`).Labels.variant, 'ai');

        // the second image fails its check: the error says the first one was pushed already
        writeFileSync(join(repo, 'ai-marker'), 'ai\n');
        writeFileSync(join(repo, 'Dockerfile.ai'), `FROM ${reg.host}/release/app:base-v4.0.1\nCOPY ai-marker /ai-marker\n`);
        git(repo, 'add', '.');
        git(repo, 'commit', '-q', '-m', 'ai marker');
        git(repo, 'tag', '-f', 'v4.0.1');
        const failed = await cli([
          '--context',
          repo,
          '--image',
          `${reg.host}/release/app`,
          '--tag',
          'v4.0.1',
          '--meta',
          join(repo, 'meta.yml'),
          '--check',
          '/bin/busybox test ! -e /ai-marker',
        ]);
        assert.equal(failed.code, 1);
        assert.match(
          failed.stderr,
          new RegExp(
            `check failed on linux/amd64 \\(exit 1\\); this image was not pushed \\(the image before it in meta\\.yml was: ${reg.host.replace(/\./g, '\\.')}/release/app:base-v4\\.0\\.1\\)`,
          ),
        );
        assert.doesNotMatch(failed.stderr, /nothing was pushed/);
      } finally {
        await reg.stop();
      }
    });

    test(
      'real buildx and BuildKit (built from their Go modules): a remote builder builds linux/amd64 and linux/arm64, a RUN step through QEMU, checked on both, pushed, saved',
      { skip: needs('qemu-aarch64-static') || needsBuiltTools(['buildx', 'buildx'], ['buildkit', 'buildkitd']) },
      async () => {
        await ensureBinfmtMounted();
        const had = existsSync(join(BINFMT, 'qemu-aarch64'));
        const reg = await startRegistry();
        const second = await startRegistry({ auth: 'htpasswd', users: { bot: 'secret-b-789' } });
        const bk = await startBuildkitd({ insecureRegistries: [reg.host] });
        // this test's own docker config and caches: the buildx plugin it installs stays out of the other tests
        const env = { DOCKER_HOST: d.host, DOCKER_CONFIG: workDir('buildx-config'), XDG_CACHE_HOME: workDir('buildx-cache'), B_USER: 'bot', B_PASS: 'secret-b-789' };
        try {
          const setup = await runCli(
            [
              'setup-buildx-qemu',
              '--qemu-mode',
              'host',
              '--qemu-platforms',
              'linux/arm64',
              '--buildx-url',
              builtTool('buildx', 'buildx'),
              '--buildx-version',
              TOOL_VERSIONS.buildx,
              '--driver',
              'remote',
              '--endpoint',
              bk.endpoint,
              '--name',
              'airlift-remote',
              '--no-cleanup',
            ],
            env,
          );
          assert.equal(setup.code, 0, setup.stderr);
          assert.equal(setup.outputs['buildx-version'], TOOL_VERSIONS.buildx);
          assert.equal(setup.outputs.builder, 'airlift-remote');
          // a RUN step on each platform: the arm64 one is an arm64 program, so it runs only through QEMU
          const dockerfile = 'FROM scratch\nARG TARGETARCH\nARG RUN_ID=1\nCOPY true-${TARGETARCH} /bin/true\nRUN ["/bin/true"]\nCMD ["/bin/true"]\n';
          const busybox = readFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim());
          // Dockerfile.fail: an image whose arm64 /bin/true exits 42 (its check fails there only)
          const repo = releaseRepo('v7.0.0', dockerfile, {
            'true-amd64': busybox,
            'true-arm64': arm64Exit(0),
            'fail-amd64': busybox,
            'fail-arm64': arm64Exit(42),
            'Dockerfile.fail': Buffer.from('FROM scratch\nARG TARGETARCH\nCOPY fail-${TARGETARCH} /bin/true\nCMD ["/bin/true"]\n'),
          });
          const out = join(workDir('out'), 'all.tar');
          // two registries from a registry.yaml, the second with credentials from env vars; a registry cache
          const yaml = join(workDir('yaml'), 'registry.yaml');
          writeFileSync(
            yaml,
            `registries:\n  - repository: ${reg.host}/release/app\n  - repository: ${second.host}/mirror/app\n    username-env: B_USER\n    password-env: B_PASS\n`,
          );
          const cache = `${reg.host}/release/cache:buildx`;
          const args = ['--context', repo, '--registries', yaml, '--tag', 'v7.0.0', '--platforms', 'linux/amd64,linux/arm64', '--check', '["/bin/true"]', '--cache', cache];
          const r = await cli([...args, '--save', out, '--save-platform', 'all'], env);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(
            sha256(inspectRaw(`${second.host}/mirror/app:v7.0.0`, { username: 'bot', password: 'secret-b-789' })),
            r.outputs.digest,
            'the same index in the second registry',
          );
          assert.doesNotMatch(r.stdout + r.stderr, /secret-b-789/);
          const meta = JSON.parse(r.outputs.metadata);
          assert.equal(meta.builder, 'buildx');
          assert.deepEqual(meta.images[0].checked, ['linux/amd64', 'linux/arm64']);
          assert.match(r.stdout + r.stderr, /RUN \["\/bin\/true"\]/, 'BuildKit ran the RUN step');
          // skopeo: the index as built, both platforms, under every tag
          const raw = inspectRaw(`${reg.host}/release/app:v7.0.0`);
          assert.equal(sha256(raw), r.outputs.digest);
          const index = JSON.parse(raw) as { manifests: { platform?: { architecture: string } }[] };
          assert.deepEqual(
            index.manifests
              .map((m) => m.platform?.architecture)
              .filter((a) => a && a !== 'unknown')
              .sort(),
            ['amd64', 'arm64'],
          );
          assert.equal(sha256(inspectRaw(`${reg.host}/release/app:latest`)), r.outputs.digest);
          const saved = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' })) as { manifests: { digest: string }[] };
          assert.equal(saved.manifests[0].digest, r.outputs.digest, 'the saved OCI archive holds the pushed index');

          // a check that fails on arm64 only (run there through QEMU): the step fails naming it, nothing pushed, no check image left
          const failing = await cli(
            [
              '--context',
              repo,
              '--dockerfile',
              'Dockerfile.fail',
              '--image',
              `${reg.host}/release/failcheck`,
              '--tag',
              'v7.0.0',
              '--platforms',
              'linux/amd64,linux/arm64',
              '--check',
              '["/bin/true"]',
            ],
            env,
          );
          assert.equal(failing.code, 1);
          assert.match(failing.stderr, /check failed on linux\/arm64 \(exit 42\)/);
          assert.match(failing.stdout + failing.stderr, /check on linux\/amd64/);
          assert.equal(d.docker(['images', '-q', 'airlift-check/*']).trim(), '', 'check images removed');

          // BuildKit's own cache emptied and the arm64 handler gone: the build still succeeds, so its
          // arm64 RUN step came from the registry cache (run, it would fail with exec format error)
          execFileSync(builtTool('buildkit', 'buildctl'), ['--addr', bk.endpoint, 'prune', '--all'], { stdio: 'pipe' });
          await unregisterHandler('aarch64');
          const again = await cli(
            args.filter((a, i) => a !== '--check' && args[i - 1] !== '--check'),
            env,
          );
          assert.equal(again.code, 0, again.stderr);
          assert.match(again.stdout + again.stderr, new RegExp(`importing cache manifest from ${cache.replace(/[.]/g, '\\.')}`), 'the registry cache was read');

          // without the arm64 handler a RUN step that is not in any cache cannot run: a clear failure, nothing pushed
          // (another RUN_ID: the RUN step is not taken from BuildKit's cache)
          const noQemu = await cli(
            ['--context', repo, '--image', `${reg.host}/release/noqemu`, '--tag', 'v7.0.0', '--platforms', 'linux/amd64,linux/arm64', '--build-args', 'RUN_ID=2'],
            env,
          );
          assert.equal(noQemu.code, 1);
          assert.match(
            noQemu.stderr,
            /a RUN step failed with "exec format error": the builder cannot run programs for linux\/arm64\. Register QEMU where buildkitd runs \(setup-buildx-qemu with qemu-platforms: linux\/arm64\)/,
          );
          assert.deepEqual((await catalog(reg)).sort(), ['release/app', 'release/cache'], 'nothing else was pushed');
        } finally {
          spawnSync('docker', ['buildx', 'rm', 'airlift-remote'], { env: { ...process.env, ...env }, stdio: 'ignore' });
          await bk.stop();
          await second.stop();
          await reg.stop();
          if (had) await registerHostHandlers(['linux/arm64']);
          else await unregisterHandler('aarch64');
        }
      },
    );

    test(
      'from-archives with meta: the base published from per-architecture archives, then a meta.yml image built FROM it on real buildx (a RUN step on both platforms)',
      { skip: needs('qemu-aarch64-static') || needsBuiltTools(['buildx', 'buildx'], ['buildkit', 'buildkitd']) },
      async () => {
        await ensureBinfmtMounted();
        const had = existsSync(join(BINFMT, 'qemu-aarch64'));
        await registerHostHandlers(['linux/arm64']);
        const reg = await startRegistry();
        const bk = await startBuildkitd({ insecureRegistries: [reg.host] });
        const env = { DOCKER_HOST: d.host, DOCKER_CONFIG: workDir('meta-config'), XDG_CACHE_HOME: workDir('meta-cache') };
        try {
          const setup = await runCli(
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
              bk.endpoint,
              '--name',
              'airlift-meta',
              '--no-cleanup',
            ],
            env,
          );
          assert.equal(setup.code, 0, setup.stderr);
          const site = workDir('meta-site');
          const busybox = readFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim());
          const lines = [
            ['amd64', busybox],
            ['arm64', arm64Exit(0)],
          ].map(([arch, program]) => {
            const file = join(site, `openEuler-docker.${arch as string}.tar`);
            dockerSaveArchive(file, arch as string, { 'bin/true': program as Buffer });
            return `linux/${arch as string}=${file} ${sha256(readFileSync(file)).slice(7)}`;
          });
          const repo = releaseRepo('v9.0.0', undefined, {
            'Dockerfile.tools': Buffer.from(`FROM ${reg.host}/library/openeuler:9.0.0\nRUN ["/bin/true"]\n`),
            'meta.yml': Buffer.from('"{version}-tools": Dockerfile.tools\n'),
          });
          const r = await cli(
            [
              '--from-archives',
              lines.join('\n'),
              '--meta',
              join(repo, 'meta.yml'),
              '--context',
              repo,
              '--image',
              `${reg.host}/library/openeuler`,
              '--tag',
              'v9.0.0',
              '--version',
              '9.0.0',
              '--check',
              '["/bin/true"]',
            ],
            env,
          );
          assert.equal(r.code, 0, r.stderr);
          const [base, tools] = r.outputs.digest.split('\n').map((l) => l.split(' '));
          assert.equal(base[0], 'v9.0.0');
          assert.equal(tools[0], '9.0.0-tools');
          assert.equal(sha256(inspectRaw(`${reg.host}/library/openeuler:9.0.0`)), base[1]);
          assert.equal(sha256(inspectRaw(`${reg.host}/library/openeuler:9.0.0-tools`)), tools[1]);
          assert.match(r.stdout + r.stderr, /RUN \["\/bin\/true"\]/);
          // the tools image is the base's layers and its own, per platform
          const baseIndex = JSON.parse(inspectRaw(`${reg.host}/library/openeuler:9.0.0`)) as { manifests: { digest: string }[] };
          const toolsIndex = JSON.parse(inspectRaw(`${reg.host}/library/openeuler:9.0.0-tools`)) as { manifests: { digest: string; platform?: { architecture: string } }[] };
          const layers = (ref: string) => (JSON.parse(inspectRaw(ref)) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
          const toolsAmd = toolsIndex.manifests.find((m) => m.platform?.architecture === 'amd64')!;
          assert.equal(layers(`${reg.host}/library/openeuler@${toolsAmd.digest}`)[0], layers(`${reg.host}/library/openeuler@${baseIndex.manifests[0].digest}`)[0]);
        } finally {
          spawnSync('docker', ['buildx', 'rm', 'airlift-meta'], { env: { ...process.env, ...env }, stdio: 'ignore' });
          await bk.stop();
          await reg.stop();
          if (!had) await unregisterHandler('aarch64');
        }
      },
    );

    test(
      "an air-gapped docker-container builder: its BuildKit image from a loopback registry, Docker Hub's FROM through a loopback mirror (counted), an insecure registry",
      { skip: needsBuiltTools(['buildx', 'buildx'], ['buildkit', 'buildkitd']) },
      async () => {
        const reg = await startRegistry();
        const mirror = await startRegistry();
        const mirrorProxy = await startFaultProxy(mirror.url);
        const env = { DOCKER_HOST: d.host, DOCKER_CONFIG: workDir('gapped-config'), XDG_CACHE_HOME: workDir('gapped-cache') };
        try {
          // the BuildKit image, made here from the built buildkitd and Debian's runc, in a private registry
          const image = buildkitImage(d.docker, reg.host);
          // Docker Hub's library/base:1, only on the mirror
          const base = workDir('base');
          await runnableImage(
            base,
            join(workDir('base-archive'), 'base.tar'),
            { 'linux/amd64': readFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()) },
            '1',
          );
          execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${base}:1`, `docker://${mirror.host}/library/base:1`]);

          const setup = await runCli(
            [
              'setup-buildx-qemu',
              '--qemu-mode',
              'none',
              '--buildx-url',
              builtTool('buildx', 'buildx'),
              '--buildx-version',
              TOOL_VERSIONS.buildx,
              '--driver',
              'docker-container',
              '--driver-opts',
              `image=${image},network=host`,
              '--registry-mirrors',
              `http://${mirrorProxy.host}`,
              '--insecure-registries',
              reg.host,
              '--name',
              'airlift-gapped',
              '--no-cleanup',
            ],
            env,
          );
          assert.equal(setup.code, 0, setup.stderr);
          assert.match(d.docker(['ps', '--format', '{{.Image}}']), new RegExp(image.replace(/[.]/g, '\\.')), 'the builder runs the private BuildKit image');

          const repo = releaseRepo('v8.0.0', 'FROM base:1\nRUN ["/bin/true"]\nCMD ["/bin/true"]\n');
          const r = await cli(['--context', repo, '--image', `${reg.host}/release/app`, '--tag', 'v8.0.0', '--platforms', 'linux/amd64', '--check', '["/bin/true"]'], env);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(JSON.parse(r.outputs.metadata).builder, 'buildx');
          const pulled = (await mirrorProxy.stats()).log.filter((l) => l.method === 'GET' && /\/v2\/library\/base\/(manifests|blobs)\//.test(l.path) && l.status === 200);
          assert.ok(
            pulled.length >= 2,
            `the FROM image came through the mirror (${JSON.stringify((await mirrorProxy.stats()).log.map((l) => `${l.method} ${l.path} ${l.status}`))})`,
          );
          assert.equal(sha256(inspectRaw(`${reg.host}/release/app:v8.0.0`)), r.outputs.digest);
        } finally {
          spawnSync('docker', ['buildx', 'rm', 'airlift-gapped'], { env: { ...process.env, ...env }, stdio: 'ignore' });
          await mirrorProxy.stop();
          await mirror.stop();
          await reg.stop();
        }
      },
    );

    test(
      "real buildx with the docker driver (the engine's own BuildKit): one platform built --load, read back, pushed and checked; several platforms refused",
      { skip: needsBuiltTools(['buildx', 'buildx']) },
      async () => {
        const reg = await startRegistry();
        // the built buildx as this test's CLI plugin; no builder created: the engine's default (docker driver)
        const config = workDir('docker-driver-config');
        mkdirSync(join(config, 'cli-plugins'), { recursive: true });
        copyFileSync(builtTool('buildx', 'buildx'), join(config, 'cli-plugins', 'docker-buildx'));
        chmodSync(join(config, 'cli-plugins', 'docker-buildx'), 0o755);
        const env = { DOCKER_CONFIG: config };
        try {
          const repo = releaseRepo('v5.5.0');
          const r = await cli(['--context', repo, '--image', `${reg.host}/release/app`, '--tag', 'v5.5.0', '--check', '/bin/busybox true'], env);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stderr, /the buildx builder uses the docker driver: building one platform into the daemon \(--load\)/);
          assert.equal(JSON.parse(r.outputs.metadata).builder, 'buildx-load');
          assert.equal(sha256(inspectRaw(`${reg.host}/release/app:v5.5.0`)), r.outputs.digest);
          assert.equal(skopeoInspect(`${reg.host}/release/app:v5.5.0`).Labels['org.opencontainers.image.version'], 'v5.5.0');
          const multi = await cli(['--context', repo, '--image', `${reg.host}/release/app`, '--tag', 'v5.5.0', '--platforms', 'linux/amd64,linux/arm64'], env);
          assert.equal(multi.code, 1);
          assert.match(multi.stderr, /needs a docker-container buildx builder; the current one uses the docker driver \(run setup-buildx-qemu first\)/);
        } finally {
          await reg.stop();
        }
      },
    );

    // What the real tools cannot show: the exact arguments buildx is given. A docker wrapper records
    // them and writes a prepared OCI archive as the export; everything else goes to the real docker.
    describe('the buildx arguments (docker wrapper: buildx build writes a prepared OCI archive)', () => {
      function fakeBuildx(archive: string): { bin: string; log: string } {
        const bin = workDir('fake-buildx');
        const log = join(bin, 'calls.log');
        const real = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
        writeFileSync(
          join(bin, 'docker'),
          `#!/bin/sh
if [ "$1" = "buildx" ]; then
  echo "$*" >> ${log}
  if [ "$2" = "version" ]; then echo "github.com/docker/buildx v0.99.0 0123abc"; exit 0; fi
  if [ "$2" = "inspect" ]; then printf 'Name: fake\\nDriver: docker-container\\n'; exit 0; fi
  for a in "$@"; do case "$a" in type=oci,dest=*) cp ${archive} "\${a#type=oci,dest=}";; esac; done
  exit 0
fi
exec ${real} "$@"
`,
        );
        chmodSync(join(bin, 'docker'), 0o755);
        return { bin, log };
      }

      test('multi-platform: pushed as built (index digest kept), OCI archive of all platforms saved, buildx arguments', async () => {
        const reg = await startRegistry();
        try {
          const repo = releaseRepo('v5.0.0');
          const archive = join(workDir('buildx-out'), 'image.tar');
          const index = await runnableImage(workDir('layout'), archive, { 'linux/amd64': readFileSync(join(repo, 'busybox')), 'linux/arm64': arm64Exit(0) });
          const { bin, log } = fakeBuildx(archive);
          const out = join(workDir('out'), 'all.tar');
          const r = await cli(
            [
              '--context',
              repo,
              '--image',
              `${reg.host}/release/app`,
              '--tag',
              'v5.0.0',
              '--platforms',
              'linux/amd64,linux/arm64',
              '--save',
              out,
              '--save-platform',
              'all',
              '--cache',
              `${reg.host}/release/cache:buildx`,
              '--build-args',
              'A=1',
            ],
            { PATH: `${bin}:${process.env.PATH}` },
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.outputs.digest, index);
          assert.equal(sha256(inspectRaw(`${reg.host}/release/app:v5.0.0`)), index);
          assert.equal(sha256(inspectRaw(`${reg.host}/release/app:latest`)), index);
          const call = readFileSync(log, 'utf8')
            .split('\n')
            .find((l) => l.startsWith('buildx build'))!;
          assert.match(call, / --platform linux\/amd64,linux\/arm64 /);
          assert.match(call, new RegExp(` --file ${repo}/Dockerfile --build-arg A=1 `));
          assert.match(call, new RegExp(` --label org\\.opencontainers\\.image\\.revision=${git(repo, 'rev-parse', 'HEAD')} `));
          assert.doesNotMatch(call, / --tag /, 'no names for the OCI exporter (it would write one index entry per name)');
          assert.match(
            call,
            new RegExp(` --cache-from type=registry,ref=${reg.host}/release/cache:buildx --cache-to type=registry,ref=${reg.host}/release/cache:buildx,mode=max `),
          );
          assert.match(call, / --output type=oci,dest=\S+image\.oci\.tar \S+$/);
          const savedIndex = JSON.parse(execFileSync('tar', ['-xOf', out, 'index.json'], { encoding: 'utf8' })) as { manifests: { digest: string }[] };
          assert.equal(savedIndex.manifests[0].digest, index, 'the OCI archive holds every platform under the same index');
          assert.equal(JSON.parse(r.outputs.metadata).builder, 'buildx');
        } finally {
          await reg.stop();
        }
      });
    });
  },
);

describe('verify-describe on real git repositories', { skip: needs('git') }, () => {
  test('tag match passes; a commit past the tag, a dirty tree, and no tags fail with both values', async () => {
    const repo = workDir('describe');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'a@b.c');
    git(repo, 'config', 'user.name', 'A');
    writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'one');
    await assert.rejects(
      verifyDescribe(repo, 'v1.0.0'),
      /git describe says "[0-9a-f]{7,}", the tag is "v1.0.0"; no tag is reachable from HEAD: fetch the tags \(actions\/checkout with fetch-depth: 0/,
    );
    git(repo, 'tag', 'v1.0.0');
    assert.equal(await verifyDescribe(repo, 'v1.0.0'), 'v1.0.0');
    await assert.rejects(verifyDescribe(repo, 'v1.0.1'), /git describe says "v1.0.0", the tag is "v1.0.1"; HEAD is not the tagged commit/);
    writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\nLABEL x=1\n');
    await assert.rejects(verifyDescribe(repo, 'v1.0.0'), /git describe says "v1.0.0-dirty", the tag is "v1.0.0": the working tree has uncommitted changes \(M Dockerfile\)/);
    git(repo, 'commit', '-q', '-am', 'two');
    await assert.rejects(verifyDescribe(repo, 'v1.0.0'), /git describe says "v1.0.0-1-g[0-9a-f]+", the tag is "v1.0.0"; HEAD is 1 commit\(s\) past the tag/);
    await assert.rejects(verifyDescribe(workDir('not-git'), 'v1.0.0'), /is not in a git repository \(set verify-describe: false/);
  });

  test('through the CLI: a mismatch fails before anything is built; input errors name the input', async () => {
    const repo = workDir('describe-cli');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'config', 'user.email', 'a@b.c');
    git(repo, 'config', 'user.name', 'A');
    writeFileSync(join(repo, 'Dockerfile'), 'FROM scratch\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'one');
    git(repo, 'tag', 'v1.0.0');
    const base = ['build-release-image', '--image', '127.0.0.1:1/release/app'];
    const mismatch = await runCli([...base, '--context', repo, '--tag', 'v9.9.9']);
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /git describe says "v1.0.0", the tag is "v9.9.9"/);
    const cases: [string[], RegExp][] = [
      [['--tag', 'v1.0.0', '--platforms', 'linux/sparc'], /input "platforms": unknown platform "linux\/sparc": architecture "sparc"/],
      [['--tag', 'v1.0.0', '--platforms', 'linux/amd64,linux/arm64'], /input "platforms": building linux\/amd64, linux\/arm64 at once needs docker buildx/],
      [['--tag', 'v1.0.0', '--dockerfile', 'nope/Dockerfile'], /input "dockerfile": nope\/Dockerfile was not found in the context/],
      [['--tag', 'v1.0.0', '--context', '/nonexistent'], /input "context": \/nonexistent is not a directory/],
      [['--tag', 'v1.0.0', '--save', 'x.tar', '--save-platform', 'linux/arm64'], /input "save-platform": linux\/arm64 is not built \(platforms: linux\/amd64\)/],
      [['--tag', 'v1.0.0', '--build-args', 'no-equals'], /input "build-args": "no-equals" is not KEY=value/],
      [['--tag', 'v1.0.0', '--tag-rules', 'latest: sometimes'], /input "tag-rules": latest must be auto, true or false/],
      [[], /input "tag": no tag given and GITHUB_REF is not set/],
      [
        ['--tag', 'v1.0.0', '--registries', '127.0.0.1:1/release/app:v1'],
        /input "registries", line 1: "127.0.0.1:1\/release\/app:v1" names a tag \(v1\); give the repository only/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await runCli([...base, ...(args.includes('--context') ? [] : ['--context', repo]), ...args]);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
  });
});
