// The OSS test server (servers/oss-server.ts) on a free loopback port, as a child process.
import { fileURLToPath } from 'node:url';
import { freePort, ServerProcess, waitFor, workDir } from './proc.js';

export interface OssServer {
  endpoint: string;
  port: number;
  accessKeyId: string;
  accessKeySecret: string;
  buckets: string[];
  dataDir: string;
  process: ServerProcess;
  /** STS AssumeRoleWithOIDC endpoint (hosted by the same test server) */
  stsEndpoint: string;
  stats(): Promise<{ requests: number; parts: number; denied: number; stsIssued: number; byKey: Record<string, number> }>;
  stop(): Promise<void>;
}

export interface StsOptions {
  roleArn: string;
  providerArn: string;
  oidcToken: string;
  lifetimeMs: number;
}

export async function startOssServer(opts: { buckets?: string[]; sts?: StsOptions } = {}): Promise<OssServer> {
  const buckets = opts.buckets ?? ['infra-release'];
  const dir = workDir('oss');
  const port = await freePort();
  const accessKeyId = 'LTAI5tAirliftTestKey';
  const accessKeySecret = 'airlift-oss-test-secret-0123456789';
  const script = fileURLToPath(new URL('./servers/oss-server.ts', import.meta.url));
  const proc = new ServerProcess(
    'oss-server',
    process.execPath,
    [
      '--import',
      'tsx',
      script,
      '--port',
      String(port),
      '--dir',
      `${dir}/data`,
      '--access-key-id',
      accessKeyId,
      '--access-key-secret',
      accessKeySecret,
      ...buckets.flatMap((b) => ['--bucket', b]),
      ...(opts.sts
        ? ['--sts-role-arn', opts.sts.roleArn, '--sts-provider-arn', opts.sts.providerArn, '--sts-oidc-token', opts.sts.oidcToken, '--sts-lifetime-ms', String(opts.sts.lifetimeMs)]
        : []),
    ],
    { logDir: dir },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor('oss test server', async () => (await fetch(`${endpoint}/__oss/stats`)).ok, { alive: () => proc.alive, attempts: 400 });
  return {
    endpoint,
    port,
    accessKeyId,
    accessKeySecret,
    buckets,
    dataDir: `${dir}/data`,
    stsEndpoint: `${endpoint}/__sts/`,
    process: proc,
    stats: async () => (await (await fetch(`${endpoint}/__oss/stats`)).json()) as Awaited<ReturnType<OssServer['stats']>>,
    stop: () => proc.stop(),
  };
}
