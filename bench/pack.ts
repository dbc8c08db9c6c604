// bench/pack: Airlift pack-offline vs the tools a user would otherwise use, same data, same run.
//   node --import tsx bench/pack.ts [--runs 3]
// - every platform to one archive: airlift oci-archive vs `skopeo copy --all` into an OCI dir + tar
// - one platform: airlift docker-archive vs `docker pull` + `docker save | gzip`
// - import into an empty registry: airlift import vs a `skopeo copy --all` loop
// - archive size vs the sum of the unique blobs it holds
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.js';
import { startDockerd } from '../test/support/dockerd.js';
import { pushFixture } from '../test/support/fixtures.js';
import { workDir } from '../test/support/proc.js';
import { hasTool, isRoot } from '../test/support/tools.js';
import { arg, benchFixture, fmt, median, must, timed, type Sample } from './common.js';

const runs = Number(arg('runs', '3'));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');

async function main() {
  const fx = await benchFixture();
  const src = await startRegistry();
  pushFixture(fx, { host: src.host }, { namespace: 'release' });
  const refs = fx.images.map((i) => `${src.host}/release/${i.name}:${i.tag}`);
  const uniqueAll = [...fx.blobs.values()].reduce((a, b) => a + b, 0);
  const t: Record<string, Sample[]> = { airOci: [], skopeoOci: [], airDocker: [], dockerSave: [], airImport: [], skopeoImport: [] };
  let archiveSize = 0;
  // Registry-only rounds first, the docker comparison after: a running dockerd's background
  // work (pruning, containerd GC) would otherwise land in whichever step runs next.
  try {
    for (let r = 0; r < runs; r++) {
      const out = workDir('bench-pack');
      const list = join(out, 'images.txt');
      writeFileSync(list, refs.join('\n') + '\n');
      t.airOci.push(
        must(timed(process.execPath, [cli, 'pack-offline', '--images', list, '--format', 'oci-archive', '--output', 'all.tar', '--output-dir', out]), 'airlift oci-archive'),
      );
      archiveSize = statSync(join(out, 'all.tar')).size;
      const ociDir = join(out, 'skopeo-oci');
      const script = refs.map((ref, i) => `skopeo copy --all --quiet --src-tls-verify=false docker://${ref} oci:${ociDir}:${fx.images[i].ref}`).join(' && ');
      t.skopeoOci.push(must(timed('sh', ['-c', `${script} && tar -cf ${join(out, 'skopeo.tar')} -C ${ociDir} .`]), 'skopeo + tar'));

      t.airDocker.push(
        must(
          timed(process.execPath, [cli, 'pack-offline', '--images', list, '--format', 'docker-archive', '--platform', 'linux/amd64', '--output-dir', out]),
          'airlift docker-archive',
        ),
      );

      const dstA = await startRegistry();
      t.airImport.push(
        must(timed(process.execPath, [cli, 'pack-offline', '--mode', 'import', '--archive', join(out, 'all.tar'), '--target', `${dstA.host}/site`]), 'airlift import'),
      );
      await dstA.stop();
      const dstS = await startRegistry();
      const imp = fx.images
        .map((img) => `skopeo copy --all --quiet --dest-tls-verify=false oci:${ociDir}:${img.ref} docker://${dstS.host}/site/release/${img.name}:${img.tag}`)
        .join(' && ');
      t.skopeoImport.push(must(timed('sh', ['-c', imp]), 'skopeo import loop'));
      await dstS.stop();
      process.stderr.write(
        `run ${r + 1}/${runs} done: airlift oci ${fmt(t.airOci.at(-1)!.seconds)}s, skopeo ${fmt(t.skopeoOci.at(-1)!.seconds)}s, airlift docker ${fmt(t.airDocker.at(-1)!.seconds)}s, import ${fmt(t.airImport.at(-1)!.seconds)}s vs ${fmt(t.skopeoImport.at(-1)!.seconds)}s\n`,
      );
    }
    if (hasTool('dockerd') && isRoot() && !process.argv.includes('--no-docker')) {
      const dockerd = await startDockerd();
      try {
        for (let r = 0; r < runs; r++) {
          dockerd.docker(['system', 'prune', '-af']);
          const out = workDir('bench-docker');
          t.dockerSave.push(
            must(
              timed(
                'sh',
                ['-c', `for r in ${refs.join(' ')}; do docker pull -q $r >/dev/null; done && docker save ${refs.join(' ')} | gzip > ${join(out, 'saved.tar.gz')}`],
                dockerd.env,
              ),
              'docker pull + save | gzip',
            ),
          );
        }
      } finally {
        await dockerd.stop();
      }
    }
  } finally {
    await src.stop();
  }
  const m = (k: string) => median(t[k].map((s) => s.seconds));
  const rss = (k: string) => Math.max(...t[k].map((s) => s.maxRssMb));
  console.log(`\nbench/pack — ${fx.images.length} images × 2 platforms, ${fmt(uniqueAll / 1e6, 0)} MB of unique blobs, median of ${runs}`);
  console.log(
    `every platform → one archive: airlift ${fmt(m('airOci'))}s (${fmt(rss('airOci'), 0)} MB RSS) vs skopeo copy --all + tar ${fmt(m('skopeoOci'))}s → airlift/skopeo = ${fmt(m('airOci') / m('skopeoOci'))} (target ≤ 0.70)`,
  );
  if (t.dockerSave.length)
    console.log(
      `one platform → docker-archive: airlift ${fmt(m('airDocker'))}s vs docker pull + save | gzip ${fmt(m('dockerSave'))}s → ${fmt(m('dockerSave') / m('airDocker'))}× faster (target ≥ 5)`,
    );
  console.log(
    `import into an empty registry: airlift ${fmt(m('airImport'))}s vs skopeo copy loop ${fmt(m('skopeoImport'))}s → airlift/skopeo = ${fmt(m('airImport') / m('skopeoImport'))} (target ≤ 0.60)`,
  );
  console.log(
    `archive size: ${fmt(archiveSize / 1e6, 1)} MB for ${fmt(uniqueAll / 1e6, 1)} MB of unique blobs → +${fmt(((archiveSize - uniqueAll) / uniqueAll) * 100, 2)}% (target ≤ 1%)`,
  );
}

await main();
process.exit(0);
