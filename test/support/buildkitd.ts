// A real BuildKit daemon (buildkitd built from its Go module by .ci/setup, runc from Debian),
// listening on a free loopback TCP port with its own state directory; root only. Registries on
// loopback are reached over plain HTTP, as its buildkitd.toml says.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, ServerProcess, tcpOpen, waitFor, workDir } from './proc.js';

/** Versions .ci/tools.sh builds; the tests use exactly these. */
export const TOOL_VERSIONS = {
  buildkit: 'v0.34.2',
  buildx: 'v0.38.2',
  helm: 'v3.22.0',
  act: 'v0.2.89',
  crane: 'v0.22.1',
  regclient: 'v0.11.7',
  s5cmd: 'v2.3.0',
  rclone: 'v1.76.0',
  versitygw: 'v1.8.0',
  toxiproxy: 'v2.12.0',
  ossutil: 'v1.7.19',
} as const;

/** Where .ci/tools.sh put a tool: $AIRLIFT_TOOLS_DIR (default ~/.cache/airlift-tools)/<name>-<version>/<binary>. */
export function builtTool(name: keyof typeof TOOL_VERSIONS, binary: string): string {
  return join(process.env.AIRLIFT_TOOLS_DIR ?? join(homedir(), '.cache', 'airlift-tools'), `${name}-${TOOL_VERSIONS[name]}`, binary);
}

/** For `{ skip: … }`: false when the built tools are there; else why (a failure under CI=true, where .ci/setup builds them). */
export function needsBuiltTools(...tools: [keyof typeof TOOL_VERSIONS, string][]): string | false {
  const missing = tools.map(([n, b]) => builtTool(n, b)).filter((p) => !existsSync(p));
  if (missing.length === 0 || process.env.CI === 'true') return false;
  const reason = `needs ${missing.join(', ')} (run: bash .ci/tools.sh)`;
  process.stderr.write(`\n*** SKIPPED: ${reason} ***\n`);
  return reason;
}

export interface Buildkitd {
  /** tcp://127.0.0.1:<port> */
  endpoint: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

export async function startBuildkitd(opts: { insecureRegistries?: string[] } = {}): Promise<Buildkitd> {
  const dir = workDir('buildkitd');
  const port = await freePort();
  const config = join(dir, 'buildkitd.toml');
  writeFileSync(
    config,
    [
      '[worker.oci]',
      '  enabled = true',
      '[worker.containerd]',
      '  enabled = false',
      ...(opts.insecureRegistries ?? []).flatMap((r) => [`[registry."${r}"]`, '  http = true', '  insecure = true']),
      '',
    ].join('\n'),
  );
  const endpoint = `tcp://127.0.0.1:${port}`;
  const args = ['--config', config, '--root', join(dir, 'root'), '--addr', endpoint, '--oci-worker-net', 'host'];
  const proc = new ServerProcess('buildkitd', builtTool('buildkit', 'buildkitd'), args, { logDir: dir });
  try {
    await waitFor('buildkitd', () => tcpOpen(port), { alive: () => proc.alive, attempts: 300, intervalMs: 100 });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.log().slice(-3000)}`, { cause: err });
  }
  return { endpoint, process: proc, stop: () => proc.stop(10_000) };
}

/**
 * A BuildKit image made here, for a builder that must not reach Docker Hub: FROM scratch with the
 * buildkitd and buildctl built from source, and Debian's runc with the libraries it links,
 * built by `docker` (the classic builder of an engine the test runs) and pushed to `registry`
 * (loopback). Returns the reference, e.g. 127.0.0.1:5000/moby/buildkit:v0.34.2.
 */
export function buildkitImage(docker: (args: string[]) => string, registry: string): string {
  const ctx = workDir('buildkit-image');
  const put = (from: string, to: string) => {
    mkdirSync(join(ctx, 'rootfs', dirname(to)), { recursive: true });
    copyFileSync(from, join(ctx, 'rootfs', to));
    chmodSync(join(ctx, 'rootfs', to), 0o755);
  };
  put(builtTool('buildkit', 'buildkitd'), 'usr/bin/buildkitd');
  put(builtTool('buildkit', 'buildctl'), 'usr/bin/buildctl');
  const runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
  put(runc, 'usr/bin/runc');
  // the shared libraries runc links (ldd: "name => /path (addr)" or "/path (addr)")
  for (const line of execFileSync('ldd', [runc], { encoding: 'utf8' }).split('\n')) {
    const lib = /(\/\S+) \(0x/.exec(line)?.[1];
    if (lib) put(realpathSync(lib), lib.slice(1));
  }
  for (const d of ['tmp', 'etc/buildkit', 'var/lib/buildkit']) mkdirSync(join(ctx, 'rootfs', d), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/bin\nVOLUME /var/lib/buildkit\nENTRYPOINT ["buildkitd"]\n');
  const ref = `${registry}/moby/buildkit:${TOOL_VERSIONS.buildkit}`;
  docker(['build', '-q', '-t', ref, ctx]);
  docker(['push', '-q', ref]);
  return ref;
}
