// Temporary folders under the runner's temp directory that outlive no run: each records the
// process that made it, and a later run removes the ones whose process is gone (killed before
// it could clean up).
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const OWNER = '.airlift-owner';

/** $RUNNER_TEMP on a runner, else the system's temp directory. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}

/** A new folder `<prefix>XXXXXX` under runnerTemp(), marked with this process as its owner. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(runnerTemp(), prefix));
  await writeFile(join(dir, OWNER), `${hostname()} ${process.pid}\n`);
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes folders tempDir() made for processes of this host that are gone; returns how many. */
export async function removeStaleTemp(prefix = 'airlift-'): Promise<number> {
  let removed = 0;
  const parent = runnerTemp();
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const owner = await readFile(join(parent, name, OWNER), 'utf8').catch(() => undefined);
    const [host, pid] = owner?.trim().split(' ') ?? [];
    if (host !== hostname() || !Number(pid) || Number(pid) === process.pid || alive(Number(pid))) continue;
    await rm(join(parent, name), { recursive: true, force: true }).then(() => removed++, () => undefined);
  }
  return removed;
}
