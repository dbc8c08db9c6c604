// A tiny runnable multi-platform image: per platform one layer holding /bin/true (any static
// program for that platform), written as an OCI image layout and packed as an OCI archive,
// i.e. what `docker buildx build --output type=oci` writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { TarWriter } from '../../src/lib/archive/tar.js';
import { ArchiveWriter } from '../../src/lib/image/archive-writer.js';
import { Copier, copyFailure } from '../../src/lib/image/copy.js';
import { OciLayoutSource } from '../../src/lib/image/oci-layout.js';
import { MT, sha256Digest } from './oci.js';

const sha = sha256Digest;

async function layerTar(program: Buffer): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const t = new TarWriter(out);
  await t.addDirectory('bin');
  await t.addFile({ name: 'bin/true', size: program.length, mode: 0o755 }, program);
  await t.finish();
  return Buffer.concat(chunks);
}

/** Writes the layout to `dir` (tag `tag`) and an OCI archive of it to `archive`; returns the index digest. */
export async function runnableImage(dir: string, archive: string, programs: Record<string, Buffer>, tag = 'test'): Promise<string> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(join(dir, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const manifests = [];
  for (const [platform, program] of Object.entries(programs)) {
    const [os, architecture] = platform.split('/');
    const tar = await layerTar(program);
    const layer = { mediaType: MT.layer, ...put(gzipSync(tar)) };
    const config = { mediaType: MT.config, ...put(Buffer.from(JSON.stringify({ architecture, os, config: {}, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }))) };
    const m = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config, layers: [layer] })));
    manifests.push({ mediaType: MT.manifest, ...m, platform: { os, architecture } });
  }
  const index = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests })));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.index, ...index, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
  const w = new ArchiveWriter(archive, 'oci-archive');
  const res = await new Copier().copy(new OciLayoutSource(dir, tag), [w.target(`example.invalid/runnable:${tag}`)]);
  const failure = copyFailure(res);
  if (failure) throw new Error(`packing ${dir}: ${String(failure.error)}`);
  await w.finish();
  return index.digest;
}
