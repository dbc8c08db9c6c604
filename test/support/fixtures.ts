// Synthetic multi-arch OCI images, written into an OCI image layout and pushed with skopeo.
// Deterministic: the same seed gives the same bytes and the same digests. Each image has, per
// platform, a base layer shared by every image of that platform plus its own app layers.
import { createCipheriv, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { TarWriter } from '../../src/lib/archive/tar.js';
import { hashing, MT, sha256Digest } from './oci.js';

export interface FixtureOptions {
  /** e.g. ['app', 'release/db'] */
  images: string[];
  tag?: string;
  platforms?: string[];
  seed?: number;
  baseLayerBytes?: number;
  appLayerBytes?: number;
  appLayers?: number;
  /** fraction (0..1) of each layer's content that is compressible text rather than random bytes */
  compressible?: number;
  /** gzip level of the layers (default 6) */
  gzipLevel?: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface FixtureImage {
  name: string;
  tag: string;
  /** the OCI layout ref name (org.opencontainers.image.ref.name) */
  ref: string;
  index: Descriptor;
  manifests: (Descriptor & { platform: NonNullable<Descriptor['platform']>; layers: Descriptor[]; config: Descriptor })[];
}

export interface Fixture {
  dir: string;
  images: FixtureImage[];
  /** every distinct blob digest → size */
  blobs: Map<string, number>;
}

/** Deterministic pseudo-random bytes: AES-128-CTR over zeros, keyed by the seed. */
function randomStream(seed: string, bytes: number, compressible: number): Readable {
  const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const CHUNK = 64 * 1024;
  const text = Buffer.from(`airlift fixture ${seed} `.repeat(Math.ceil(CHUNK / 20))).subarray(0, CHUNK);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(CHUNK, left);
      left -= n;
      const rnd = cipher.update(Buffer.alloc(n));
      const cut = Math.floor(n * compressible);
      this.push(Buffer.concat([text.subarray(0, cut), rnd.subarray(cut)]));
    },
  });
}

async function writeBlob(dir: string, data: Buffer): Promise<Descriptor & { mediaType: '' }> {
  const digest = sha256Digest(data);
  const path = join(dir, 'blobs', 'sha256', digest.slice(7));
  if (!existsSync(path)) writeFileSync(path, data);
  return { mediaType: '', digest, size: data.length };
}

/** Builds a gzip layer holding one file; returns its descriptor and diff_id. */
async function writeLayer(dir: string, seed: string, bytes: number, compressible: number, level = 6): Promise<{ desc: Descriptor; diffId: string }> {
  const tmp = join(dir, 'blobs', `.tmp-${createHash('sha1').update(seed).digest('hex')}`);
  const uncompressed = hashing();
  const compressed = hashing();
  const tarOut = new PassThrough();
  const tar = new TarWriter(tarOut);
  const writing = (async () => {
    await tar.addDirectory('data');
    await tar.addFile({ name: `data/${seed.replace(/[^a-z0-9]+/gi, '-')}.bin`, size: bytes, mode: 0o644 }, randomStream(seed, bytes, compressible));
    await tar.finish();
  })();
  await Promise.all([writing, pipeline(tarOut, uncompressed.stream, createGzip({ level }), compressed.stream, createWriteStream(tmp))]);
  const digest = compressed.digest();
  const final = join(dir, 'blobs', 'sha256', digest.slice(7));
  if (existsSync(final)) rmSync(tmp);
  else renameSync(tmp, final);
  return { desc: { mediaType: MT.layer, digest, size: compressed.size() }, diffId: uncompressed.digest() };
}

function parsePlatform(p: string): { os: string; architecture: string; variant?: string } {
  const [os, architecture, variant] = p.split('/');
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function refName(name: string, tag: string): string {
  return `${name.replace(/\//g, '-')}-${tag}`;
}

export async function buildOciFixture(dir: string, opts: FixtureOptions): Promise<Fixture> {
  const tag = opts.tag ?? '1.0.0';
  const platforms = opts.platforms ?? ['linux/amd64', 'linux/arm64'];
  const seed = opts.seed ?? 1;
  const baseBytes = opts.baseLayerBytes ?? 64 * 1024;
  const appBytes = opts.appLayerBytes ?? 16 * 1024;
  const appLayers = opts.appLayers ?? 2;
  const compressible = opts.compressible ?? 0.5;
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const blobs = new Map<string, number>();
  const note = (d: Descriptor) => blobs.set(d.digest, d.size);

  const bases = new Map<string, { desc: Descriptor; diffId: string }>();
  for (const p of platforms) {
    const base = await writeLayer(dir, `base:${seed}:${p}`, baseBytes, compressible, opts.gzipLevel);
    bases.set(p, base);
  }

  const images: FixtureImage[] = [];
  for (const name of opts.images) {
    const manifests: FixtureImage['manifests'] = [];
    for (const p of platforms) {
      const layers = [bases.get(p)!];
      for (let i = 0; i < appLayers; i++) layers.push(await writeLayer(dir, `app:${seed}:${name}:${tag}:${p}:${i}`, appBytes, compressible, opts.gzipLevel));
      const platform = parsePlatform(p);
      const config = {
        ...platform,
        created: '2026-01-01T00:00:00Z',
        config: { Cmd: ['/bin/app'], Labels: { 'org.opencontainers.image.title': name } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map((_, i) => ({ created: '2026-01-01T00:00:00Z', created_by: `airlift fixture layer ${i}` })),
      };
      const configDesc = { ...(await writeBlob(dir, Buffer.from(JSON.stringify(config)))), mediaType: MT.config };
      const manifest = { schemaVersion: 2, mediaType: MT.manifest, config: configDesc, layers: layers.map((l) => l.desc) };
      const mdesc = { ...(await writeBlob(dir, Buffer.from(JSON.stringify(manifest)))), mediaType: MT.manifest };
      for (const d of [configDesc, ...layers.map((l) => l.desc)]) note(d);
      manifests.push({ ...mdesc, platform, layers: layers.map((l) => l.desc), config: configDesc });
    }
    const index = {
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: manifests.map((m) => ({ mediaType: m.mediaType, digest: m.digest, size: m.size, platform: m.platform })),
    };
    const idesc = { ...(await writeBlob(dir, Buffer.from(JSON.stringify(index)))), mediaType: MT.index };
    for (const m of manifests) note(m);
    note(idesc);
    images.push({ name, tag, ref: refName(name, tag), index: idesc, manifests });
  }
  const layoutIndex = {
    schemaVersion: 2,
    manifests: images.map((i) => ({ ...i.index, annotations: { 'org.opencontainers.image.ref.name': i.ref } })),
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(layoutIndex));
  return { dir, images, blobs };
}

export interface PushTarget {
  host: string;
  username?: string;
  password?: string;
}

/** Pushes every fixture image to a registry with skopeo (--all: digests kept). */
export function pushFixture(fx: Fixture, target: PushTarget, opts: { namespace?: string } = {}): string[] {
  const refs: string[] = [];
  for (const img of fx.images) {
    const repo = opts.namespace ? `${opts.namespace}/${img.name}` : img.name;
    const dest = `docker://${target.host}/${repo}:${img.tag}`;
    const args = ['copy', '--all', '--quiet', '--dest-tls-verify=false'];
    if (target.username) args.push('--dest-creds', `${target.username}:${target.password}`);
    execFileSync('skopeo', [...args, `oci:${fx.dir}:${img.ref}`, dest], { stdio: ['ignore', 'ignore', 'pipe'] });
    refs.push(`${target.host}/${repo}:${img.tag}`);
  }
  return refs;
}

/** `skopeo inspect --raw` of a reference: the exact manifest bytes the registry serves. */
export function inspectRaw(ref: string, creds?: { username: string; password: string }): string {
  const args = ['inspect', '--raw', '--tls-verify=false'];
  if (creds) args.push('--creds', `${creds.username}:${creds.password}`);
  return execFileSync('skopeo', [...args, `docker://${ref}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export { sha256Digest as sha256 };

/** Deterministic pseudo-random bytes (an LCG): test payloads that are the same every run. */
export function seededBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}
