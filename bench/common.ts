// Shared by the benchmarks: timing with peak RSS (GNU time), medians, ratio lines.
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface Sample {
  seconds: number;
  /** user + system CPU of the process and its children */
  cpuSeconds: number;
  maxRssMb: number;
  code: number;
  stderr: string;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS of the process tree's largest member. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Sample {
  const out = join(tmpdir(), `bench-time-${process.pid}.txt`);
  // flush what earlier steps wrote, so no tool pays for another's write-back
  spawnSync('sync');
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', out, cmd, ...args], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const [kb, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  rmSync(out, { force: true });
  return { seconds, cpuSeconds: user + sys, maxRssMb: kb / 1024, code: r.status ?? -1, stderr: r.stderr ?? '' };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** A set of samples summed up: median, spread, median CPU seconds, peak RSS. */
export function stats(samples: Sample[]): { med: number; lo: number; hi: number; cpu: number; rss: number } {
  const xs = samples.map((s) => s.seconds);
  return { med: median(xs), lo: Math.min(...xs), hi: Math.max(...xs), cpu: median(samples.map((s) => s.cpuSeconds)), rss: Math.max(...samples.map((s) => s.maxRssMb)) };
}

/** Two table cells: "median (min–max)" and the CPU seconds. */
export function cells(x: ReturnType<typeof stats>): string {
  return `${fmt(x.med)} (${fmt(x.lo)}–${fmt(x.hi)}) | ${fmt(x.cpu)}`;
}

/** "phase: airlift / best peer (name) = ratio", from each tool's median; undefined without airlift or peers. */
export function bestPeerLine(phase: string, self: number | undefined, peers: { t: string; s: number }[]): string | undefined {
  if (self === undefined || peers.length === 0) return undefined;
  const best = peers.reduce((a, b) => (b.s < a.s ? b : a));
  return `\n${phase}: airlift / best peer (${best.t}) = **${fmt(self / best.s)}**`;
}

/** The start of a shape's table: its heading and the header rows for two phases. */
export function tableHead(title: string, phases: [string, string]): string[] {
  const [a, b] = phases;
  return [`\n### ${title}`, '', `| tool | ${a} s (min–max) | ${a} CPU s | ${b} s (min–max) | ${b} CPU s | peak RSS MB |`, '| --- | --- | --- | --- | --- | --- |'];
}

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

export function must(s: Sample, what: string): Sample {
  if (s.code !== 0) throw new Error(`${what} failed (exit ${s.code}): ${s.stderr.slice(-2000)}`);
  return s;
}

export const BENCH_IMAGES = ['app', 'api', 'web', 'worker', 'db', 'cache', 'gateway', 'console'];

/** The benchmark fixture: 8 images × 2 platforms, ~186 MB of unique gzip layers, a shared base. */
export async function benchFixture() {
  const { buildOciFixture } = await import('../test/support/fixtures.js');
  const { workDir } = await import('../test/support/proc.js');
  process.stderr.write('building the fixture (8 images × 2 platforms, shared base layer)…\n');
  return buildOciFixture(workDir('bench-fx'), { images: BENCH_IMAGES, baseLayerBytes: 20 * 1024 * 1024, appLayerBytes: 4400 * 1024, appLayers: 2, compressible: 0, gzipLevel: 1 });
}

/** A file of `bytes` incompressible bytes (AES-CTR of zeros), written as a stream. */
export async function bigFile(path: string, bytes: number): Promise<void> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16, 2));
  let left = bytes;
  const src = new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(4 << 20, left);
      left -= n;
      this.push(cipher.update(Buffer.alloc(n)));
    },
  });
  await pipeline(src, createWriteStream(path));
}
