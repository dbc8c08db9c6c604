// bench/upload-peers: upload-oss with its default settings against the S3 clients a user would
// pick instead (aws s3 cp from Debian's awscli, s5cmd, rclone, each with its defaults), the same
// 1 GiB file to a real S3 server (versitygw, posix backend, built from its Go module), under
// network shapes (bench/net.ts); and to OSS (our protocol-faithful OSS test server) against
// ossutil, Aliyun's own client. Median, spread, CPU seconds, peak RSS; Airlift's ratio to the best.
//   node --import tsx bench/upload-peers.ts [--runs 3] [--size-mb 1024] [--shapes "loopback,50ms+30Mbit"] [--stores s3,oss]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { builtTool } from '../test/support/buildkitd.js';
import { freePort, workDir } from '../test/support/proc.js';
import { startOssServer } from '../test/support/oss.js';
import { arg, bigFile, fmt, median, must, timed, type Sample } from './common.js';
import { measure, Toxiproxy, type Shape } from './net.js';

const runs = Number(arg('runs', '3'));
const sizeMb = Number(arg('size-mb', '1024'));
const SHAPES: Record<string, Shape> = {
  loopback: { name: 'loopback', rttMs: 0 },
  '50ms+30Mbit': { name: '50 ms + 30 Mbit/s', rttMs: 50, capMbit: 30 },
  '20ms': { name: '20 ms', rttMs: 20 },
};
const shapes = arg('shapes', 'loopback,50ms+30Mbit')
  .split(',')
  .map(
    (s) =>
      SHAPES[s] ??
      (() => {
        throw new Error(`unknown shape ${s}`);
      })(),
  );
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const AWS = '/usr/bin/aws';
const KEY = 'benchaccesskey';
const SECRET = 'bench-secret-key-0123456789';
type Tool = 'airlift' | 'aws' | 's5cmd' | 'rclone' | 'airlift-oss' | 'ossutil';
type Store = 's3' | 'oss';
const only = arg('tools', '').split(',').filter(Boolean);
const extra = arg('airlift-args', '').split(' ').filter(Boolean);
const STORES = arg('stores', 's3,oss').split(',') as Store[];
const BY_STORE: Record<Store, Tool[]> = { s3: ['airlift', 'aws', 's5cmd', 'rclone'], oss: ['airlift-oss', 'ossutil'] };
const toolsOf = (store: Store) => BY_STORE[store].filter((t) => only.length === 0 || only.includes(t) || (t === 'airlift-oss' && only.includes('airlift')));

interface Server {
  endpoint: string;
  host: string;
  /** removes every stored object (each upload writes 1 GiB: a long run would fill the disk) */
  empty: () => void;
  stop: () => Promise<void>;
}

async function startOss(): Promise<Server & { id: string; secret: string }> {
  const oss = await startOssServer({ buckets: ['bench'] });
  const objects = join(oss.dataDir, 'bench', 'objects');
  const empty = () => {
    for (const f of existsSync(objects) ? readdirSync(objects) : []) rmSync(join(objects, f), { recursive: true, force: true });
  };
  return { endpoint: oss.endpoint, host: new URL(oss.endpoint).host, id: oss.accessKeyId, secret: oss.accessKeySecret, empty, stop: () => oss.stop() };
}
let ossCreds = { id: '', secret: '' };

async function startVersity(): Promise<Server> {
  const root = workDir('versitygw');
  mkdirSync(join(root, 'bench'));
  const port = await freePort();
  const child = spawn(builtTool('versitygw', 'versitygw'), ['--access', KEY, '--secret', SECRET, '--port', `127.0.0.1:${port}`, 'posix', root], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const bucket = join(root, 'bench');
  const empty = () => {
    for (const f of readdirSync(bucket)) if (!f.startsWith('.')) rmSync(join(bucket, f), { recursive: true, force: true });
  };
  return { endpoint: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, empty, stop: async () => void child.kill() };
}

function upload(tool: Tool, file: string, endpoint: string, key: string, state: string): Sample {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_DEFAULT_REGION: 'us-east-1', AWS_REGION: 'us-east-1', AWS_PAGER: '' };
  if (tool === 'airlift')
    return must(
      timed(process.execPath, [
        cli,
        'upload-oss',
        '--source',
        file,
        '--destination',
        `s3://bench/${key}`,
        '--endpoint',
        endpoint,
        '--region',
        'us-east-1',
        '--access-key-id',
        KEY,
        '--access-key-secret',
        SECRET,
        '--state-dir',
        state,
        ...extra,
      ]),
      'airlift',
    );
  if (tool === 'aws') return must(timed(AWS, ['--endpoint-url', endpoint, 's3', 'cp', '--only-show-errors', file, `s3://bench/${key}`], env), 'aws s3 cp');
  if (tool === 's5cmd') return must(timed(builtTool('s5cmd', 's5cmd'), ['--endpoint-url', endpoint, 'cp', file, `s3://bench/${key}`], env), 's5cmd');
  const rc = {
    ...env,
    RCLONE_CONFIG_B_TYPE: 's3',
    RCLONE_CONFIG_B_PROVIDER: 'Other',
    RCLONE_CONFIG_B_ENDPOINT: endpoint,
    RCLONE_CONFIG_B_ACCESS_KEY_ID: KEY,
    RCLONE_CONFIG_B_SECRET_ACCESS_KEY: SECRET,
    RCLONE_CONFIG_B_REGION: 'us-east-1',
    RCLONE_CONFIG: '/dev/null',
  };
  if (tool === 'rclone') return must(timed(builtTool('rclone', 'rclone'), ['copyto', '--s3-no-check-bucket', file, `b:bench/${key}`], rc), 'rclone');
  const oss = ['--endpoint', endpoint, '--access-key-id', ossCreds.id, '--access-key-secret', ossCreds.secret];
  if (tool === 'airlift-oss')
    return must(timed(process.execPath, [cli, 'upload-oss', '--source', file, '--destination', `oss://bench/${key}`, ...oss, '--state-dir', state, ...extra]), 'airlift (oss)');
  return must(
    timed(builtTool('ossutil', 'ossutil'), ['cp', '-f', file, `oss://bench/${key}`, '-e', endpoint, '-i', ossCreds.id, '-k', ossCreds.secret, '--config-file', '/dev/null'], env),
    'ossutil',
  );
}

async function main() {
  const file = join(workDir('bench-upload-peers'), 'release.tar');
  process.stderr.write(`writing a ${sizeMb} MiB file…\n`);
  await bigFile(file, sizeMb * 1024 * 1024);
  const proxy = await Toxiproxy.start();
  const out: string[] = [];
  try {
    for (const store of STORES) {
      const TOOLS = toolsOf(store);
      let server: Server;
      if (store === 's3') server = await startVersity();
      else {
        const oss = await startOss();
        ossCreds = { id: oss.id, secret: oss.secret };
        server = oss;
      }
      try {
        for (const shape of shapes) {
          const results: Record<string, Sample[]> = {};
          const host = await proxy.shaped(`${store}-${shape.name.replace(/\W+/g, '')}`, server.host, shape);
          const endpoint = `http://${host}`;
          const m = host === server.host ? undefined : await measure(endpoint, '/', '/');
          for (let r = 0; r < runs; r++) {
            for (const tool of TOOLS) {
              (results[tool] ??= []).push(upload(tool, file, endpoint, `${tool}-${r}-${shape.rttMs}`, workDir('bench-state')));
              server.empty();
              process.stderr.write(`${store} ${shape.name} run ${r + 1}/${runs} ${tool}: ${fmt(results[tool].at(-1)!.seconds)}s\n`);
            }
          }
          const what = store === 's3' ? 'S3 (versitygw)' : 'OSS (test server)';
          const lines = [
            `\n#### ${sizeMb} MiB to ${what}, ${shape.name}${m ? ` (measured RTT ${fmt(m.rttMs, 0)} ms)` : ''}`,
            '',
            '| tool | s (min–max) | CPU s | peak RSS MB |',
            '| --- | --- | --- | --- |',
          ];
          const med = (t: Tool) => median(results[t].map((s) => s.seconds));
          for (const t of TOOLS) {
            const xs = results[t].map((s) => s.seconds);
            lines.push(
              `| ${t} | ${fmt(med(t))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}) | ${fmt(median(results[t].map((s) => s.cpuSeconds)))} | ${fmt(Math.max(...results[t].map((s) => s.maxRssMb)), 0)} |`,
            );
          }
          const self = TOOLS.find((t) => t.startsWith('airlift'));
          const peers = TOOLS.filter((t) => !t.startsWith('airlift'));
          if (self && peers.length) {
            const best = peers.reduce((a, b) => (med(b) < med(a) ? b : a));
            lines.push(`\nairlift / best peer (${best}) = **${fmt(med(self) / med(best))}**`);
          }
          out.push(lines.join('\n'));
          process.stderr.write(out.at(-1) + '\n');
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await proxy.stop();
  }
  console.log(`\nbench/upload-peers — ${new Date().toISOString().slice(0, 10)}, defaults of every tool, versitygw ${'v1.8.0'} (posix), median of ${runs}`);
  console.log(out.join('\n'));
}

await main();
process.exit(0);
