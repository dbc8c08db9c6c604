// Import without a daemon: the images of an archive pushed into a registry under a target
// prefix, digests kept, blobs already present skipped; checksums verified first.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { verifySha256Sums } from '../archive/checksums.js';
import { isPart } from '../archive/split.js';
import { mapLimit } from '../concurrency.js';
import { UserError } from '../errors.js';
import { info, notice } from '../log.js';
import type { Digest } from '../registry/digest.js';
import { parseManifest, platformMatches, platformString, type Platform } from './manifest.js';
import type { ImageSource } from './transport.js';
import { formatReference, parseReference, ReferenceError, withDefaultTag } from '../registry/reference.js';
import { mapTarget, parseTargetPrefix } from '../sync/plan.js';
import { ArchiveReader } from './archive-reader.js';
import { compressLayers, hasUncompressedLayers } from './compress.js';
import { Copier, type CopyResult } from './copy.js';
import { openTarget, type RegistryPool } from './open.js';

export interface ImportOptions {
  file: string;
  /** registry/namespace prefix the image references are rewritten onto */
  target: string;
  pool: RegistryPool;
  /** platforms to import; default: every platform whose blobs are in the archive */
  platforms?: Platform[];
  /** gzip-compress layers stored uncompressed (docker save) once, as docker push would (default true) */
  compressLayers?: boolean;
  concurrency?: number;
  blobConcurrency?: number;
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
    if (missing.length) throw new UserError(`${file}: ${name}: ${missing.map(platformString).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the archive${p.present.length ? ` (it holds ${p.present.map(platformString).join(', ')})` : ''}; nothing was imported`);
    return wanted;
  }
  if (missing.length === 0) return undefined;
  if (p.present.length === 0) throw new UserError(`${file}: ${name}: the archive holds the index but no platform's blobs (${p.all.map(platformString).join(', ')} all missing); nothing was imported`);
  notice(`${file}: ${name}: importing ${p.present.map(platformString).join(', ')}; ${missing.map(platformString).join(', ')} skipped, its blobs are not in the archive (as \`ctr images export\` writes it without --all-platforms); the imported index is a new one, its digest differs`);
  return p.present;
}

export interface ImportedImage {
  name: string;
  target: string;
  result: CopyResult;
}

export async function importArchive(opts: ImportOptions): Promise<ImportedImage[]> {
  if (!existsSync(opts.file)) throw new UserError(`archive ${opts.file} was not found`);
  const isDir = statSync(opts.file).isDirectory();
  const sidecar = `${opts.file.replace(/[\\/]+$/, '')}.sha256`;
  const prefix = parseTargetPrefix(opts.target);
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
    const plan = images.map((img, i) => {
      if (!img.name)
        throw new UserError(`${opts.file}: image ${i + 1} records ${img.tag ? `only the tag "${img.tag}", no repository` : 'no name (repository:tag)'}, so it cannot be placed under ${opts.target}${img.tag ? ' (write the archive with a full reference, e.g. skopeo copy … oci-archive:<file>:<repository>:<tag>)' : ''}`);
      let src;
      try {
        src = parseReference(img.name);
      } catch (err) {
        if (err instanceof ReferenceError) throw new UserError(`${opts.file}: ${err.message}`);
        throw err;
      }
      const target = mapTarget(src, prefix, undefined, opts.file);
      return { img, name: img.name, target };
    });
    // one target, one image: the same image twice is pushed once; two images on one tag refused
    const byTarget = new Map<string, { name: string; digest: string }>();
    const unique: (typeof plan[number] & { platforms?: Platform[] })[] = [];
    for (const p of plan) {
      // an untagged name is pushed as :latest, so it is the same target as :latest
      const key = formatReference(withDefaultTag(p.target));
      const digest = (await p.img.source.headTop()) ?? (await p.img.source.top()).digest;
      const seen = byTarget.get(key);
      if (seen && seen.digest !== digest) throw new UserError(`${opts.file}: ${seen.name} (${seen.digest}) and ${p.name} (${digest}) would both be pushed as ${key}; nothing was imported`);
      if (seen) continue;
      byTarget.set(key, { name: p.name, digest });
      // the platforms whose blobs are there (checked for every image before anything is pushed)
      unique.push({ ...p, platforms: await choosePlatforms(p.name, p.img.source, opts.platforms, opts.file) });
    }
    const copier = new Copier({ blobConcurrency: opts.blobConcurrency ?? 8 });
    // layers `docker save` left uncompressed are compressed once, deterministically (the same
    // archive gives the same digests), into a temporary folder (made only when needed) removed at the end
    let work: Promise<string> | undefined;
    try {
      return await mapLimit(unique, opts.concurrency ?? 4, async (p) => {
        let source = p.img.source;
        if (opts.compressLayers !== false && (await hasUncompressedLayers(source))) {
          info(`${p.name}: compressing the layers docker save left uncompressed (gzip, as docker push would)`);
          work ??= mkdtemp(join(process.env.RUNNER_TEMP ?? tmpdir(), 'airlift-import-'));
          source = await compressLayers(source, await mkdtemp(join(await work, 'image-')));
        }
        return { name: p.name, target: formatReference(p.target), result: await copier.copy(source, [openTarget({ transport: 'docker', ref: p.target }, opts.pool)], { platforms: p.platforms }) };
      });
    } finally {
      if (work) await rm(await work.catch(() => ''), { recursive: true, force: true }).catch(() => undefined);
    }
  } finally {
    await reader.close();
  }
}
