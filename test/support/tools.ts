// Which external tools a test needs. Missing locally: the test is skipped with a loud reason.
// Missing under CI=true: the test runs and fails, so a CI machine without them is red.
import { execFileSync } from 'node:child_process';
import { packageFor } from '../../src/lib/exec.js';

const cache = new Map<string, boolean>();

export function hasTool(cmd: string): boolean {
  if (!cache.has(cmd)) {
    let ok: boolean;
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    cache.set(cmd, ok);
  }
  return cache.get(cmd)!;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** For `test(name, { skip: needs('skopeo') }, fn)`: false when runnable, else the reason. */
export function needs(...cmds: string[]): string | false {
  const missing = cmds.filter((c) => (c === 'root' ? !isRoot() : !hasTool(c)));
  if (missing.length === 0) return false;
  const reason = `needs ${missing.map((m) => (m === 'root' ? 'root' : `${m} (apt-get install ${packageFor(m) ?? m})`)).join(', ')}`;
  if (process.env.CI === 'true') return false;
  process.stderr.write(`\n*** SKIPPED: ${reason} ***\n`);
  return reason;
}
