// One release: for each image (one, or one per meta.yml entry) build, check inside the image
// on every platform, push to every destination under every tag (our registry client: one
// digest everywhere, credentials never handed to docker), then save for offline use.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OptionError, UserError, errorMessage } from '../errors.js';
import { ArchiveWriter, type ArchiveResult } from '../image/archive-writer.js';
import { Copier, copyFailure } from '../image/copy.js';
import { parsePlatform } from '../image/manifest.js';
import { openTarget, type RegistryPool } from '../image/open.js';
import { group, info } from '../log.js';
import type { CredentialSource } from '../registry/auth.js';
import { AuthError } from '../registry/errors.js';
import { formatReference, type Reference } from '../registry/reference.js';
import { buildImage, type BuildMode, type BuildSpec } from '../docker/build.js';
import { exec } from '../exec.js';
import { runChecks, type CheckCommand } from '../docker/check.js';
import type { Destination } from './registries.js';
import { joinArchives, type ArchiveSpec } from './archives.js';
import { tempDir } from '../temp.js';

export interface ImageJob {
  tags: string[];
  dockerfile: string;
  /** published from the per-architecture archives (ReleaseOptions.archives), not built */
  archives?: boolean;
}

export interface ReleaseOptions {
  jobs: ImageJob[];
  destinations: Destination[];
  context: string;
  platforms: string[];
  buildArgs: string[];
  labels: Record<string, string>;
  cache: BuildSpec['cache'];
  push: boolean;
  check?: CheckCommand;
  save?: { path: string; platform: string | 'all' };
  /** how the jobs that build are built (none needed when every job publishes archives) */
  mode?: BuildMode;
  /** what a job with `archives` publishes: the per-architecture archives, joined */
  archives?: ArchiveSpec[];
  pool: RegistryPool;
  credentials: CredentialSource;
  docker?: string;
}

/**
 * Some registries took the image and others did not: which hold it (and with which digest) and
 * why the others failed. A run again pushes only what is missing (the others are only HEADed).
 */
export class PartialPushError extends UserError {
  constructor(
    readonly digest: string,
    readonly pushed: string[],
    readonly failed: { ref: string; error: string }[],
  ) {
    const shown = failed.slice(0, 4).map((f) => `${f.ref}: ${f.error}`);
    super(
      `push failed for ${failed.length} of ${failed.length + pushed.length} references (${[...shown, ...(failed.length > 4 ? [`and ${failed.length - 4} more`] : [])].join('; ')})` +
        (pushed.length ? `; ${digest} is in ${pushed.join(', ')}. Run again once the failing registry works: what is there is only checked, the rest is pushed` : ''),
    );
    this.name = 'PartialPushError';
  }
}

export interface ReleasedImage {
  tags: string[];
  refs: string[];
  pushed: boolean;
  digest: string;
  platforms: string[];
  dockerfile: string;
  checked: string[];
}

export interface ReleaseResult {
  builder: BuildMode | 'archives';
  images: ReleasedImage[];
  saved?: ArchiveResult;
}

/** Asks every destination registry for push access before anything is built. */
export async function checkPushAccess(dests: Destination[], pool: RegistryPool, credentials: CredentialSource): Promise<void> {
  await Promise.all(
    dests.map(async (d) => {
      const { registry, repository } = d.repository;
      try {
        await pool.client(registry).checkPush(repository);
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        if (!(await credentials(registry)))
          throw new UserError(
            `push to ${registry}/${repository} needs credentials and none were given for ${registry} (${d.where}): set registry-auth, username-env/password-env in registry.yaml, or docker login`,
            { cause: err },
          );
        throw new UserError(`push to ${registry}/${repository} is refused with the credentials given for ${registry}: ${errorMessage(err)}`, { cause: err });
      }
    }),
  );
}

/** With several images (meta), each gets its own cache: its tag in the gha scope or the cache ref's tag. */
function jobCache(cache: BuildSpec['cache'], tag: string | undefined): BuildSpec['cache'] {
  if (!tag || cache.kind === 'none') return cache;
  if (cache.kind === 'gha') return { kind: 'gha', scope: `${cache.scope}-${tag}` };
  const at = cache.ref.lastIndexOf(':');
  const hasTag = at > cache.ref.lastIndexOf('/');
  return { kind: 'registry', ref: hasTag ? `${cache.ref}-${tag}` : `${cache.ref}:${tag}` };
}

export async function release(o: ReleaseOptions): Promise<ReleaseResult> {
  const work = await tempDir('airlift-build-');
  const format = o.save?.platform === 'all' ? 'oci-archive' : 'docker-archive';
  const writer = o.save ? new ArchiveWriter(o.save.path, format, /\.(gz|tgz)$/i.test(o.save.path) ? 'gzip' : 'none') : undefined;
  const copier = new Copier();
  const images: ReleasedImage[] = [];
  try {
    for (const [i, job] of o.jobs.entries()) {
      const refs: Reference[] = job.tags.flatMap((tag) => o.destinations.map((d) => ({ ...d.repository, tag })));
      const dir = await mkdtemp(join(work, `image-${i}-`));
      if (!job.archives && !o.mode) throw new Error('internal: a build job without a build mode');
      // each phase in its own log group (the checks group each platform themselves)
      const built = job.archives
        ? await group(`join the per-architecture archives into ${formatReference(refs[0])}`, () => joinArchives(o.archives ?? [], dir))
        : await group(`build ${formatReference(refs[0])}`, () =>
            buildImage(
              {
                context: o.context,
                dockerfile: job.dockerfile,
                platforms: o.platforms,
                buildArgs: o.buildArgs,
                labels: o.labels,
                tags: refs.map(formatReference),
                cache: jobCache(o.cache, o.jobs.length > 1 ? job.tags[0] : undefined),
              },
              { mode: o.mode!, workDir: dir, docker: o.docker },
            ),
          );
      try {
        const digest = (await built.source.headTop()) ?? (await built.source.top()).digest;
        info(`built ${formatReference(refs[0])} (${built.platforms.join(', ')}): ${digest}`);
        const checked = o.check
          ? await runChecks({ cmd: o.check, source: built.source, platforms: built.platforms, imageId: built.imageId, workDir: dir, docker: o.docker }).catch(
              async (err: unknown) => {
                // release tags must not stay on an image that failed its check, even locally
                if (built.localTags.length) await exec(o.docker ?? 'docker', ['rmi', ...built.localTags], { stream: false, allowFailure: true });
                // with meta.yml, the images before this one are already pushed: say so
                const before = images.filter((m) => m.pushed).map((m) => m.refs[0]);
                if (err instanceof UserError && before.length) {
                  const message = `${err.message.replace(/; nothing was pushed$/, '')}; this image was not pushed (${before.length === 1 ? 'the image before it in meta.yml was' : `the ${before.length} images before it in meta.yml were`}: ${before.join(', ')})`;
                  throw err instanceof OptionError ? new OptionError(err.option, message) : new UserError(message);
                }
                throw err;
              },
            )
          : [];
        if (o.push) {
          const res = await group(`push to ${refs.length} reference(s)`, () =>
            copier.copy(
              built.source,
              refs.map((ref) => openTarget({ transport: 'docker', ref }, o.pool)),
            ),
          );
          if (copyFailure(res)?.side === 'source') throw new UserError(`push failed: the built image could not be read: ${errorMessage(res.sourceError)}`);
          const failed = res.targets.filter((t) => t.status === 'failed');
          if (failed.length)
            throw new PartialPushError(
              digest,
              res.targets.filter((t) => t.status !== 'failed').map((t) => t.target),
              failed.map((t) => ({ ref: t.target, error: errorMessage(t.error) })),
            );
          for (const t of res.targets) info(`${t.status === 'skipped' ? 'already there' : 'pushed'}: ${t.target.replace(/^docker:\/\//, '')}`);
        }
        if (writer) {
          const name = formatReference(refs[0]);
          const res = await group(`save ${name} to ${o.save!.path}`, () =>
            copier.copy(built.source, [writer.target(name)], format === 'docker-archive' ? { platforms: [parsePlatform(o.save!.platform)] } : {}),
          );
          const failed = copyFailure(res);
          if (failed) throw failed.error;
        }
        images.push({ tags: job.tags, refs: o.push ? refs.map(formatReference) : [], pushed: o.push, digest, platforms: built.platforms, dockerfile: job.dockerfile, checked });
      } finally {
        await built.close();
      }
    }
    const saved = writer ? await writer.finish() : undefined;
    return { builder: o.jobs.every((j) => j.archives) ? 'archives' : o.mode!, images, saved };
  } catch (err) {
    await writer?.abort();
    throw err;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
