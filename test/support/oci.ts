// The OCI pieces every test image generator writes: media types and digests. The generators
// themselves differ on purpose: fixtures.ts writes deterministic multi-arch layouts to push,
// craft.ts writes archives wrong in ways no tool would, docker-save.ts has GNU tar write a
// `docker save` archive (not our writer), memory-images.ts keeps images in memory.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
} as const;

/** `sha256:<hex>` of bytes or text. */
export function sha256Digest(data: string | Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest and size of everything a stream gives. */
export async function digestOfStream(s: Readable): Promise<{ digest: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of s) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

/** A pass-through that digests and counts what goes through it. */
export function hashing(): { stream: Transform; digest: () => string; size: () => number } {
  const h = createHash('sha256');
  let n = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      n += chunk.length;
      cb(null, chunk);
    },
  });
  let d: string | undefined;
  return { stream, digest: () => (d ??= `sha256:${h.digest('hex')}`), size: () => n };
}
