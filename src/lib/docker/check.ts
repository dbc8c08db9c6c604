// The release check: a command run inside the built image, once per platform (foreign ones
// through QEMU), before anything is pushed. Classic builds run the image the daemon holds;
// buildx builds are loaded one platform at a time from their OCI archive (`docker load` of a
// docker-archive written by the archive writer), run, and removed again.
import { join } from 'node:path';
import { OptionError, UserError } from '../errors.js';
import { exec } from '../exec.js';
import { ArchiveWriter } from '../image/archive-writer.js';
import { Copier, copyFailure } from '../image/copy.js';
import { parsePlatform } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { group } from '../log.js';
import { hostPlatform, runnablePlatforms } from './qemu.js';

export interface CheckCommand {
  /** run through /bin/sh -c (shell form) or as given (exec form, a JSON array) */
  shell: boolean;
  argv: string[];
}

/** `check`: a JSON array is the exec form (no shell needed in the image); anything else runs with /bin/sh -c. */
export function parseCheck(text: string): CheckCommand | undefined {
  const t = text.trim();
  if (!t) return undefined;
  if (t.startsWith('[')) {
    let argv: unknown;
    try {
      argv = JSON.parse(t);
    } catch (err) {
      throw new UserError(`starts with "[" but is not a JSON array of strings (${(err as Error).message})`);
    }
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string'))
      throw new UserError('the exec form is a non-empty JSON array of strings, e.g. ["/app", "--version"]');
    return { shell: false, argv: argv as string[] };
  }
  return { shell: true, argv: ['/bin/sh', '-c', t] };
}

export function checkRunArgs(image: string, cmd: CheckCommand, platform?: string): string[] {
  return ['run', '--rm', '--network', 'none', ...(platform ? ['--platform', platform] : []), '--entrypoint', cmd.argv[0], image, ...cmd.argv.slice(1)];
}

async function runOne(docker: string, image: string, cmd: CheckCommand, platform: string, foreign: boolean): Promise<void> {
  const r = await group(`check on ${platform}`, () => exec(docker, checkRunArgs(image, cmd, foreign ? platform : undefined), { allowFailure: true }));
  if (r.code !== 0) {
    const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join(' | ');
    throw new UserError(`check failed on ${platform} (exit ${r.code})${tail ? `: ${tail}` : ''}; nothing was pushed`);
  }
}

/** Runs the check for every platform; throws on the first failure. */
export async function runChecks(opts: { cmd: CheckCommand; source: ImageSource; platforms: string[]; imageId?: string; workDir: string; docker?: string }): Promise<string[]> {
  const docker = opts.docker ?? 'docker';
  const host = hostPlatform();
  const runnable = await runnablePlatforms();
  for (const p of opts.platforms)
    if (p !== host && !runnable.some((r) => p === r || p.startsWith(`${r}/`)))
      throw new OptionError('cmd', `${p} cannot run on this ${host} machine: no QEMU handler is registered for it (run setup-buildx-qemu with qemu-platforms: ${p} first)`);
  if (opts.imageId) {
    await runOne(docker, opts.imageId, opts.cmd, opts.platforms[0], opts.platforms[0] !== host);
    return opts.platforms;
  }
  const copier = new Copier();
  for (const p of opts.platforms) {
    const slug = p.replace(/\//g, '-');
    const name = `airlift-check/${process.pid}:${slug}`;
    const file = join(opts.workDir, `check-${slug}.tar`);
    const writer = new ArchiveWriter(file, 'docker-archive');
    const res = await copier.copy(opts.source, [writer.target(name)], { platforms: [parsePlatform(p)] });
    const failed = copyFailure(res);
    if (failed) {
      await writer.abort();
      throw failed.error;
    }
    await writer.finish();
    await exec(docker, ['load', '-q', '-i', file], { stream: false });
    try {
      await runOne(docker, name, opts.cmd, p, p !== host);
    } finally {
      await exec(docker, ['rmi', '-f', name], { stream: false, allowFailure: true });
    }
  }
  return opts.platforms;
}
