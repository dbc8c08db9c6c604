// The frame the registry benches share (bench/peers, bench/pack-peers): the fixture in a source
// registry, then for each network shape, `runs` rounds of every tool, each against a fresh target
// registry, with the source and/or the target behind the shape (toxiproxy). What the shape
// measured goes with its results.
import { startRegistry, type Registry } from '../test/support/registry.js';
import { buildOciFixture, pushFixture, type Fixture } from '../test/support/fixtures.js';
import { workDir } from '../test/support/proc.js';
import { fmt, type Sample } from './common.js';
import { measure, Toxiproxy, type Shape } from './net.js';

/** `count` images × 2 platforms over a shared base layer of `baseMb`, pushed to a source registry. */
export async function fixtureRegistry(label: string, count: number, baseMb = 20): Promise<{ fx: Fixture; src: Registry; totalBytes: number; bigBlob: string }> {
  const names = Array.from({ length: count }, (_, i) => `app${String(i).padStart(3, '0')}`);
  process.stderr.write(`building the fixture (${count} images × 2 platforms, shared base)…\n`);
  const fx = await buildOciFixture(workDir(`${label}-fx`), {
    images: names,
    baseLayerBytes: baseMb * 1024 * 1024,
    appLayerBytes: 2200 * 1024,
    appLayers: 2,
    compressible: 0,
    gzipLevel: 1,
  });
  const src = await startRegistry();
  pushFixture(fx, { host: src.host }, { namespace: 'release' });
  return {
    fx,
    src,
    totalBytes: [...fx.blobs.values()].reduce((a, b) => a + b, 0),
    // the base layer: what one stream's throughput is measured with
    bigBlob: `/v2/release/${fx.images[0].name}/blobs/${fx.images[0].manifests[0].layers[0].digest}`,
  };
}

export interface Round<T> {
  tool: T;
  /** unique per shape, round and tool: names work folders */
  id: string;
  srcHost: string;
  dstHost: string;
  /** every sample so far under this shape, by `<tool> <phase>` */
  results: Record<string, Sample[]>;
}

/**
 * Runs `round` for each shape, `runs` times each tool; `round` adds its samples to `results` and
 * returns its progress line. `remote`: which registries are behind the shape. Returns, per shape,
 * what `table` makes of the results and the measured line.
 */
export async function overShapes<T extends string>(
  o: { shapes: Shape[]; runs: number; tools: T[]; src: Registry; bigBlob: string; remote?: 'both' | 'source' | 'target' },
  round: (r: Round<T>) => Promise<string> | string,
  table: (shape: Shape, results: Record<string, Sample[]>, measured: string) => string,
): Promise<string[]> {
  const remote = o.remote ?? 'both';
  const proxy = await Toxiproxy.start();
  const tables: string[] = [];
  try {
    for (const shape of o.shapes) {
      const results: Record<string, Sample[]> = {};
      let measured = '';
      for (let r = 0; r < o.runs; r++) {
        for (const tool of o.tools) {
          const dst = await startRegistry();
          const id = `${tool}-${r}-${shape.name.replace(/\W+/g, '')}`;
          const srcHost = remote === 'target' ? o.src.host : await proxy.shaped(`src-${id}`, o.src.host, shape);
          const dstHost = remote === 'source' ? dst.host : await proxy.shaped(`dst-${id}`, dst.host, shape);
          if (!measured && srcHost !== o.src.host) {
            const m = await measure(`http://${srcHost}`, '/v2/', o.bigBlob);
            measured = `measured through the proxy: RTT ${fmt(m.rttMs, 0)} ms, one stream ${fmt(m.streamMbit, 0)} Mbit/s`;
          }
          if (!measured && dstHost !== dst.host) {
            // only the (empty) target is behind the shape: its round trip; no blob there to stream
            const m = await measure(`http://${dstHost}`, '/v2/', '/v2/');
            measured = `the target measured through the proxy: RTT ${fmt(m.rttMs, 0)} ms`;
          }
          const line = await round({ tool, id, srcHost, dstHost, results });
          process.stderr.write(`${shape.name} run ${r + 1}/${o.runs} ${tool}: ${line}\n`);
          await proxy.remove(`src-${id}`);
          await proxy.remove(`dst-${id}`);
          await dst.stop();
        }
      }
      tables.push(table(shape, results, measured || 'loopback: no proxy'));
      console.log(tables.at(-1));
    }
  } finally {
    await proxy.stop();
  }
  return tables;
}
