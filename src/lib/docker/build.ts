// Building an image, with buildx when present (every platform at once, exported as an OCI
// archive: no registry credentials ever handed to docker) or with the classic builder (one
// platform; the image is then read back with `docker save` and its layers compressed as
// `docker push` would). Either way the result is an ImageSource that the copy engine pushes
// to every registry and the archive writer saves.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { OptionError, UserError } from '../errors.js';
import { exec, ExecError } from '../exec.js';
import { ArchiveReader } from '../image/archive-reader.js';
import { compressLayers } from '../image/compress.js';
import { parsePlatform, platformString } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { info, notice } from '../log.js';
import { parseReference, ReferenceError } from '../registry/reference.js';
import { buildxVersion } from './buildx.js';
import { hostPlatform } from './qemu.js';

const OSES = ['linux', 'windows', 'freebsd', 'darwin'];
const ARCHES = ['amd64', 'arm64', 'arm', '386', 'ppc64le', 's390x', 'riscv64', 'mips64le', 'mips64', 'loong64'];
const VARIANTS: Record<string, string[]> = { amd64: ['v1', 'v2', 'v3', 'v4'], arm64: ['v8'], arm: ['v5', 'v6', 'v7'] };

/** Validated, normalised platform strings (linux/arm64, linux/arm/v7); names the platform on error. */
export function validatePlatforms(list: string[]): string[] {
  const out = list.map((s) => {
    let p;
    try {
      p = parsePlatform(s);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    if (!OSES.includes(p.os)) throw new UserError(`unknown platform "${s}": os "${p.os}" is not one of ${OSES.join(', ')}`);
    if (!ARCHES.includes(p.architecture)) throw new UserError(`unknown platform "${s}": architecture "${p.architecture}" is not one of ${ARCHES.join(', ')}`);
    const variants = VARIANTS[p.architecture] ?? [];
    if (p.variant && !variants.includes(p.variant))
      throw new UserError(`unknown platform "${s}": ${p.architecture} has ${variants.length ? `the variants ${variants.join(', ')}` : 'no variants'}, not "${p.variant}"`);
    return platformString(p);
  });
  const dup = out.find((p, i) => out.indexOf(p) !== i);
  if (dup) throw new UserError(`${dup} is listed twice`);
  return out;
}

export type CacheSpec = { kind: 'none' } | { kind: 'gha'; scope: string } | { kind: 'registry'; ref: string };

export function parseCache(s: string, scope: string): CacheSpec {
  const v = s.trim();
  if (!v || v === 'none') return { kind: 'none' };
  if (v === 'gha') return { kind: 'gha', scope };
  try {
    parseReference(v);
  } catch (err) {
    if (err instanceof ReferenceError) throw new UserError(`"${v}" is neither none, gha nor a registry cache reference (${err.message})`);
    throw err;
  }
  return { kind: 'registry', ref: v };
}

export interface BuildSpec {
  context: string;
  /** absolute path */
  dockerfile: string;
  /** empty: the builder's default (the host's) */
  platforms: string[];
  buildArgs: string[];
  labels: Record<string, string>;
  /** local names (full references) */
  tags: string[];
  cache: CacheSpec;
}

/** `KEY=value` entries; names the entry on error. */
export function validateKeyValues(list: string[], key: RegExp): string[] {
  for (const e of list) {
    const eq = e.indexOf('=');
    if (eq <= 0 || !key.test(e.slice(0, eq))) throw new UserError(`"${e}" is not KEY=value`);
  }
  return list;
}

/** The build context, a directory (an OptionError: context). */
export function resolveContext(context: string): string {
  const ctx = resolve(context);
  if (!existsSync(ctx) || !statSync(ctx).isDirectory()) throw new OptionError('context', `${context} is not a directory`);
  return ctx;
}

/** The context and Dockerfile exist; the Dockerfile path is resolved against the context (OptionErrors: context, dockerfile). */
export function resolveBuildFiles(context: string, dockerfile: string): { context: string; dockerfile: string } {
  const ctx = resolveContext(context);
  const file = isAbsolute(dockerfile) ? dockerfile : join(ctx, dockerfile);
  if (!existsSync(file) || !statSync(file).isFile()) throw new OptionError('dockerfile', `${dockerfile} was not found in the context ${context}`);
  return { context: ctx, dockerfile: file };
}

function commonArgs(s: BuildSpec): string[] {
  return ['--file', s.dockerfile, ...s.buildArgs.flatMap((a) => ['--build-arg', a]), ...Object.entries(s.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`])];
}

/**
 * `docker buildx build` exporting every platform as an OCI archive at `dest`. No --tag: the
 * OCI exporter would write one index entry per name, and pushing is ours anyway.
 */
export function buildxArgs(s: BuildSpec, dest: string, builder?: string): string[] {
  const cache =
    s.cache.kind === 'gha'
      ? ['--cache-from', `type=gha,scope=${s.cache.scope}`, '--cache-to', `type=gha,mode=max,scope=${s.cache.scope}`]
      : s.cache.kind === 'registry'
        ? ['--cache-from', `type=registry,ref=${s.cache.ref}`, '--cache-to', `type=registry,ref=${s.cache.ref},mode=max`]
        : [];
  return [
    'buildx',
    'build',
    ...(builder ? ['--builder', builder] : []),
    ...(s.platforms.length ? ['--platform', s.platforms.join(',')] : []),
    ...commonArgs(s),
    ...cache,
    '--output',
    `type=oci,dest=${dest}`,
    s.context,
  ];
}

/** buildx with the docker driver (it cannot export OCI archives): one platform, loaded into the daemon. */
export function buildxLoadArgs(s: BuildSpec, iidfile: string): string[] {
  return [
    'buildx',
    'build',
    '--load',
    ...(s.platforms.length ? ['--platform', s.platforms[0]] : []),
    ...commonArgs(s),
    ...s.tags.flatMap((t) => ['--tag', t]),
    '--iidfile',
    iidfile,
    s.context,
  ];
}

/** The driver of the current buildx builder (docker, docker-container, kubernetes, remote). */
export async function buildxDriver(docker = 'docker'): Promise<string | undefined> {
  const r = await exec(docker, ['buildx', 'inspect'], { stream: false, allowFailure: true }).catch(() => undefined);
  return r?.code === 0 ? /^Driver:\s+(\S+)/m.exec(r.stdout)?.[1] : undefined;
}

/** The classic builder: one platform, tagged locally, image ID written to `iidfile`. */
export function classicArgs(s: BuildSpec, iidfile: string): string[] {
  const platform = s.platforms[0];
  return [
    'build',
    ...commonArgs(s),
    ...s.tags.flatMap((t) => ['--tag', t]),
    '--iidfile',
    iidfile,
    ...(platform && platform !== hostPlatform() ? ['--platform', platform] : []),
    s.context,
  ];
}

export interface BuiltImage {
  /** how it was made (archives: joined from per-architecture archives, no build) */
  builder: 'buildx' | 'buildx-load' | 'classic' | 'archives';
  source: ImageSource;
  /** the platforms built */
  platforms: string[];
  /** builds into the daemon: the image ID there (checks run it directly) */
  imageId?: string;
  /** local tags to remove when the image must not stay (a failed check) */
  localTags: string[];
  close(): Promise<void>;
}

export type BuildMode = 'buildx' | 'buildx-load' | 'classic';

/** Which way to build: buildx exporting OCI, buildx --load (docker driver), or the classic builder (an OptionError: platforms, when they cannot all be built). */
export async function buildMode(platforms: string[], docker = 'docker'): Promise<BuildMode> {
  if (!(await buildxVersion(docker))) {
    if (platforms.length > 1)
      throw new OptionError(
        'platforms',
        `building ${platforms.join(', ')} at once needs docker buildx, which is not installed (setup-buildx-qemu installs one from buildx-url); the classic builder builds one platform`,
      );
    return 'classic';
  }
  const driver = await buildxDriver(docker);
  if (driver !== 'docker') return 'buildx';
  if (platforms.length > 1)
    throw new OptionError(
      'platforms',
      `building ${platforms.join(', ')} at once needs a docker-container buildx builder; the current one uses the docker driver (run setup-buildx-qemu first)`,
    );
  return 'buildx-load';
}

/** Reads an image the daemon holds (docker save), its layers compressed as docker push would. */
async function fromDaemon(ref: string, platform: string, workDir: string, docker: string): Promise<{ source: ImageSource; close: () => Promise<void> }> {
  const saved = join(workDir, 'image.docker.tar');
  info(`reading the image back from the daemon (docker save ${ref})`);
  await exec(docker, ['save', '-o', saved, ref], { stream: false });
  const reader = await ArchiveReader.open(saved);
  try {
    const images = await reader.images();
    const img = images.find((i) => i.name === ref) ?? images[0];
    if (!img) throw new UserError(`docker save ${ref} wrote no image`);
    return { source: await compressLayers(img.source, workDir, { platform }), close: () => reader.close() };
  } catch (err) {
    await reader.close();
    throw err;
  }
}

/** One way of building: the spec in, the built image out, read as an image source. */
type Builder = (s: BuildSpec, workDir: string, docker: string) => Promise<BuiltImage>;

/** buildx with a docker-container (or remote) builder: every platform at once, exported as an OCI archive. */
const buildx: Builder = async (s, workDir, docker) => {
  const dest = join(workDir, 'image.oci.tar');
  if (s.cache.kind === 'gha' && !process.env.ACTIONS_RUNTIME_TOKEN)
    throw new OptionError(
      'cache',
      'gha needs the GitHub Actions cache service, and ACTIONS_RUNTIME_TOKEN is not set (not on a GitHub runner?); use none or a registry cache reference',
    );
  await exec(docker, buildxArgs(s, dest)).catch((err: unknown) => {
    if (err instanceof ExecError && /exporter is not supported for the docker driver/i.test(err.stderr))
      throw new UserError(
        'docker buildx: the current builder uses the docker driver, which cannot export an OCI archive; create a docker-container builder first (setup-buildx-qemu does)',
        { cause: err },
      );
    // a RUN step of a foreign platform with no QEMU handler where the builder runs
    if (err instanceof ExecError && /exec format error/i.test(err.stderr + err.stdout)) {
      const foreign = s.platforms.filter((p) => p !== hostPlatform());
      throw new UserError(
        `docker buildx: a RUN step failed with "exec format error": the builder cannot run programs for ${foreign.join(', ') || 'another platform'}. Register QEMU where buildkitd runs (setup-buildx-qemu with qemu-platforms: ${foreign.join(',') || 'all'}), then build again. Its output ends:\n${(err.stderr || err.stdout).trim().split('\n').slice(-12).join('\n')}`,
        { cause: err },
      );
    }
    throw err;
  });
  const reader = await ArchiveReader.open(dest);
  const images = await reader.images();
  const digests = [...new Set(await Promise.all(images.map((i) => i.source.headTop())))];
  if (digests.length !== 1) {
    await reader.close();
    throw new UserError(`docker buildx wrote ${digests.length} different images to ${dest}; expected one`);
  }
  return { builder: 'buildx', source: images[0].source, platforms: s.platforms.length ? s.platforms : [hostPlatform()], localTags: [], close: () => reader.close() };
};

/** A builder that builds one platform into the daemon, then reads it back (docker save). */
function intoDaemon(
  mode: 'buildx-load' | 'classic',
  what: { platforms: string; cache: string },
  build: (s: BuildSpec, iidfile: string, docker: string) => Promise<unknown>,
): Builder {
  return async (s, workDir, docker) => {
    const platform = s.platforms[0] ?? hostPlatform();
    if (s.platforms.length > 1) throw new OptionError('platforms', `the ${what.platforms} builds one platform, not ${s.platforms.join(', ')}`);
    if (s.cache.kind !== 'none') notice(`cache ${s.cache.kind} is not used by the ${what.cache}; building without it`);
    const iidfile = join(workDir, 'iid');
    await build(s, iidfile, docker);
    const imageId = (await readFile(iidfile, 'utf8')).trim();
    const read = await fromDaemon(s.tags[0], platform, workDir, docker);
    return { builder: mode, source: read.source, platforms: [platform], imageId, localTags: s.tags, close: read.close };
  };
}

/** buildx whose builder uses the docker driver: one platform, --load into the daemon. */
const buildxLoad = intoDaemon('buildx-load', { platforms: 'docker driver', cache: 'docker buildx driver' }, async (s, iidfile, docker) => {
  notice('the buildx builder uses the docker driver: building one platform into the daemon (--load)');
  await exec(docker, buildxLoadArgs(s, iidfile));
});

/** The classic builder (no buildx): one platform, into the daemon. */
const classic = intoDaemon('classic', { platforms: 'classic builder', cache: 'classic builder' }, async (s, iidfile, docker) => {
  notice('docker buildx is not available: building with the classic builder');
  await exec(docker, classicArgs(s, iidfile), { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
});

const BUILDERS: Record<BuildMode, Builder> = { buildx, 'buildx-load': buildxLoad, classic };

export function buildImage(s: BuildSpec, opts: { mode: BuildMode; workDir: string; docker?: string }): Promise<BuiltImage> {
  return BUILDERS[opts.mode](s, opts.workDir, opts.docker ?? 'docker');
}
