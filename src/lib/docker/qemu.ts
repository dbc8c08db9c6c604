// QEMU user-mode emulation through binfmt_misc, from the host's qemu-user-static (no image, no
// network): mount binfmt_misc when needed, register the handlers Debian ships as
// /usr/lib/binfmt.d/qemu-<arch>.conf, and read back which platforms can actually run.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError, UserError } from '../errors.js';
import { exec, packageFor } from '../exec.js';
import { notice } from '../log.js';

export const BINFMT = '/proc/sys/fs/binfmt_misc';

/** qemu architecture name → OCI platform */
const PLATFORMS: Record<string, string> = {
  aarch64: 'linux/arm64',
  arm: 'linux/arm/v7',
  riscv64: 'linux/riscv64',
  s390x: 'linux/s390x',
  ppc64le: 'linux/ppc64le',
  mips64el: 'linux/mips64le',
  loongarch64: 'linux/loong64',
  x86_64: 'linux/amd64',
  i386: 'linux/386',
};

/** linux/arm64 (or linux/arm64/v8) → aarch64; linux/arm (any variant) → arm. */
export function qemuArchFor(platform: string): string | undefined {
  const exact = Object.entries(PLATFORMS).find(([, p]) => p === platform);
  if (exact) return exact[0];
  const base = platform.split('/').slice(0, 2).join('/');
  return Object.entries(PLATFORMS).find(([, p]) => p === base || (base === 'linux/arm' && p.startsWith('linux/arm/')))?.[0];
}

export function hostPlatform(): string {
  return process.arch === 'x64' ? 'linux/amd64' : process.arch === 'arm64' ? 'linux/arm64' : `linux/${process.arch}`;
}

export async function ensureBinfmtMounted(root = BINFMT): Promise<void> {
  if (existsSync(join(root, 'register'))) return;
  const r = await exec('mount', ['-t', 'binfmt_misc', 'binfmt_misc', root], { stream: false, allowFailure: true });
  if (r.code !== 0 || !existsSync(join(root, 'register')))
    throw new UserError(`binfmt_misc is not mounted at ${root} and could not be mounted (${r.stderr.trim() || `exit ${r.code}`}); this needs root in a privileged environment`);
}

/** Platforms the kernel can run: the host's, plus every enabled qemu handler. */
export async function runnablePlatforms(root = BINFMT): Promise<string[]> {
  const out = new Set([hostPlatform()]);
  const names = existsSync(root) ? await readdir(root) : [];
  for (const n of names) {
    if (!n.startsWith('qemu-')) continue;
    const text = await readFile(join(root, n), 'utf8').catch(() => '');
    const platform = PLATFORMS[n.slice(5)];
    if (platform && text.startsWith('enabled')) out.add(platform);
  }
  return [...out].sort();
}

/**
 * Registers host qemu-user-static handlers for `platforms` ('all': every one Debian ships that
 * maps to a platform). Already-registered handlers are left as they are. Returns what it added.
 */
export async function registerHostHandlers(platforms: string[] | 'all', opts: { root?: string; confDir?: string } = {}): Promise<string[]> {
  const root = opts.root ?? BINFMT;
  const confDir = opts.confDir ?? '/usr/lib/binfmt.d';
  const host = hostPlatform();
  const wanted =
    platforms === 'all'
      ? Object.keys(PLATFORMS)
      : platforms
          .filter((p) => p !== host)
          .map((p) => {
            const arch = qemuArchFor(p);
            if (!arch) throw new OptionError('platforms', `no QEMU emulation is known for "${p}" (known: ${Object.values(PLATFORMS).join(', ')})`);
            return arch;
          });
  const added: string[] = [];
  for (const arch of wanted) {
    if (PLATFORMS[arch] === host || existsSync(join(root, `qemu-${arch}`))) continue;
    const conf = join(confDir, `qemu-${arch}.conf`);
    if (!existsSync(conf)) {
      if (platforms === 'all') continue;
      throw new UserError(`no host QEMU handler for ${PLATFORMS[arch]}: ${conf} is missing (apt-get install ${packageFor('qemu-aarch64-static')})`);
    }
    const line = (await readFile(conf, 'utf8')).split('\n').find((l) => l.startsWith(':'));
    if (!line) throw new UserError(`${conf} holds no binfmt registration line`);
    const interpreter = line.split(':')[6];
    if (interpreter && !existsSync(interpreter)) throw new UserError(`${conf} names ${interpreter}, which is missing (apt-get install ${packageFor('qemu-aarch64-static')})`);
    try {
      await writeFile(join(root, 'register'), line);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`registering qemu-${arch} in ${root} failed: ${(err as Error).message}`);
    }
    added.push(PLATFORMS[arch]);
  }
  return added;
}

/** Removes a handler this process registered (tests, cleanups). */
export async function unregisterHandler(arch: string, root = BINFMT): Promise<void> {
  if (existsSync(join(root, `qemu-${arch}`))) await writeFile(join(root, `qemu-${arch}`), '-1');
}

/**
 * Runs a binfmt installer image (tonistiigi/binfmt or a mirror of it): `--install <arches>`.
 * Where the engine cannot grant --privileged (it lacks a capability, as in some nested
 * sandboxes), it is run again with only what registering handlers needs: CAP_SYS_ADMIN and
 * unmasked /proc paths.
 */
export async function installWithImage(image: string, platforms: string[] | 'all', docker = 'docker'): Promise<void> {
  const arches = platforms === 'all' ? 'all' : [...new Set(platforms.map((p) => p.split('/')[1]))].join(',');
  const r = await exec(docker, ['run', '--rm', '--privileged', image, '--install', arches], { allowFailure: true });
  if (r.code === 0) return;
  if (!/apply caps|operation not permitted/i.test(r.stderr))
    throw new UserError(`qemu-image ${image}: docker run failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  notice('--privileged is not permitted by this docker engine; running the binfmt installer with CAP_SYS_ADMIN and unmasked /proc paths instead');
  const again = await exec(
    docker,
    [
      'run',
      '--rm',
      '--cap-add',
      'SYS_ADMIN',
      '--security-opt',
      'systempaths=unconfined',
      '--security-opt',
      'apparmor=unconfined',
      '--security-opt',
      'seccomp=unconfined',
      image,
      '--install',
      arches,
    ],
    { allowFailure: true },
  );
  if (again.code !== 0) throw new UserError(`qemu-image ${image}: docker run failed (exit ${again.code}): ${again.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}
