// A real Docker engine (Debian docker.io) with its own data root and socket; root only.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ServerProcess, waitFor, workDir } from './proc.js';

export interface Dockerd {
  /** unix:///…/docker.sock */
  host: string;
  /** Environment for docker CLI calls against this engine. */
  env: NodeJS.ProcessEnv;
  process: ServerProcess;
  dataRoot: string;
  stop(): Promise<void>;
  /** Runs the docker CLI against this engine; returns stdout. */
  docker(args: string[], input?: string | Buffer): string;
}

export async function startDockerd(opts: { insecureRegistries?: string[] } = {}): Promise<Dockerd> {
  const dir = workDir('dockerd');
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const args = [
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'docker.pid'),
    '--host', host,
    '--iptables=false', '--ip6tables=false', '--bridge=none',
    ...(opts.insecureRegistries ?? []).flatMap((r) => ['--insecure-registry', r]),
  ];
  const proc = new ServerProcess('dockerd', 'dockerd', args, { logDir: dir });
  // DOCKER_BUILDKIT=0: the classic builder, since buildx is not packaged here.
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(dir, 'client-config') };
  const docker = (a: string[], input?: string | Buffer) => execFileSync('docker', a, { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await waitFor('dockerd', async () => {
      try {
        docker(['version', '--format', '{{.Server.Version}}']);
        return true;
      } catch {
        return false;
      }
    }, { alive: () => proc.alive, attempts: 600, intervalMs: 100 });
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.log().slice(-3000)}`, { cause: err });
  }
  return { host, env, process: proc, dataRoot: join(dir, 'data'), docker, stop: () => proc.stop(20_000) };
}
