// Temporary folders under the runner's temp directory that outlive no run: each one's name
// records the process that made it (host, PID and the process's start time), so a later run can
// remove the ones whose process is gone (killed before it could clean up). The owner is in the
// name, made by the same mkdtemp call as the folder: there is no moment at which a folder exists
// without its owner, and a PID reused by a later process does not keep a folder alive.
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/** $RUNNER_TEMP on a runner, else the system's temp directory. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}

/**
 * A folder a step keeps its results in when none is given: `name` under $RUNNER_TEMP on a runner,
 * else `elsewhere` (a visible folder under the working directory, not the system's temp).
 */
export function runnerTempOr(name: string, elsewhere: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNNER_TEMP ? join(env.RUNNER_TEMP, name) : elsewhere;
}

/** The process's start time in clock ticks since boot (Linux), or 0 where it cannot be read. */
export function startTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the second field is the command in parentheses and may itself hold spaces or ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) || 0; // field 22 of the whole line
  } catch {
    return 0;
  }
}

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
// <prefix><host hash>-<pid>-<start time>-<mkdtemp's six characters>
const OWNED = /([0-9a-f]{8})-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/** A new folder under runnerTemp() named for this process as its owner. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(runnerTemp(), `${prefix}${HOST}-${process.pid}-${startTime(process.pid)}-`));
}

/** Whether the process `pid` that started at `start` (0: unknown) still runs. */
function alive(pid: number, start: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = start ? startTime(pid) : 0;
  return !now || now === start;
}

/** The owner of a folder made by an earlier version: a `.airlift-owner` file of "<host> <pid>". */
async function legacyOwner(dir: string): Promise<{ pid: number; start: number } | undefined> {
  const owner = await readFile(join(dir, '.airlift-owner'), 'utf8').catch(() => undefined);
  const [host, pid] = owner?.trim().split(' ') ?? [];
  return host === hostname() && Number(pid) ? { pid: Number(pid), start: 0 } : undefined;
}

/** Removes folders tempDir() made for processes of this host that are gone; returns how many. */
export async function removeStaleTemp(prefix = 'airlift-'): Promise<number> {
  let removed = 0;
  const parent = runnerTemp();
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = OWNED.exec(name);
    const owner = m ? (m[1] === HOST ? { pid: Number(m[2]), start: Number(m[3]) } : undefined) : await legacyOwner(join(parent, name));
    if (!owner || owner.pid === process.pid || alive(owner.pid, owner.start)) continue;
    await rm(join(parent, name), { recursive: true, force: true }).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}
