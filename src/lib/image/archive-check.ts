// Checks an archived image whole before anything of it is pushed: every blob its manifests name
// is in the archive, of the size they say, with the digest they say, and each image's config
// lists the diff_ids its layers really have. A registry would take a layer whose diff_id is
// wrong and the image would fail only when pulled and unpacked; a blob missing half-way through
// a push leaves the blobs before it orphaned in the registry. Each blob is read once here;
// afterwards the push streams it without hashing it again (the registry checks the digest).
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable, Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { mapLimit } from '../concurrency.js';
import type { Digest } from '../registry/digest.js';
import type { ImagePlan } from './copy.js';
import { parseManifest, type Descriptor, type Manifest } from './manifest.js';
import { readAll } from '../streams.js';

/** What the check needs of an archived image (ArchiveImageSource). */
export interface CheckableSource {
  readonly name: string;
  /** the size of the entry holding the blob, undefined when the archive lacks it */
  entrySize(digest: Digest): number | undefined;
  /** the blob's bytes as stored, unverified */
  rawBlob(digest: Digest): Readable;
  /** where the blob lies in the archive (to read blobs in archive order) */
  position(digest: Digest): number;
  /** blobs checked here: the push need not hash them again */
  markChecked(digest: Digest): void;
}

interface Sums {
  digest: Digest;
  size: number;
  /** sha256 of the uncompressed layer; undefined when its compression cannot be read here */
  diffId?: Digest;
  error?: string;
}

type ZstdZlib = { createZstdDecompress?: () => Transform };

/** sha256 of the bytes and, for a layer, of its uncompressed content (gzip, zstd where Node has it, or none). */
async function sums(stream: Readable, layer: boolean): Promise<Sums> {
  const outer = createHash('sha256');
  let size = 0;
  let inner: Transform | undefined;
  const innerHash = createHash('sha256');
  let decided = !layer;
  let plain = false;
  let innerError: Error | undefined;
  let innerDone: Promise<unknown> = Promise.resolve();
  for await (const c of stream as AsyncIterable<Buffer>) {
    if (!decided) {
      decided = true;
      if (c[0] === 0x1f && c[1] === 0x8b) inner = zlib.createGunzip();
      else if (c[0] === 0x28 && c[1] === 0xb5 && c[2] === 0x2f && c[3] === 0xfd) inner = (zlib as ZstdZlib).createZstdDecompress?.();
      else plain = true;
      if (inner) {
        inner.on('data', (d: Buffer) => innerHash.update(d));
        inner.on('error', (err: Error) => (innerError ??= err));
        innerDone = once(inner, 'end').catch(() => undefined);
      }
    }
    outer.update(c);
    size += c.length;
    if (inner && !innerError && !inner.write(c)) await Promise.race([once(inner, 'drain'), innerDone]);
  }
  const digest: Digest = `sha256:${outer.digest('hex')}`;
  if (plain) return { digest, size, diffId: digest };
  if (!inner) return { digest, size };
  if (!innerError) {
    inner.end();
    await innerDone;
  }
  if (innerError) return { digest, size, error: `its compressed content is damaged (${innerError.message})` };
  return { digest, size, diffId: `sha256:${innerHash.digest('hex')}` };
}

/**
 * The problems found in the images planned from one archive (empty when all is well), each
 * naming the image and the blob. Blobs shared by several images are read once.
 */
export async function checkArchivedImages(images: { name: string; source: CheckableSource; plan: ImagePlan }[], concurrency = 4): Promise<string[]> {
  const problems: string[] = [];
  // every blob once, first holder named; read in archive order so a streamed archive is read in one pass
  const blobs = new Map<Digest, { desc: Descriptor; source: CheckableSource; name: string; layer: boolean }>();
  const layerDigests = new Set<Digest>();
  const images_: { name: string; source: CheckableSource; manifest: Manifest }[] = [];
  for (const img of images) {
    const manifests = img.plan.children.length ? img.plan.children : [img.plan.top];
    for (const m of manifests) {
      const p = parseManifest(m, img.name);
      if (p.kind !== 'image') continue;
      images_.push({ name: img.name, source: img.source, manifest: m });
      for (const l of p.layers) layerDigests.add(l.digest);
    }
    for (const d of img.plan.blobs) if (!blobs.has(d.digest)) blobs.set(d.digest, { desc: d, source: img.source, name: img.name, layer: false });
  }
  for (const b of blobs.values()) b.layer = layerDigests.has(b.desc.digest);
  const present = [...blobs.values()].filter((b) => {
    const size = b.source.entrySize(b.desc.digest);
    const kind = b.layer ? 'layer' : 'config';
    if (size === undefined) problems.push(`${b.name}: ${kind} ${b.desc.digest} is not in the archive`);
    else if (size !== b.desc.size) problems.push(`${b.name}: ${kind} ${b.desc.digest} holds ${size} bytes, its manifest says ${b.desc.size}`);
    else return true;
    return false;
  });
  present.sort((a, b) => a.source.position(a.desc.digest) - b.source.position(b.desc.digest));
  const found = new Map<Digest, Sums>();
  await mapLimit(present, concurrency, async (b) => {
    const s = await sums(b.source.rawBlob(b.desc.digest), b.layer);
    found.set(b.desc.digest, s);
    const kind = b.layer ? 'layer' : 'config';
    if (s.digest !== b.desc.digest) problems.push(`${b.name}: ${kind} ${b.desc.digest} does not match its digest (its bytes hash to ${s.digest})`);
    else if (s.error) problems.push(`${b.name}: layer ${b.desc.digest}: ${s.error}`);
    else b.source.markChecked(b.desc.digest);
  });
  // each image's config against its layers' content
  for (const { name, source, manifest } of images_) {
    const p = parseManifest(manifest, name);
    if (p.kind !== 'image' || !found.has(p.config.digest) || found.get(p.config.digest)!.digest !== p.config.digest) continue;
    const config = await readAll(source.rawBlob(p.config.digest));
    let diffIds: unknown;
    try {
      diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: unknown } }).rootfs?.diff_ids;
    } catch {
      problems.push(`${name}: config ${p.config.digest} is not JSON`);
      continue;
    }
    if (!/^application\/vnd\.(oci\.image|docker\.container\.image)\.config/.test(p.config.mediaType)) continue; // not a container image (an artifact)
    if (!Array.isArray(diffIds)) {
      problems.push(`${name}: config ${p.config.digest} lists no rootfs.diff_ids`);
      continue;
    }
    if (diffIds.length !== p.layers.length) {
      problems.push(`${name}: config ${p.config.digest} lists ${diffIds.length} diff_ids for ${p.layers.length} layers`);
      continue;
    }
    p.layers.forEach((l, i) => {
      const s = found.get(l.digest);
      const actual = s?.digest === l.digest ? s.diffId : undefined;
      if (actual && actual !== diffIds[i]) problems.push(`${name}: layer ${i + 1} (${l.digest}) unpacks to ${actual}, but the config says its diff_id is ${String(diffIds[i])}`);
    });
  }
  return problems;
}
