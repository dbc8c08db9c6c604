// bench/peers: sync-images against the best registry copy tools a user would pick instead
// (skopeo sync, crane copy run 4 at a time, regsync with parallel 4), same data, same run, under
// network shapes (bench/net.ts: toxiproxy in front of each registry). Cold: an empty target;
// warm: everything already there. Each tool's median, spread, CPU seconds and peak RSS; Airlift's
// ratio to the best peer.
//   node --import tsx bench/peers.ts [--runs 3] [--images 20] [--shapes "loopback,20ms,80ms"] [--remote both|source|target] [--base-mb 20] [--tools airlift,skopeo,crane,regsync,floor]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Fixture } from '../test/support/fixtures.js';
import { workDir } from '../test/support/proc.js';
import { builtTool } from '../test/support/buildkitd.js';
import { arg, bestPeerLine, cells, fmt, must, stats, tableHead, timed, type Sample } from './common.js';
import { shapeByName, SHAPES, type Shape } from './net.js';
import { fixtureRegistry, overShapes } from './shaped.js';

const runs = Number(arg('runs', '3'));
const count = Number(arg('images', '20'));
const baseMb = Number(arg('base-mb', '20'));
const remote = arg('remote', 'both');
const shapes = arg('shapes', SHAPES.map((s) => s.name.replace(/\s+/g, '')).join(','))
  .split(',')
  .map(shapeByName);
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const only = arg('tools', '').split(',').filter(Boolean);
const extra = arg('airlift-args', '').split(' ').filter(Boolean);
const CRANE = builtTool('crane', 'crane');
const REGSYNC = builtTool('regclient', 'regsync');

type Tool = 'airlift' | 'skopeo' | 'crane' | 'regsync' | 'floor';
const TOOLS: Tool[] = (['airlift', 'skopeo', 'crane', 'regsync', 'floor'] as Tool[]).filter((t) => only.length === 0 || only.includes(t));
/** bench/floor.ts bundled (no TypeScript loader at run time, as Airlift runs from dist/) */
let floorJs = '';

function run(tool: Tool, src: string, dst: string, fx: Fixture, out: string): Sample {
  const refs = fx.images.map((i) => `release/${i.name}:${i.tag}`);
  if (tool === 'floor')
    return must(
      timed(process.execPath, [
        floorJs,
        '--src',
        src,
        '--dst',
        dst,
        '--layout',
        fx.dir,
        '--plan',
        JSON.stringify(fx.images.map((i) => ({ name: i.name, tag: i.tag, ref: i.ref }))),
      ]),
      'floor',
    );
  if (tool === 'airlift') {
    writeFileSync(join(out, 'images.txt'), refs.join('\n') + '\n');
    return must(
      timed(process.execPath, [cli, 'sync-images', '--images', join(out, 'images.txt'), '--source-registry', src, '--target', `${dst}/mirror`, '--output-dir', out, ...extra]),
      'airlift',
    );
  }
  if (tool === 'skopeo') {
    const yaml = join(out, 'skopeo.yaml');
    writeFileSync(yaml, `${src}:\n  tls-verify: false\n  images:\n${fx.images.map((i) => `    release/${i.name}: ["${i.tag}"]`).join('\n')}\n`);
    return must(timed('skopeo', ['sync', '--all', '--preserve-digests', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', yaml, `${dst}/mirror`]), 'skopeo');
  }
  if (tool === 'crane') {
    // a list copied the way crane's users do it: one `crane copy` per image, 4 at a time
    const list = join(out, 'pairs.txt');
    writeFileSync(list, refs.map((r) => `${src}/${r} ${dst}/mirror/${r}`).join('\n') + '\n');
    return must(timed('sh', ['-c', `xargs -P 4 -n 2 ${CRANE} copy --insecure < ${list}`]), 'crane');
  }
  const cfg = join(out, 'regsync.yaml');
  writeFileSync(
    cfg,
    `version: 1\ncreds:\n  - registry: ${src}\n    tls: disabled\n  - registry: ${dst}\n    tls: disabled\ndefaults:\n  parallel: 4\nsync:\n${refs.map((r) => `  - source: ${src}/${r}\n    target: ${dst}/mirror/${r}\n    type: image\n`).join('')}`,
  );
  return must(timed(REGSYNC, ['once', '-c', cfg, '--logopt', 'json', '-v', 'error'], { ...process.env, HOME: out }), 'regsync');
}

async function main() {
  if (TOOLS.includes('floor')) {
    floorJs = join(workDir('floor'), 'floor.mjs');
    const { buildSync } = await import('esbuild');
    buildSync({ entryPoints: [join(import.meta.dirname, 'floor.ts')], bundle: true, platform: 'node', format: 'esm', outfile: floorJs, logLevel: 'error' });
  }
  const { fx, src, totalBytes: total, bigBlob } = await fixtureRegistry('peers', count, baseMb);
  let tables: string[];
  try {
    tables = await overShapes(
      { shapes, runs, tools: TOOLS, src, bigBlob, remote: remote as 'both' | 'source' | 'target' },
      ({ tool, id, srcHost, dstHost, results }) => {
        const out = workDir(`peers-${id}`);
        // the floor client does the whole work whatever is there: it has no warm case
        for (const phase of tool === 'floor' ? (['cold'] as const) : (['cold', 'warm'] as const)) (results[`${tool} ${phase}`] ??= []).push(run(tool, srcHost, dstHost, fx, out));
        return `cold ${fmt(results[`${tool} cold`].at(-1)!.seconds)}s${tool === 'floor' ? '' : `, warm ${fmt(results[`${tool} warm`].at(-1)!.seconds)}s`}`;
      },
      table,
    );
  } finally {
    await src.stop();
  }
  console.log(
    `\nbench/peers — sync of ${count} images × 2 platforms (${fmt(total / 1e6, 0)} MB of unique blobs), ${remote === 'both' ? 'both registries' : `the ${remote} registry`} behind the shape, median of ${runs}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(tables.join('\n'));
}

function table(shape: Shape, results: Record<string, Sample[]>, measured: string): string {
  const lines = tableHead(`${shape.name} (${measured})`, ['cold', 'warm']);
  const stat = (k: string) => stats(results[k]);
  for (const t of TOOLS) {
    const c = stat(`${t} cold`);
    if (t === 'floor') {
      lines.push(`| floor (bench/floor.ts) | ${cells(c)} | — | — | ${fmt(c.rss, 0)} |`);
      continue;
    }
    const w = stat(`${t} warm`);
    lines.push(`| ${t} | ${cells(c)} | ${cells(w)} | ${fmt(Math.max(c.rss, w.rss), 0)} |`);
  }
  const self = (phase: string) => (TOOLS.includes('airlift') ? stat(`airlift ${phase}`).med : NaN);
  for (const phase of ['cold', 'warm']) {
    const line = bestPeerLine(
      phase,
      TOOLS.includes('airlift') ? self(phase) : undefined,
      TOOLS.filter((t) => t !== 'airlift' && t !== 'floor').map((t) => ({ t, s: stat(`${t} ${phase}`).med })),
    );
    if (line) lines.push(line);
  }
  if (TOOLS.includes('floor')) lines.push(`\ncold: airlift / floor = **${fmt(self('cold') / stat('floor cold').med)}**`);
  return lines.join('\n');
}

await main();
process.exit(0);
