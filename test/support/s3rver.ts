// A real S3-compatible server (s3rver, from npm) on a free loopback port, as a child process;
// with `multipartOps`, through servers/s3rver-plus.mjs, which adds the AbortMultipartUpload and
// ListParts operations s3rver lacks.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, ServerProcess, tcpOpen, waitFor, workDir } from './proc.js';

export interface S3rver {
  endpoint: string;
  port: number;
  buckets: string[];
  /** s3rver stores objects here: <dir>/<bucket>/<key>._S3rver_object */
  dataDir: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

export async function startS3rver(opts: { buckets?: string[]; multipartOps?: boolean } = {}): Promise<S3rver> {
  const buckets = opts.buckets ?? ['airlift-test'];
  const dir = workDir('s3rver');
  const port = await freePort();
  const require = createRequire(import.meta.url);
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const dataDir = join(dir, 'data');
  const plus = join(import.meta.dirname, 'servers', 's3rver-plus.mjs');
  const args = opts.multipartOps
    ? [plus, '--dir', dataDir, '--port', String(port), ...buckets.flatMap((b) => ['--bucket', b])]
    : [bin, '-d', dataDir, '-a', '127.0.0.1', '-p', String(port), '--no-vhost-buckets', ...buckets.flatMap((b) => ['--configure-bucket', b])];
  const proc = new ServerProcess('s3rver', process.execPath, args, { logDir: dir });
  await waitFor('s3rver', () => tcpOpen(port), { alive: () => proc.alive });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    buckets,
    dataDir,
    // s3rver's built-in default credentials
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    process: proc,
    stop: () => proc.stop(),
  };
}
