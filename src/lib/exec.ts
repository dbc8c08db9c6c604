// Runs external commands: output streamed to the log line by line (redacted), stdout
// captured, a missing binary named together with the Debian package that provides it.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { UserError } from './errors.js';
import { debug, info } from './log.js';

/** Debian packages providing the binaries Airlift calls. */
export const DEBIAN_PACKAGES: Record<string, string> = {
  docker: 'docker.io',
  dockerd: 'docker.io',
  skopeo: 'skopeo',
  'docker-registry': 'docker-registry',
  htpasswd: 'apache2-utils',
  'qemu-img': 'qemu-utils',
  'update-binfmts': 'binfmt-support',
  busybox: 'busybox-static',
  aws: 'awscli',
  git: 'git',
  xz: 'xz-utils',
  openssl: 'openssl',
  tar: 'tar',
};

export function packageFor(cmd: string): string | undefined {
  const base = cmd.split('/').pop() ?? cmd;
  if (base.startsWith('qemu-') && base.endsWith('-static')) return 'qemu-user-static';
  return DEBIAN_PACKAGES[base];
}

export class ExecError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Log each output line (default true); false keeps output for debug only. */
  stream?: boolean;
  /** Resolve with the exit code instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Send stdout here instead of capturing it (for large outputs such as archives). */
  stdout?: Writable;
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

const TAIL = 4000;

export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const stream = opts.stream ?? true;
  debug(`exec: ${cmd} ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: opts.signal,
    });
    let stdout = '';
    let stderr = '';
    const lineLogger = () => {
      let pending = '';
      return {
        push(chunk: string) {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const l of lines) (stream ? info : debug)(l);
        },
        end() {
          if (pending) (stream ? info : debug)(pending);
        },
      };
    };
    const outLog = lineLogger();
    const errLog = lineLogger();
    if (opts.stdout) child.stdout.pipe(opts.stdout);
    else
      child.stdout.on('data', (b: Buffer) => {
        const s = b.toString();
        stdout += s;
        outLog.push(s);
      });
    child.stderr.on('data', (b: Buffer) => {
      const s = b.toString();
      stderr = (stderr + s).slice(-64 * 1024);
      errLog.push(s);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const pkg = packageFor(cmd);
        reject(new UserError(`"${cmd}" was not found on PATH${pkg ? ` (install the Debian package ${pkg}: apt-get install ${pkg})` : ''}`));
      } else reject(err);
    });
    child.on('close', (code, sig) => {
      outLog.end();
      errLog.end();
      const exit = code ?? (sig ? 128 : 1);
      if (exit !== 0 && !opts.allowFailure) {
        const tail = stderr.trim().slice(-TAIL);
        reject(new ExecError(`${cmd} ${args[0] ?? ''} failed with exit code ${code ?? sig}${tail ? `: ${tail}` : ''}`, code, stdout, stderr));
        return;
      }
      resolve({ code: exit, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Whether a binary is on PATH. */
export async function which(cmd: string): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const { delimiter, join } = await import('node:path');
  if (cmd.includes('/'))
    return access(cmd, constants.X_OK).then(
      () => cmd,
      () => undefined,
    );
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return undefined;
}
