// Small synthetic multi-platform images, built in memory and written through any ImageTarget:
// the demo's embedded data (no network, no registry). Deterministic: same input, same digests.
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { TarWriter } from '../archive/tar.js';
import { digestOf } from '../registry/digest.js';
import { MEDIA } from '../registry/media-types.js';
import type { Descriptor, Manifest, Platform } from './manifest.js';
import type { ImageTarget } from './transport.js';

/** A file's content (mode 0644), or its bytes with a mode (0755 for a program). */
export type SyntheticFile = string | { data: Buffer; mode: number };

async function tarOf(files: Record<string, SyntheticFile>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  const tar = new TarWriter(sink);
  for (const [name, f] of Object.entries(files)) {
    const data = typeof f === 'string' ? Buffer.from(f) : f.data;
    await tar.addFile({ name, size: data.length, mode: typeof f === 'string' ? 0o644 : f.mode }, data);
  }
  await tar.finish();
  return Buffer.concat(chunks);
}

export interface SyntheticImage {
  index: Manifest;
  manifests: Manifest[];
}

/**
 * Writes a small image for each platform (one layer holding `files`, or the platform's files)
 * and an index over them.
 */
export async function writeSyntheticImage(
  target: ImageTarget,
  opts: {
    platforms: Platform[];
    files: Record<string, SyntheticFile> | ((p: Platform) => Record<string, SyntheticFile> | Promise<Record<string, SyntheticFile>>);
    entrypoint?: string[];
    created?: string;
  },
): Promise<SyntheticImage> {
  const manifests: Manifest[] = [];
  const entries: Descriptor[] = [];
  const put = async (bytes: Buffer, mediaType: string): Promise<Descriptor> => {
    const desc = { mediaType, digest: digestOf(bytes), size: bytes.length };
    if (!(await target.hasBlob(desc))) await target.putBlob(desc, Readable.from([bytes]));
    return desc;
  };
  for (const p of opts.platforms) {
    const files = typeof opts.files === 'function' ? await opts.files(p) : opts.files;
    const tar = await tarOf({ ...files, 'etc/airlift-platform': `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}\n` });
    const layer = await put(gzipSync(tar, { level: 9 }), 'application/vnd.oci.image.layer.v1.tar+gzip');
    const config = {
      ...p,
      created: opts.created ?? '2026-01-01T00:00:00Z',
      config: opts.entrypoint ? { Entrypoint: opts.entrypoint } : {},
      rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
    };
    const configDesc = await put(Buffer.from(JSON.stringify(config)), 'application/vnd.oci.image.config.v1+json');
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: configDesc, layers: [layer] }));
    const m: Manifest = { digest: digestOf(bytes), mediaType: MEDIA.ociManifest, bytes };
    await target.putManifest(m, false);
    manifests.push(m);
    entries.push({ mediaType: m.mediaType, digest: m.digest, size: bytes.length, platform: p });
  }
  const ib = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: entries }));
  const index: Manifest = { digest: digestOf(ib), mediaType: MEDIA.ociIndex, bytes: ib };
  await target.putManifest(index, true);
  return { index, manifests };
}
