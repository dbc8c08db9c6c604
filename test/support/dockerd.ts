// A real Docker engine (Debian docker.io) with its own data root and socket; root only.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Capability names by number, as the OCI runtime spec spells them. */
const CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
].map((c) => `CAP_${c}`);

/**
 * In a nested sandbox whose capability bounding set lacks some capabilities (seen here:
 * CAP_SYS_RESOURCE), a --privileged container (buildx's docker-container builder) cannot start:
 * runc fails "unable to apply caps". The engine then gets a runtime that is runc with each
 * container's capabilities cut to what this machine can grant. Elsewhere: nothing changes.
 */
function boundedRuntime(dir: string): string[] {
  const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  const missing = CAPS.filter((_, i) => !(bnd & (1n << BigInt(i))));
  if (missing.length === 0) return [];
  const wrapper = join(dir, 'runc-bounded');
  writeFileSync(
    wrapper,
    `#!/bin/sh
# runc, with the bundle's capabilities cut to this machine's bounding set (${missing.join(', ')} missing)
# (a container's bundle/config.json on create and run, an exec's --process file on exec)
spec=""; prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) spec="$a/config.json" ;; --process|-p) spec="$a" ;; esac
  prev="$a"
done
if [ -n "$spec" ] && [ -f "$spec" ]; then
  python3 - "$spec" <<'PY'
import json, sys
missing = set(${JSON.stringify(missing)})
p = sys.argv[1]
c = json.load(open(p))
proc = c.get('process', c)
for k, v in (proc.get('capabilities') or {}).items():
    proc['capabilities'][k] = [x for x in v if x not in missing]
json.dump(c, open(p, 'w'))
PY
fi
exec runc "$@"
`,
    { mode: 0o755 },
  );
  return ['--add-runtime', `bounded-runc=${wrapper}`, '--default-runtime', 'bounded-runc'];
}

export async function startDockerd(opts: { insecureRegistries?: string[] } = {}): Promise<Dockerd> {
  const dir = workDir('dockerd');
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const args = [
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'docker.pid'),
    '--host',
    host,
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    ...(opts.insecureRegistries ?? []).flatMap((r) => ['--insecure-registry', r]),
    ...boundedRuntime(dir),
  ];
  const proc = new ServerProcess('dockerd', 'dockerd', args, { logDir: dir });
  // DOCKER_BUILDKIT=0: the classic builder, since buildx is not packaged here.
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(dir, 'client-config') };
  const docker = (a: string[], input?: string | Buffer) =>
    execFileSync('docker', a, { env, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await waitFor(
      'dockerd',
      async () => {
        try {
          docker(['version', '--format', '{{.Server.Version}}']);
          return true;
        } catch {
          return false;
        }
      },
      { alive: () => proc.alive, attempts: 600, intervalMs: 100 },
    );
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\n${proc.log().slice(-3000)}`, { cause: err });
  }
  const stop = async () => {
    await proc.stop(20_000);
    // what the engine left mounted under its directories (the host network namespace it binds
    // for network=host containers), so they can be removed
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1])
      .filter((m) => m?.startsWith(`${dir}/`));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  };
  return { host, env, process: proc, dataRoot: join(dir, 'data'), docker, stop };
}
