// bench/sync: Airlift sync-images vs `skopeo sync --all` vs the docker pull/tag/push loop, on
// loopback registries, same data, same run; cold (empty target) and warm (everything there).
//   node --import tsx bench/sync.ts [--runs 3] [--big-layer-mb 1024]
// Prints medians and ratios; with --big-layer-mb, also Airlift's peak RSS copying one image
// whose layer is that large (target: ≤ 150 MB for 1 GB).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry, type Registry } from '../test/support/registry.js';
import { startDockerd } from '../test/support/dockerd.js';
import { buildOciFixture, pushFixture, type Fixture } from '../test/support/fixtures.js';
import { workDir } from '../test/support/proc.js';
import { hasTool, isRoot } from '../test/support/tools.js';
import { arg, BENCH_IMAGES, benchFixture, fmt, median, must, timed, type Sample } from './common.js';

const runs = Number(arg('runs', '3'));
const bigMb = Number(arg('big-layer-mb', '0'));
const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
if (!existsSync(cli)) throw new Error('run npm run build first (the benchmark runs dist/cli.js, as users do)');

const IMAGES = BENCH_IMAGES;

function airlift(src: Registry, dst: Registry, fx: Fixture, out: string): Sample {
  const list = join(out, 'images.txt');
  writeFileSync(list, fx.images.map((i) => `release/${i.name}:${i.tag}`).join('\n') + '\n');
  return must(timed(process.execPath, [cli, 'sync-images', '--images', list, '--source-registry', src.host, '--target', `${dst.host}/mirror`, '--output-dir', out]), 'airlift');
}

function skopeo(src: Registry, dst: Registry, fx: Fixture, out: string): Sample {
  const yaml = join(out, 'skopeo-sync.yaml');
  const images = fx.images.map((i) => `    release/${i.name}: ["${i.tag}"]`).join('\n');
  writeFileSync(yaml, `${src.host}:\n  tls-verify: false\n  images:\n${images}\n`);
  return must(timed('skopeo', ['sync', '--all', '--preserve-digests', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', yaml, `${dst.host}/mirror`]), 'skopeo');
}

function dockerLoop(env: NodeJS.ProcessEnv, src: Registry, dst: Registry, fx: Fixture, out: string): Sample {
  const script = join(out, 'sync.sh');
  // what release engineers run today (one platform only: the daemon's)
  writeFileSync(
    script,
    `#!/bin/sh\nset -e\nfor img in ${fx.images.map((i) => `release/${i.name}:${i.tag}`).join(' ')}; do\n  docker pull -q ${src.host}/$img >/dev/null || echo $img >> ${out}/miss_image.txt\n  docker tag ${src.host}/$img ${dst.host}/mirror/$img\n  docker push -q ${dst.host}/mirror/$img >/dev/null || echo $img >> ${out}/miss_push_image.txt\ndone\n`,
  );
  return must(timed('sh', [script], env), 'docker loop');
}

async function main() {
  const fx = await benchFixture();
  const total = [...fx.blobs.values()].reduce((a, b) => a + b, 0);
  const src = await startRegistry();
  pushFixture(fx, { host: src.host }, { namespace: 'release' });
  const withDocker = hasTool('dockerd') && isRoot();
  const dockerd = withDocker ? await startDockerd() : undefined;

  const results: Record<string, { cold: Sample[]; warm: Sample[] }> = { airlift: { cold: [], warm: [] }, skopeo: { cold: [], warm: [] }, docker: { cold: [], warm: [] } };
  try {
    for (let r = 0; r < runs; r++) {
      for (const tool of ['airlift', 'skopeo', ...(dockerd ? ['docker'] : [])]) {
        const dst = await startRegistry();
        const out = workDir(`bench-${tool}`);
        if (dockerd) dockerd.docker(['system', 'prune', '-af']);
        const go = () => (tool === 'airlift' ? airlift(src, dst, fx, out) : tool === 'skopeo' ? skopeo(src, dst, fx, out) : dockerLoop(dockerd!.env, src, dst, fx, out));
        results[tool].cold.push(go());
        results[tool].warm.push(go());
        await dst.stop();
        process.stderr.write(`run ${r + 1}/${runs} ${tool}: cold ${fmt(results[tool].cold.at(-1)!.seconds)}s, warm ${fmt(results[tool].warm.at(-1)!.seconds)}s\n`);
      }
    }
  } finally {
    await dockerd?.stop();
  }

  const med = (t: string, k: 'cold' | 'warm') => median(results[t][k].map((s) => s.seconds));
  const rss = (t: string) => Math.max(...[...results[t].cold, ...results[t].warm].map((s) => s.maxRssMb));
  console.log(`\nbench/sync — ${IMAGES.length} images × 2 platforms, ${fmt(total / 1e6, 0)} MB of unique blobs, loopback registries, median of ${runs}`);
  console.log('tool     cold (s)  warm (s)  peak RSS (MB)');
  for (const t of ['airlift', 'skopeo', ...(dockerd ? ['docker'] : [])])
    console.log(
      `${t.padEnd(8)} ${fmt(med(t, 'cold')).padStart(8)}  ${fmt(med(t, 'warm')).padStart(8)}  ${fmt(rss(t), 0).padStart(13)}${t === 'docker' ? '   (amd64 only: one platform)' : ''}`,
    );
  console.log(`airlift/skopeo cold = ${fmt(med('airlift', 'cold') / med('skopeo', 'cold'))}  (target ≤ 0.60)`);
  console.log(`airlift/skopeo warm = ${fmt(med('airlift', 'warm') / med('skopeo', 'warm'))}  (target ≤ 1.00)`);
  if (dockerd) console.log(`airlift/docker cold = ${fmt(med('airlift', 'cold') / med('docker', 'cold'))}  (docker copies half the data)`);

  if (bigMb > 0) {
    process.stderr.write(`building one image with a ${bigMb} MB layer…\n`);
    const big = await buildOciFixture(workDir('bench-big'), {
      images: ['big'],
      platforms: ['linux/amd64'],
      baseLayerBytes: bigMb * 1024 * 1024,
      appLayers: 0,
      compressible: 0,
      gzipLevel: 1,
    });
    pushFixture(big, { host: src.host }, { namespace: 'release' });
    const dst = await startRegistry();
    const s = airlift(src, dst, big, workDir('bench-big-out'));
    const k = skopeo(src, await startRegistry(), big, workDir('bench-big-skopeo'));
    console.log(`one ${bigMb} MB layer: airlift ${fmt(s.seconds)}s, peak RSS ${fmt(s.maxRssMb, 0)} MB (target ≤ 150); skopeo ${fmt(k.seconds)}s, ${fmt(k.maxRssMb, 0)} MB`);
    await dst.stop();
  }
  await src.stop();
}

await main();
process.exit(0);
