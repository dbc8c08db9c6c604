// Packs images into one archive (docker-archive, oci-archive) or an OCI layout directory,
// straight from their registries: layers as fetched, each blob once. Writes the checksum
// list (sha256sum -c) and a manifest (files with size and sha256, images with digest and
// platforms); optionally splits the archive into parts.
import { readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { formatSha256Sums, sha256File } from '../archive/checksums.js';
import { removeParts, splitFile } from '../archive/split.js';
import { mapLimit } from '../concurrency.js';
import { UserError, errorMessage } from '../errors.js';
import { ArchiveWriter, DiskFullError, type ArchiveFormat } from '../image/archive-writer.js';
import type { ArchiveRegion } from '../archive/tar-file.js';
import { BLOB_CONCURRENCY, Copier, copyFailure, IMAGE_CONCURRENCY, type ImagePlan } from '../image/copy.js';
import { platformString, type Platform } from '../image/manifest.js';
import { OciLayoutSource, OciLayoutTarget, orderIndex } from '../image/oci-layout.js';
import { openSource, type RegistryPool } from '../image/open.js';
import type { ImageSource, ImageTarget } from '../image/transport.js';
import { Progress } from '../log.js';
import { formatReference, type Reference } from '../registry/reference.js';
import { isIndexType } from '../registry/media-types.js';

export type PackFormat = ArchiveFormat | 'oci';

export interface PackedFile {
  path: string;
  size: number;
  sha256: string;
}

export interface PackedImage {
  name: string;
  digest: string;
  platforms: string[];
  bytes: number;
}

export interface PackResult {
  /** the archive, its first part when split, or the layout directory */
  output: string;
  files: PackedFile[];
  images: PackedImage[];
  checksums: string;
  manifest: string;
}

export interface PackOptions {
  images: Reference[];
  format: PackFormat;
  /** docker-archive: the one platform written per image */
  platform?: Platform;
  /** archive file or layout directory */
  output: string;
  compression?: 'none' | 'gzip';
  splitSize?: number;
  pool: RegistryPool;
  concurrency?: number;
  blobConcurrency?: number;
  name?: string;
  version?: string;
  /** write the archive inside a larger file (a bundle), in place: no checksum or manifest files beside it */
  region?: ArchiveRegion;
  /** read the images from this OCI layout (each under its full reference) instead of their registries */
  fromLayout?: string;
}

async function layoutFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await layoutFiles(p, base)));
    else if (!(dir === base && (e.name === 'SHA256SUMS' || e.name === 'manifest.json'))) out.push(p.slice(base.length + 1)); // (older packs wrote those inside)
  }
  return out.sort();
}

function sourceOf(ref: Reference, opts: PackOptions): ImageSource {
  return opts.fromLayout ? new OciLayoutSource(opts.fromLayout, formatReference(ref)) : openSource({ transport: 'docker', ref }, opts.pool);
}

export async function packImages(opts: PackOptions): Promise<PackResult> {
  if (opts.images.length === 0) throw new UserError('no images to pack');
  if (opts.format === 'docker-archive' && !opts.platform) throw new UserError('a docker-archive holds one platform per image: set platform (e.g. linux/amd64)');
  if (opts.region && (opts.format === 'oci' || opts.splitSize || (opts.compression ?? 'none') !== 'none'))
    throw new Error('only an uncompressed, unsplit archive is written in place');
  const writer = opts.format === 'oci' ? undefined : new ArchiveWriter(opts.output, opts.format, opts.compression ?? 'none', opts.region);
  const copier = new Copier({ blobConcurrency: opts.blobConcurrency ?? BLOB_CONCURRENCY });
  const progress = new Progress({ label: 'pack', totalItems: opts.images.length, itemName: 'images' });
  const images: PackedImage[] = [];
  const platforms = opts.format === 'docker-archive' ? [opts.platform!] : undefined;
  try {
    // An uncompressed archive is laid out first, image by image in list order, so it comes out
    // byte for byte the same whatever order the blobs arrive in (a reproducible archive).
    let plans: ImagePlan[] | undefined;
    if (writer?.reserves) {
      plans = await mapLimit(opts.images, opts.concurrency ?? IMAGE_CONCURRENCY, async (ref) => {
        try {
          return await copier.planImage(sourceOf(ref, opts), platforms);
        } catch (err) {
          throw new UserError(`${formatReference(ref)}: cannot be read: ${errorMessage(err)}`);
        }
      });
      for (const p of plans) {
        // a docker-archive keeps the platform's image manifest, not the (filtered) index
        const manifests = [...p.children, ...(opts.format === 'docker-archive' && isIndexType(p.top.mediaType) ? [] : [p.top])];
        await writer.reserve([...p.blobs, ...manifests.map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.bytes.length }))]);
      }
    }
    await mapLimit(opts.images, opts.concurrency ?? IMAGE_CONCURRENCY, async (ref, i) => {
      const name = formatReference(ref);
      const target: ImageTarget = writer ? writer.target(name) : new OciLayoutTarget(opts.output, name, name);
      const r = await copier.copy(sourceOf(ref, opts), [target], { platforms, plan: plans?.[i] });
      const failed = copyFailure(r);
      if (failed?.side === 'source') throw new UserError(`${name}: cannot be read: ${errorMessage(failed.error)}`);
      if (failed) throw failed.error instanceof DiskFullError ? failed.error : new UserError(`${name}: ${errorMessage(failed.error)}`);
      images.push({ name, digest: r.digest ?? '', platforms: r.platforms, bytes: r.bytes });
      progress.add({ items: 1, bytes: r.bytes });
    });
  } catch (err) {
    await writer?.abort();
    throw err;
  }
  progress.done();
  // a layout's index lists the images in list order, not in the order they finished
  if (!writer) await orderIndex(opts.output, opts.images.map(formatReference));
  images.sort((a, b) => opts.images.findIndex((r) => formatReference(r) === a.name) - opts.images.findIndex((r) => formatReference(r) === b.name));

  let files: PackedFile[];
  let output = opts.output;
  let checksums: string;
  if (writer) {
    const res = await writer.finish();
    // the archive records what it holds: for a docker-archive, the platform's image manifest
    for (const img of images) {
      const held = res.images.find((i) => i.name === img.name);
      if (held) Object.assign(img, { digest: held.digest, platforms: held.platforms.length ? held.platforms : img.platforms });
    }
    files = [{ path: basename(res.file), size: res.size, sha256: res.sha256 }];
    if (opts.region) return { output, files, images, checksums: '', manifest: '' };
    if (opts.splitSize && res.size > opts.splitSize) {
      const parts = await splitFile(res.file, opts.splitSize, { removeOriginal: true });
      files = [...parts.map((p) => ({ path: basename(p.path), size: p.size, sha256: p.sha256 })), ...files];
      output = parts[0].path;
    } else await removeParts(res.file);
    checksums = `${opts.output}.sha256`;
    // the whole archive's checksum is listed too: after `cat <file>.part-* > <file>` it verifies
    await writeFile(checksums, formatSha256Sums(files.map((f) => ({ file: f.path, sha256: f.sha256 }))));
  } else {
    // the layout stays a clean OCI layout (tarred, ctr and docker read it): its checksums and
    // manifest go beside it, listing its files by <layout>/<path>, so `sha256sum -c` runs there
    const name = basename(opts.output);
    files = [];
    for (const f of await layoutFiles(opts.output)) {
      const p = join(opts.output, f);
      const hex = f.startsWith('blobs/sha256/') ? basename(f) : await sha256File(p);
      files.push({ path: `${name}/${f}`, size: (await stat(p)).size, sha256: hex });
    }
    checksums = `${opts.output}.sha256`;
    await writeFile(checksums, formatSha256Sums(files.map((f) => ({ file: f.path, sha256: f.sha256 }))));
  }
  const manifest = `${opts.output}.manifest.json`;
  await writeFile(
    manifest,
    JSON.stringify(
      {
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.version ? { version: opts.version } : {}),
        format: opts.format,
        ...(opts.format === 'docker-archive' ? { platform: platformString(opts.platform) } : {}),
        files,
        images: images.map((i) => ({ name: i.name, digest: i.digest, platforms: i.platforms })),
      },
      null,
      2,
    ) + '\n',
  );
  return { output, files, images, checksums, manifest };
}
