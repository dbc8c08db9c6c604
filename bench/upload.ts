// bench/upload: 1 GiB to s3rver, Airlift upload-oss vs `aws s3 cp` (Debian awscli), same run:
// on plain loopback, and through the fault proxy adding 30 ms to every request (a runner far
// from its bucket). Prints medians, ratios and peak RSS.
//   node --import tsx bench/upload.ts [--runs 3] [--size-mb 1024]
import { join } from 'node:path';
import { startS3rver } from '../test/support/s3rver.js';
import { startFaultProxy } from '../test/support/fault-proxy.js';
import { workDir } from '../test/support/proc.js';
import { arg, bigFile, fmt, median, must, timed, type Sample } from './common.js';

const runs = Number(arg('runs', '3'));
const sizeMb = Number(arg('size-mb', '1024'));
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
// Debian's awscli (apt-get install awscli), not whatever else is first on PATH
const AWS = '/usr/bin/aws';

async function main() {
  const file = join(workDir('bench-upload'), 'release.tar');
  process.stderr.write(`writing a ${sizeMb} MiB file…\n`);
  await bigFile(file, sizeMb * 1024 * 1024);
  const s3 = await startS3rver({ buckets: ['bench'] });
  const partSize = 64;
  const partConcurrency = 4;
  const results: Record<string, Sample[]> = {};
  const add = (k: string, s: Sample) => (results[k] ??= []).push(s);
  try {
    for (const latency of [0, 30]) {
      const proxy = latency ? await startFaultProxy(s3.endpoint, { rules: [{ action: 'latency', ms: latency }] }) : undefined;
      const endpoint = proxy?.url ?? s3.endpoint;
      const env = { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
      for (let r = 0; r < runs; r++) {
        add(
          `airlift${latency}`,
          must(
            timed(process.execPath, [
              cli,
              'upload-oss',
              '--source',
              file,
              '--destination',
              `s3://bench/airlift-${latency}-${r}`,
              '--endpoint',
              endpoint,
              '--access-key-id',
              s3.accessKeyId,
              '--access-key-secret',
              s3.secretAccessKey,
              '--part-size',
              `${partSize}MiB`,
              '--part-concurrency',
              String(partConcurrency),
              '--state-dir',
              workDir('bench-state'),
            ]),
            'airlift',
          ),
        );
        add(`aws${latency}`, must(timed(AWS, ['--endpoint-url', endpoint, 's3', 'cp', '--only-show-errors', file, `s3://bench/aws-${latency}-${r}`], env), 'aws s3 cp'));
        process.stderr.write(
          `latency ${latency} ms, run ${r + 1}/${runs}: airlift ${fmt(results[`airlift${latency}`].at(-1)!.seconds)}s, aws ${fmt(results[`aws${latency}`].at(-1)!.seconds)}s\n`,
        );
      }
      await proxy?.stop();
    }
  } finally {
    await s3.stop();
  }
  const m = (k: string) => median(results[k].map((s) => s.seconds));
  const rss = (k: string) => Math.max(...results[k].map((s) => s.maxRssMb));
  console.log(`\nbench/upload — ${sizeMb} MiB to s3rver, median of ${runs}; Airlift part-size ${partSize} MiB × ${partConcurrency} parts at once`);
  for (const l of [0, 30]) {
    console.log(
      `${l ? `+${l} ms per request` : 'plain loopback'}: airlift ${fmt(m(`airlift${l}`))}s (${fmt(rss(`airlift${l}`), 0)} MB RSS) vs aws s3 cp ${fmt(m(`aws${l}`))}s (${fmt(rss(`aws${l}`), 0)} MB RSS) → airlift/aws = ${fmt(m(`airlift${l}`) / m(`aws${l}`))} (target ≤ ${l ? '0.70' : '1.00'})`,
    );
  }
  console.log(`peak RSS target: ≤ part-size × part-concurrency + 64 MB = ${partSize * partConcurrency + 64} MB`);
}

await main();
process.exit(0);
