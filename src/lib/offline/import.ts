// Import without a daemon: the images of an archive pushed into a registry under a target
// prefix, digests kept, blobs already present skipped; checksums verified first.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { verifySha256Sums } from '../archive/checksums.js';
import { isPart } from '../archive/split.js';
import { mapLimit } from '../concurrency.js';
import { asOption, OptionError, UserError, within } from '../errors.js';
import { info, notice } from '../log.js';
import { removeStaleTemp, tempDir } from '../temp.js';
import type { Digest } from '../registry/digest.js';
import { parseManifest, platformMatches, platformString, type Descriptor, type Platform } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { COMPONENT, formatReference, parseReference, TAG, withDefaultTag, type Reference } from '../registry/reference.js';
import { mapTarget, parseTargetPrefix } from '../registry/target.js';
import { ArchiveReader, type ArchivedImage } from '../image/archive-reader.js';
import { checkArchivedImages } from '../image/archive-check.js';
import { compressLayers, hasUncompressedLayers } from '../image/compress.js';
import { BLOB_CONCURRENCY, Copier, IMAGE_CONCURRENCY, type CopyResult, type ImagePlan } from '../image/copy.js';
import { openTarget, type RegistryPool } from '../image/open.js';
import { OciLayoutTarget } from '../image/oci-layout.js';

export interface ImportOptions {
  file: string;
  /** registry/namespace prefix the image references are rewritten onto */
  target: string;
  pool: RegistryPool;
  /** platforms to import; default: every platform whose blobs are in the archive */
  platforms?: Platform[];
  /** gzip-compress layers stored uncompressed (docker save) once, as docker push would (default true) */
  compressLayers?: boolean;
  /** Docker Hub official images (docker.io/library/busybox) land as <target>/busybox, not <target>/library/busybox */
  stripLibrary?: boolean;
  /**
   * The repository (name[:tag]) for images the archive records only a tag for, or no name at
   * all; their own tag is kept, else this one's, else latest.
   */
  repository?: string;
  concurrency?: number;
  blobConcurrency?: number;
  /** write into this OCI layout (each image under its target reference) instead of the registry */
  layout?: string;
}

/**
 * Which platforms of an image index the archive holds whole (manifest, config, layers): an
 * export may carry the whole index but only some platforms' blobs (`ctr images export` without
 * --all-platforms). Undefined for a single image, or a source that cannot tell.
 */
async function presentPlatforms(source: ImageSource): Promise<{ all: Platform[]; present: Platform[] } | undefined> {
  const has = (source as { hasBlob?: (d: Digest) => boolean }).hasBlob?.bind(source);
  if (!has) return undefined;
  const parsed = parseManifest(await source.top(), source.name);
  if (parsed.kind !== 'index') return undefined;
  const all: Platform[] = [];
  const present: Platform[] = [];
  for (const d of parsed.manifests) {
    if (!d.platform || d.platform.os === 'unknown') continue; // attestations go with their image
    all.push(d.platform);
    if (!has(d.digest)) continue;
    const m = parseManifest(await source.manifest(d), source.name);
    if (m.kind === 'image' && [m.config, ...m.layers].every((b) => has(b.digest))) present.push(d.platform);
  }
  return { all, present };
}

/** The platforms to copy of one image: undefined for all of it (digests kept), else the filter. */
async function choosePlatforms(name: string, source: ImageSource, wanted: Platform[] | undefined, file: string): Promise<Platform[] | undefined> {
  const p = await presentPlatforms(source);
  if (!p) return wanted;
  const missing = (wanted ?? p.all).filter((w) => !p.present.some((x) => platformMatches(x, w)));
  if (wanted) {
    if (missing.length)
      throw new UserError(
        `${file}: ${name}: ${missing.map(platformString).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the archive${p.present.length ? ` (it holds ${p.present.map(platformString).join(', ')})` : ''}; nothing was imported`,
      );
    return wanted;
  }
  if (missing.length === 0) return undefined;
  if (p.present.length === 0)
    throw new UserError(`${file}: ${name}: the archive holds the index but no platform's blobs (${p.all.map(platformString).join(', ')} all missing); nothing was imported`);
  notice(
    `${file}: ${name}: importing ${p.present.map(platformString).join(', ')}; ${missing.map(platformString).join(', ')} skipped, its blobs are not in the archive (as \`ctr images export\` writes it without --all-platforms); the imported index is a new one, its digest differs`,
  );
  return p.present;
}

export interface ImportedImage {
  name: string;
  target: string;
  result: CopyResult;
}

/**
 * Where each archived image goes. An image recorded with only a tag, or no name, takes
 * `repository`; one recorded only by tag whose digest another entry names in full is that entry.
 */
function placeImages(images: ArchivedImage[], opts: ImportOptions) {
  const prefix = asOption('target', () => parseTargetPrefix(opts.target));
  // repository: a path under the target, with an optional tag (myapp, team/myapp:1.0)
  let repo: { path: string; tag?: string } | undefined;
  if (opts.repository !== undefined && opts.repository !== '') {
    const m = /^([^:@]+)(?::([^:@]+))?$/.exec(opts.repository.trim());
    const path = m?.[1].replace(/^\/+|\/+$/g, '') ?? '';
    const bad = path.split('/').find((c) => !COMPONENT.test(c));
    if (!m || bad !== undefined || (m[2] !== undefined && !TAG.test(m[2])))
      throw new UserError(
        `repository "${opts.repository}": give a repository path under the target with an optional tag, e.g. myapp or team/myapp:1.0${bad !== undefined && /[A-Z]/.test(bad) ? ' (repository names are lower-case)' : ''}`,
      );
    repo = { path, ...(m[2] ? { tag: m[2] } : {}) };
  }
  return images.map((img, i) => {
    let src: Reference;
    if (img.name) {
      const name = img.name;
      src = within(opts.file, () => parseReference(name));
    } else {
      if (!repo)
        throw new OptionError(
          'repository',
          `${opts.file}: image ${i + 1} records ${img.tag ? `only the tag "${img.tag}", no repository` : 'no name (repository:tag)'}, so it cannot be placed under ${opts.target}: give the repository to push it as (e.g. myapp${img.tag ? '' : ':1.0'})${img.tag ? ', or write the archive with a full reference (skopeo copy … oci-archive:<file>:<repository>:<tag>)' : ''}`,
        );
      const target: Reference = { registry: prefix.registry, repository: prefix.namespace ? `${prefix.namespace}/${repo.path}` : repo.path, tag: img.tag ?? repo.tag ?? 'latest' };
      return { img, name: `image ${i + 1} (${img.tag ? `tag "${img.tag}"` : 'no name'} in the archive)`, target };
    }
    const library = opts.stripLibrary && src.registry === 'docker.io' && src.repository.startsWith('library/');
    return { img, name: img.name, target: mapTarget(src, prefix, library ? 'docker.io/library' : undefined, opts.file) };
  });
}

export async function importArchive(opts: ImportOptions): Promise<ImportedImage[]> {
  if (!existsSync(opts.file)) throw new UserError(`archive ${opts.file} was not found`);
  const stale = await removeStaleTemp();
  if (stale) info(`removed ${stale} temporary folder(s) left by an earlier run that was stopped`);
  const isDir = statSync(opts.file).isDirectory();
  const sidecar = `${opts.file.replace(/[\\/]+$/, '')}.sha256`;
  asOption('target', () => parseTargetPrefix(opts.target));
  // The archive is indexed (read only) while its checksum is verified; nothing is pushed before
  // the verification is done, and a mismatch is the error reported even if the index fails too.
  if (isPart(opts.file)) {
    const whole = opts.file.replace(/\.part-\d+$/, '');
    throw new UserError(`${opts.file} is one part of a split archive: join the parts first (cat ${basename(whole)}.part-* > ${basename(whole)}), then import ${basename(whole)}`);
  }
  // an archive's <file>.sha256, or a layout directory's <dir>.sha256 (every file of it, listed as <dir>/<path>)
  const checked = existsSync(sidecar) ? verifySha256Sums(sidecar, isDir ? {} : { only: basename(opts.file) }) : undefined;
  const [sums, opened] = await Promise.allSettled([checked, isDir ? ArchiveReader.openDir(opts.file) : ArchiveReader.open(opts.file)]);
  if (sums.status === 'rejected') {
    if (opened.status === 'fulfilled') await opened.value.close();
    throw sums.reason;
  }
  if (opened.status === 'rejected') throw opened.reason;
  const reader = opened.value;
  try {
    if (sums.value) {
      info(`verified ${sums.value.count} checksum(s) from ${sidecar}`);
      if (sums.value.coversOnly || isDir) reader.markVerified();
    }
    const root = reader.bundleRoot();
    let images;
    if (root !== undefined) {
      const n = await reader.verifyBundle(root);
      reader.markVerified(reader.listedEntries);
      // an OCI layout with its SHA256SUMS (pack-offline --format oci), or a bundle
      if (root === '' && reader.isLayout()) {
        info(`${opts.file}: verified ${n} checksums from SHA256SUMS`);
        images = await reader.images();
      } else {
        info(`${opts.file} is a bundle: verified ${n} checksums from ${root}SHA256SUMS`);
        images = await reader.bundleImages(root);
      }
    } else images = await reader.images();
    const plan = placeImages(images, opts);
    // one target, one image: the same image twice is pushed once; two images on one tag refused
    const byTarget = new Map<string, { name: string; digest: string }>();
    const unique: ((typeof plan)[number] & { platforms?: Platform[] })[] = [];
    for (const p of plan) {
      // an untagged name is pushed as :latest, so it is the same target as :latest
      const key = formatReference(withDefaultTag(p.target));
      const digest = (await p.img.source.headTop()) ?? (await p.img.source.top()).digest;
      const seen = byTarget.get(key);
      if (seen && seen.digest !== digest)
        throw new UserError(`${opts.file}: ${seen.name} (${seen.digest}) and ${p.name} (${digest}) would both be pushed as ${key}; nothing was imported`);
      if (seen) continue;
      byTarget.set(key, { name: p.name, digest });
      // the platforms whose blobs are there (checked for every image before anything is pushed)
      unique.push({ ...p, platforms: await choosePlatforms(p.name, p.img.source, opts.platforms, opts.file) });
    }
    const copier = new Copier({ blobConcurrency: opts.blobConcurrency ?? BLOB_CONCURRENCY });
    // every image whole and right (blobs there, sizes, digests, diff_ids) before the first push
    const checked = await mapLimit(unique, 4, async (p) => ({ ...p, plan: await copier.planImage(p.img.source, p.platforms) }));
    const problems = await checkArchivedImages(checked.map((c) => ({ name: c.name, source: c.img.source, plan: c.plan })));
    if (problems.length)
      throw new UserError(
        `${opts.file}: ${problems.length === 1 ? 'an image is damaged' : `${problems.length} problems`}; nothing was pushed:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''}`,
      );
    // layers `docker save` left uncompressed are compressed once, deterministically (the same
    // archive gives the same digests), into a temporary folder (made only when needed) removed at the end
    let work: Promise<string> | undefined;
    try {
      return await mapLimit(checked, opts.concurrency ?? IMAGE_CONCURRENCY, async (p) => {
        let source: ImageSource = p.img.source;
        // blobs pushed in the order they lie in the archive (a compressed one is read as a stream)
        const at = (d: Descriptor) => p.img.source.position(d.digest);
        let plan: ImagePlan | undefined = { ...p.plan, blobs: [...p.plan.blobs].sort((a, b) => at(a) - at(b)) };
        if (opts.compressLayers !== false && (await hasUncompressedLayers(source))) {
          info(`${p.name}: compressing the layers docker save left uncompressed (gzip, as docker push would)`);
          work ??= tempDir('airlift-import-');
          source = await compressLayers(source, await mkdtemp(join(await work, 'image-')));
          plan = undefined;
        }
        return {
          name: p.name,
          target: formatReference(p.target),
          result: await copier.copy(
            source,
            [opts.layout ? new OciLayoutTarget(opts.layout, formatReference(p.target), formatReference(p.target)) : openTarget({ transport: 'docker', ref: p.target }, opts.pool)],
            { platforms: p.platforms, plan },
          ),
        };
      });
    } finally {
      if (work) await rm(await work.catch(() => ''), { recursive: true, force: true }).catch(() => undefined);
    }
  } finally {
    await reader.close();
  }
}
