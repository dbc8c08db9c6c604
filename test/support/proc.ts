// Child-process servers for tests: started on free loopback ports, stopped by PID, their
// logs kept (and pointed at) when the test process fails, removed when it passes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let workRoot: string | undefined;
const running = new Set<ServerProcess>();

/** A per-test-process scratch directory (short path: unix sockets live in it). */
export function workDir(name: string): string {
  if (!workRoot) {
    workRoot = mkdtempSync(join(process.env.AIRLIFT_TEST_TMP ?? tmpdir(), 'al-'));
    process.on('exit', (code) => {
      for (const s of running) s.killNow();
      const failed = code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0);
      if (failed || process.env.AIRLIFT_KEEP_TEST_DIRS === '1') process.stderr.write(`test servers' logs and data kept in ${workRoot}\n`);
      else rmSync(workRoot!, { recursive: true, force: true, maxRetries: 3 });
    });
  }
  const dir = mkdtempSync(join(workRoot, `${name}-`));
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Polls until ready() is true; bounded in attempts (no open-ended sleeps). */
export async function waitFor(what: string, ready: () => Promise<boolean>, opts: { attempts?: number; intervalMs?: number; alive?: () => boolean } = {}): Promise<void> {
  const attempts = opts.attempts ?? 300;
  for (let i = 0; i < attempts; i++) {
    if (opts.alive && !opts.alive()) throw new Error(`${what} exited before it was ready`);
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
  throw new Error(`${what} was not ready after ${attempts} polls`);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv; logDir: string },
  ) {
    this.logFile = join(opts.logDir, `${name}.log`);
    mkdirSync(opts.logDir, { recursive: true });
    const fd = openSync(this.logFile, 'a');
    this.child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', fd, fd] });
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
    this.pid = this.child.pid;
    this.exit = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', () => {
      this.exited = true;
      running.delete(this);
    });
    this.child.once('error', () => {
      this.exited = true;
      running.delete(this);
    });
    running.add(this);
  }

  get alive(): boolean {
    return !this.exited;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** SIGTERM, then SIGKILL if it has not exited within the grace period; waits for the exit. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    process.kill(this.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exited) process.kill(this.pid, 'SIGKILL');
    }, graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  killNow(): void {
    if (!this.exited) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
