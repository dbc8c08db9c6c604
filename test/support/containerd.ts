// A real containerd (Debian) with its own root, state and socket, for `ctr` as a checker; root only.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ServerProcess, waitFor, workDir } from './proc.js';

export interface Containerd {
  address: string;
  /** Runs ctr against this containerd in namespace "airlift"; returns stdout. */
  ctr(args: string[]): string;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<Containerd> {
  const dir = workDir('containerd');
  const address = join(dir, 'containerd.sock');
  // no CRI plugin: nothing but the content store, images and snapshotters
  const config = join(dir, 'config.toml');
  execFileSync('sh', ['-c', `printf 'version = 2\\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\\n' > ${config}`]);
  const proc = new ServerProcess('containerd', 'containerd', ['--config', config, '--root', join(dir, 'root'), '--state', join(dir, 'state'), '--address', address], {
    logDir: dir,
  });
  const ctr = (args: string[]) => execFileSync('ctr', ['--address', address, '--namespace', 'airlift', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitFor(
      'containerd',
      async () => {
        try {
          ctr(['version']);
          return true;
        } catch {
          return false;
        }
      },
      { alive: () => proc.alive, attempts: 200, intervalMs: 100 },
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.log().slice(-3000)}`, { cause: err });
  }
  return { address, ctr, stop: () => proc.stop(10_000) };
}
