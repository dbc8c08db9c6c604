// An image whose layers are stored uncompressed (what a docker daemon's `docker save` gives)
// presented with gzip-compressed layers, as `docker push` would send them: each layer is
// compressed once into a temporary file (streamed, hashed as written), the manifest is
// rewritten as an OCI manifest naming the compressed layers. The config (and its diff_ids) is
// unchanged.
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { mapLimit } from '../concurrency.js';
import { UserError } from '../errors.js';
import { tap } from '../streams.js';
import { DigestVerifier, digestHex, digestOf, type Digest } from '../registry/digest.js';
import { MEDIA } from '../registry/media-types.js';
import { parseManifest, parsePlatform, platformMatches, type Descriptor, type Manifest } from './manifest.js';
import type { ImageSource } from './transport.js';

const UNCOMPRESSED = new Set(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
const GZIP_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** Whether an image manifest (not an index) stores some layers uncompressed (as `docker save` does). */
export async function hasUncompressedLayers(source: ImageSource): Promise<boolean> {
  const parsed = parseManifest(await source.top(), source.name);
  return parsed.kind === 'image' && parsed.layers.some((l) => UNCOMPRESSED.has(l.mediaType));
}

export async function compressLayers(source: ImageSource, dir: string, opts: { level?: number; concurrency?: number; platform?: string } = {}): Promise<ImageSource> {
  let top = await source.top();
  let parsed = parseManifest(top, source.name);
  if (parsed.kind === 'index') {
    // the containerd image store saves an index: take the built platform's manifest
    const want = opts.platform ? parsePlatform(opts.platform) : undefined;
    const entries = parsed.manifests.filter((d) => d.platform && d.platform.os !== 'unknown' && (!want || platformMatches(d.platform, want)));
    if (entries.length !== 1) throw new UserError(`${source.name}: expected one ${opts.platform ?? 'image'} manifest in the saved index, found ${entries.length}`);
    top = await source.manifest(entries[0]);
    parsed = parseManifest(top, source.name);
    if (parsed.kind !== 'image') throw new UserError(`${source.name}: nested indexes are not supported`);
  }
  const files = new Map<Digest, string>();
  const layers = await mapLimit(parsed.layers, opts.concurrency ?? 2, async (l): Promise<Descriptor> => {
    if (!UNCOMPRESSED.has(l.mediaType)) return l;
    const path = join(dir, `layer-${digestHex(l.digest)}.tar.gz`);
    const hash = createHash('sha256');
    let size = 0;
    await pipeline(
      await source.blob(l),
      createGzip({ level: opts.level ?? 6 }),
      tap((c) => {
        hash.update(c);
        size += c.length;
      }),
      createWriteStream(path),
    );
    const digest = `sha256:${hash.digest('hex')}` as Digest;
    files.set(digest, path);
    return { mediaType: GZIP_LAYER, digest, size };
  });
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: parsed.config, layers }));
  const manifest: Manifest = { digest: digestOf(bytes), mediaType: MEDIA.ociManifest, bytes };
  return {
    name: source.name,
    headTop: async () => manifest.digest,
    top: async () => manifest,
    manifest: async (d) => (d.digest === manifest.digest ? manifest : source.manifest(d)),
    blob: async (d: Descriptor, onBytes?: (n: number) => void): Promise<Readable> => {
      const file = files.get(d.digest);
      if (!file) return source.blob(d, onBytes);
      const v = new DigestVerifier(d.digest, d.size, file, onBytes);
      const s = createReadStream(file);
      s.on('error', (err) => v.destroy(err));
      return s.pipe(v);
    },
  };
}
