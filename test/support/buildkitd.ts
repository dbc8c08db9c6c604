// A real BuildKit daemon (buildkitd built from its Go module by .ci/setup, runc from Debian),
// listening on a free loopback TCP port with its own state directory; root only. Registries on
// loopback are reached over plain HTTP, as its buildkitd.toml says.
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess, tcpOpen, waitFor, workDir } from './proc.js';

/** Versions .ci/tools.sh builds; the tests use exactly these. */
export const TOOL_VERSIONS = { buildkit: 'v0.34.2', buildx: 'v0.38.2' } as const;

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
