// bench/pack-peers: pack-offline (every platform to one OCI archive) from a registry, and its
// import into a registry, against what a user would otherwise run, same data, same run, with the
// registry behind a network shape (bench/net.ts):
// - pack:   `skopeo copy --all` of each image into one OCI dir + tar;  `crane pull --format oci`
//           of all images into one layout + tar
// - import: a `skopeo copy --all` loop from OCI layouts;  `crane push --index`, 4 at a time
// Median, spread, CPU seconds, peak RSS; Airlift's ratio to the best peer.
//   node --import tsx bench/pack-peers.ts [--runs 3] [--images 20] [--shapes "loopback,80ms"] [--tools airlift,skopeo,crane]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../test/support/proc.js';
import { builtTool } from '../test/support/buildkitd.js';
import { arg, bestPeerLine, cells, fmt, must, stats, tableHead, timed, type Sample } from './common.js';
import { shapeByName, type Shape } from './net.js';
import { fixtureRegistry, overShapes } from './shaped.js';

const runs = Number(arg('runs', '3'));
const count = Number(arg('images', '20'));
const shapes = arg('shapes', 'loopback,80ms').split(',').map(shapeByName);
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const only = arg('tools', '').split(',').filter(Boolean);
const CRANE = builtTool('crane', 'crane');
type Tool = 'airlift' | 'skopeo' | 'crane';
const TOOLS: Tool[] = (['airlift', 'skopeo', 'crane'] as Tool[]).filter((t) => only.length === 0 || only.includes(t));

interface Image {
  name: string;
  tag: string;
}

/** Everything from `src` into one archive file under `out`. */
function pack(tool: Tool, src: string, images: Image[], out: string): Sample {
  const refs = images.map((i) => `${src}/release/${i.name}:${i.tag}`);
  if (tool === 'airlift') {
    writeFileSync(join(out, 'images.txt'), refs.join('\n') + '\n');
    return must(
      timed(process.execPath, [cli, 'pack-offline', '--images', join(out, 'images.txt'), '--format', 'oci-archive', '--output', 'airlift.tar', '--output-dir', out]),
      'airlift pack',
    );
  }
  if (tool === 'skopeo') {
    const dir = join(out, 'skopeo-oci');
    const script = refs.map((r, i) => `skopeo copy --all --quiet --src-tls-verify=false docker://${r} oci:${dir}:release/${images[i].name}:${images[i].tag}`).join(' && ');
    return must(timed('sh', ['-c', `${script} && tar -cf ${join(out, 'skopeo.tar')} -C ${dir} .`]), 'skopeo pack');
  }
  const dir = join(out, 'crane-oci');
  return must(timed('sh', ['-c', `${CRANE} pull --insecure --format oci --annotate-ref ${refs.join(' ')} ${dir} && tar -cf ${join(out, 'crane.tar')} -C ${dir} .`]), 'crane pull');
}

/** Everything into the registry `dst` under site/: Airlift from its archive, the peers from one OCI layout per image. */
function load(tool: Tool, dst: string, images: Image[], archive: string, layouts: string): Sample {
  if (tool === 'airlift') return must(timed(process.execPath, [cli, 'pack-offline', '--mode', 'import', '--archive', archive, '--target', `${dst}/site`]), 'airlift import');
  if (tool === 'skopeo') {
    const script = images.map((i) => `skopeo copy --all --quiet --dest-tls-verify=false oci:${join(layouts, i.name)} docker://${dst}/site/release/${i.name}:${i.tag}`).join(' && ');
    return must(timed('sh', ['-c', script]), 'skopeo import loop');
  }
  const pairs = join(layouts, 'pairs.txt');
  writeFileSync(pairs, images.map((i) => `${join(layouts, i.name)} ${dst}/site/release/${i.name}:${i.tag}`).join('\n') + '\n');
  return must(timed('sh', ['-c', `xargs -P 4 -n 2 ${CRANE} push --insecure --index < ${pairs}`]), 'crane push');
}

async function main() {
  const { fx, src, totalBytes: total, bigBlob } = await fixtureRegistry('pack-peers', count);
  const images: Image[] = fx.images.map((i) => ({ name: i.name, tag: i.tag }));
  let tables: string[];
  try {
    // inputs for the import legs, made once on loopback: Airlift's archive and one OCI layout per image
    const inputs = workDir('pack-peers-in');
    pack('airlift', src.host, images, inputs);
    const layouts = join(inputs, 'layouts');
    for (const i of images) must(timed(CRANE, ['pull', '--insecure', '--format', 'oci', `${src.host}/release/${i.name}:${i.tag}`, join(layouts, i.name)]), 'crane pull (inputs)');
    tables = await overShapes(
      { shapes, runs, tools: TOOLS, src, bigBlob },
      ({ tool, id, srcHost, dstHost, results }) => {
        (results[`${tool} pack`] ??= []).push(pack(tool, srcHost, images, workDir(`pack-${id}`)));
        (results[`${tool} import`] ??= []).push(load(tool, dstHost, images, join(inputs, 'airlift.tar'), layouts));
        return `pack ${fmt(results[`${tool} pack`].at(-1)!.seconds)}s, import ${fmt(results[`${tool} import`].at(-1)!.seconds)}s`;
      },
      table,
    );
  } finally {
    await src.stop();
  }
  console.log(
    `\nbench/pack-peers — ${count} images × 2 platforms (${fmt(total / 1e6, 0)} MB of unique blobs), the registry behind the shape, median of ${runs}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(tables.join('\n'));
}

function table(shape: Shape, results: Record<string, Sample[]>, measured: string): string {
  const lines = tableHead(`${shape.name} (${measured})`, ['pack', 'import']);
  const stat = (k: string) => stats(results[k]);
  for (const t of TOOLS) {
    const p = stat(`${t} pack`);
    const i = stat(`${t} import`);
    lines.push(`| ${t} | ${cells(p)} | ${cells(i)} | ${fmt(Math.max(p.rss, i.rss), 0)} |`);
  }
  for (const phase of ['pack', 'import']) {
    const line = bestPeerLine(
      phase,
      TOOLS.includes('airlift') ? stat(`airlift ${phase}`).med : undefined,
      TOOLS.filter((t) => t !== 'airlift').map((t) => ({ t, s: stat(`${t} ${phase}`).med })),
    );
    if (line) lines.push(line);
  }
  return lines.join('\n');
}

await main();
process.exit(0);
