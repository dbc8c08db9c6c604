// Hand-made OCI archives for tests of what an importer must refuse: each part of an image
// (layers, config, manifest, index) written from scratch, so one of them can be wrong on purpose
// (a missing blob, a false size, diff_ids that do not match) in ways no tool would write.
import { createWriteStream } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { TarWriter } from '../../src/lib/archive/tar.js';
import { digestOfStream, MT, sha256Digest } from './oci.js';

export interface CraftLayer {
  /** the files of the layer (name → content), or a file of `zeros` bytes (streamed, never held) */
  files?: Record<string, string>;
  zeros?: number;
  /** store the layer gzip-compressed (default) or as a plain tar */
  gzip?: boolean;
}

export interface CraftOptions {
  layers: CraftLayer[];
  /** org.opencontainers.image.ref.name of the one image (a full reference, or a tag) */
  refName?: string;
  /** damage: diff_ids written into the config instead of the real ones */
  diffIds?: (real: string[]) => string[];
  /** damage: the index of a layer left out of the archive */
  omitLayer?: number;
  /** damage: a layer descriptor claiming a different size */
  lieAboutSize?: number;
  /** gzip the whole archive (as `.tar.gz`) */
  gzipArchive?: boolean;
}

const ZERO = Buffer.alloc(1024 * 1024);

/** A tar stream of one file of n zero bytes. */
function zeroTar(n: number): Readable {
  const out = new PassThrough();
  const w = new TarWriter(out);
  void (async () => {
    await w.addFile(
      { name: 'zeros', size: n },
      (async function* () {
        for (let left = n; left > 0; left -= ZERO.length) yield left >= ZERO.length ? ZERO : ZERO.subarray(0, left);
      })(),
    );
    await w.finish();
  })().catch((err: Error) => out.destroy(err));
  return out;
}

async function filesTar(files: Record<string, string>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const w = new TarWriter(out);
  for (const [name, content] of Object.entries(files)) await w.addFile({ name, size: Buffer.byteLength(content) }, Buffer.from(content));
  await w.finish();
  return Buffer.concat(chunks);
}

const sha = sha256Digest;

/** Writes the archive; returns the digests of what it holds. */
export async function craftOciArchive(file: string, opts: CraftOptions): Promise<{ index: string; manifest: string; diffIds: string[] }> {
  // each layer: a way to produce its stored bytes again, its digest, size and diff_id
  const layers: { open: () => Readable; digest: string; size: number; diffId: string; mediaType: string }[] = [];
  for (const l of opts.layers) {
    const gzip = l.gzip ?? true;
    if (l.zeros !== undefined) {
      const n = l.zeros;
      const plain = () => zeroTar(n);
      const open = gzip ? () => plain().pipe(createGzip({ level: 1 })) : plain;
      const diff = await digestOfStream(plain());
      const stored = gzip ? await digestOfStream(open()) : diff;
      layers.push({ open, ...stored, diffId: diff.digest, mediaType: gzip ? MT.layer : MT.layerTar });
    } else {
      const tar = await filesTar(l.files ?? {});
      const bytes = gzip ? gzipSync(tar) : tar;
      layers.push({
        open: () => Readable.from([bytes]),
        digest: sha(bytes),
        size: bytes.length,
        diffId: sha(tar),
        mediaType: gzip ? MT.layer : MT.layerTar,
      });
    }
  }
  const real = layers.map((l) => l.diffId);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: opts.diffIds ? opts.diffIds(real) : real } }));
  const configDesc = { mediaType: MT.config, digest: sha(config), size: config.length };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: configDesc,
      layers: layers.map((l, i) => ({ mediaType: l.mediaType, digest: l.digest, size: i === opts.lieAboutSize ? l.size + 7 : l.size })),
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [
        {
          mediaType: MT.manifest,
          digest: sha(manifest),
          size: manifest.length,
          ...(opts.refName ? { annotations: { 'org.opencontainers.image.ref.name': opts.refName } } : {}),
        },
      ],
    }),
  );
  const out = new PassThrough();
  const written = opts.gzipArchive ? pipeline(out, createGzip({ level: 1 }), createWriteStream(file)) : pipeline(out, createWriteStream(file));
  const w = new TarWriter(out);
  const blob = (digest: string) => `blobs/sha256/${digest.slice(7)}`;
  await w.addFile({ name: 'oci-layout', size: 30 }, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  for (const [i, l] of layers.entries()) if (i !== opts.omitLayer) await w.addFile({ name: blob(l.digest), size: l.size }, l.open());
  await w.addFile({ name: blob(configDesc.digest), size: config.length }, config);
  await w.addFile({ name: blob(sha(manifest)), size: manifest.length }, manifest);
  await w.addFile({ name: 'index.json', size: index.length }, index);
  await w.finish();
  await written;
  return { index: sha(index), manifest: sha(manifest), diffIds: real };
}
