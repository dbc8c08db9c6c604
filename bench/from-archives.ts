// bench/from-archives: publishing a distribution's per-architecture `docker save` archives as
// one multi-platform image, Airlift against the way it is done today, same archives, same run.
//   node --import tsx bench/from-archives.ts [--runs 3] [--rootfs-mb 64]
// - airlift: build-release-image --from-archives (download-free: local .tar.xz files, sha256
//   siblings), joined, compressed, pushed to a loopback registry; no docker daemon
// - today: `docker load` of each archive, each rootfs taken out of its archive, and
//   `docker buildx build --platform linux/amd64,linux/arm64` of `FROM scratch` + `ADD
//   rootfs-${TARGETARCH}.tar /` pushed to the same kind of registry (buildx and BuildKit built
//   by .ci/tools.sh, a remote builder)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startRegistry } from '../test/support/registry.js';
import { startDockerd } from '../test/support/dockerd.js';
import { builtTool, startBuildkitd, TOOL_VERSIONS } from '../test/support/buildkitd.js';
import { seededBytes } from '../test/support/fixtures.js';
import { dockerSaveArchive } from '../test/support/docker-save.js';
import { workDir } from '../test/support/proc.js';
import { arg, fmt, median, must, timed, type Sample } from './common.js';

const runs = Number(arg('runs', '3'));
const rootfsMb = Number(arg('rootfs-mb', '64'));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A rootfs-like layer: half incompressible, half text (a real rootfs compresses about 2–3×). */
function dockerSave(dir: string, arch: string, seed: number): { archive: string; rootfs: string } {
  const half = (rootfsMb * 1024 * 1024) / 2;
  const text = Buffer.from(
    Array.from({ length: half / 64 }, (_, i) => `line ${i} of the ${arch} rootfs: /usr/lib/lib${i % 977}.so.${i % 7}\n`)
      .join('')
      .slice(0, half),
  );
  const archive = join(dir, `openEuler-docker.${arch}.tar`);
  const { rootfs } = dockerSaveArchive(archive, arch, { 'usr/lib/random.bin': seededBytes(half, seed), 'usr/lib/text.txt': text });
  execFileSync('xz', ['-1', '-T2', archive]);
  writeFileSync(`${archive}.xz.sha256sum`, `${sha(readFileSync(`${archive}.xz`))}  openEuler-docker.${arch}.tar.xz\n`);
  return { archive: `${archive}.xz`, rootfs };
}

async function main() {
  const dir = workDir('bench-archives');
  process.stderr.write(`building two ${rootfsMb} MB per-architecture archives (xz)…\n`);
  const amd = dockerSave(dir, 'amd64', 1);
  const arm = dockerSave(dir, 'arm64', 2);
  const dockerd = await startDockerd();
  const t: Record<string, Sample[]> = { airlift: [], today: [] };
  try {
    for (let r = 0; r < runs; r++) {
      const reg = await startRegistry();
      t.airlift.push(
        must(
          timed(process.execPath, [
            cli,
            'build-release-image',
            '--from-archives',
            `linux/amd64=${amd.archive}\nlinux/arm64=${arm.archive}`,
            '--image',
            `${reg.host}/library/openeuler`,
            '--tag',
            `v${r}`,
            '--no-verify-describe',
            '--tag-rules',
            'latest: false',
          ]),
          'airlift from-archives',
        ),
      );
      await reg.stop();

      const reg2 = await startRegistry();
      const bk = await startBuildkitd({ insecureRegistries: [reg2.host] });
      const env = { ...dockerd.env, DOCKER_CONFIG: workDir('bench-docker-config'), DOCKER_BUILDKIT: '1' };
      mkdirSync(join(env.DOCKER_CONFIG, 'cli-plugins'), { recursive: true });
      execFileSync('cp', [builtTool('buildx', 'buildx'), join(env.DOCKER_CONFIG, 'cli-plugins', 'docker-buildx')]);
      execFileSync('docker', ['buildx', 'create', '--name', 'bench', '--driver', 'remote', '--use', bk.endpoint], { env, stdio: 'pipe' });
      const ctx = workDir('bench-ctx');
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nARG TARGETARCH\nADD rootfs-${TARGETARCH}.tar /\n');
      dockerd.docker(['system', 'prune', '-af']);
      const script = [
        `docker load -q -i ${amd.archive} && docker load -q -i ${arm.archive}`,
        // the rootfs of each loaded image, as a release engineer takes it out for the Dockerfile
        `docker save openeuler:amd64 | tar -xO --wildcards '*.tar' > ${ctx}/rootfs-amd64.tar`,
        `docker save openeuler:arm64 | tar -xO --wildcards '*.tar' > ${ctx}/rootfs-arm64.tar`,
        `docker buildx build -q --platform linux/amd64,linux/arm64 --output type=image,name=${reg2.host}/library/openeuler:v${r},push=true,registry.insecure=true ${ctx}`,
      ].join(' && ');
      t.today.push(must(timed('sh', ['-c', script], env), 'docker load + buildx build --push'));
      execFileSync('docker', ['buildx', 'rm', 'bench'], { env, stdio: 'pipe' });
      await bk.stop();
      await reg2.stop();
      process.stderr.write(`run ${r + 1}/${runs}: airlift ${fmt(t.airlift.at(-1)!.seconds)}s, docker load + buildx ${fmt(t.today.at(-1)!.seconds)}s\n`);
    }
  } finally {
    await dockerd.stop();
  }
  const m = (k: string) => median(t[k].map((s) => s.seconds));
  const rss = (k: string) => Math.max(...t[k].map((s) => s.maxRssMb));
  console.log(`\nbench/from-archives — 2 × ${rootfsMb} MB rootfs (xz archives), BuildKit ${TOOL_VERSIONS.buildkit}, buildx ${TOOL_VERSIONS.buildx}, median of ${runs}`);
  console.log(
    `airlift build-release-image --from-archives ${fmt(m('airlift'))}s (${fmt(rss('airlift'), 0)} MB RSS, no daemon) vs docker load + buildx build --push ${fmt(m('today'))}s → airlift/today = ${fmt(m('airlift') / m('today'))}`,
  );
}

await main();
process.exit(0);
