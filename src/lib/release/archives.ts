// Publishing from per-architecture archives (a distribution's `docker save` of each
// architecture, e.g. openEuler-docker.<arch>.tar.xz): each archive fetched (resumed and retried
// over http), verified against its checksum, read as a docker-archive or OCI archive (gzip and xz
// too), its uncompressed layers gzip-compressed once, and the platforms joined into one index.
// No docker daemon.
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../archive/checksums.js';
import { UserError, errorMessage, within } from '../errors.js';
import { header, httpSend, readBody } from '../http.js';
import { ArchiveReader } from '../image/archive-reader.js';
import { compressLayers } from '../image/compress.js';
import { parseManifest, parsePlatform, platformMatches, platformString, type Descriptor, type Manifest, type Platform } from '../image/manifest.js';
import type { ImageSource } from '../image/transport.js';
import { info } from '../log.js';
import { fillPlaceholders } from '../placeholders.js';
import { digestOf, type Digest } from '../registry/digest.js';
import { MEDIA } from '../registry/media-types.js';
import { retry, RetryableError } from '../retry.js';
import type { BuiltImage } from '../docker/build.js';
import { readAll } from '../streams.js';

/** One architecture's archive: where it is and, when given, its sha256. */
export interface ArchiveSpec {
  platform: string;
  location: string;
  sha256?: string;
}

/** How a distribution names an architecture in its paths ({arch}). */
const ARCH_NAMES: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  arm: 'armhf',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
  '386': 'i686',
};

/**
 * `<platform>=<path or URL> [sha256]` lines; URLs and paths may use {version}, {arch} (x86_64,
 * aarch64, … from the platform) and {index} (docker_img, or docker_img/update/<date>).
 */
export function parseArchiveLines(lines: { value: string; line: number }[], vars: { version?: string; updateDate?: string }): ArchiveSpec[] {
  if (vars.updateDate && !/^\d{4}-\d{2}-\d{2}$/.test(vars.updateDate)) throw new UserError(`the update date "${vars.updateDate}" is not a date such as 2023-08-02`);
  const specs: ArchiveSpec[] = [];
  for (const { value: raw, line } of lines) {
    const at = `line ${line}`;
    const m = /^([^=\s]+)=(\S+)(?:\s+(?:sha256:)?([0-9a-fA-F]{64}))?$/.exec(raw.trim());
    if (!m)
      throw new UserError(
        `${at}: "${raw.trim()}" is not <platform>=<path or URL> [sha256] (e.g. linux/arm64=https://repo.example.com/openEuler-{version}/{index}/{arch}/openEuler-docker.{arch}.tar.xz)`,
      );
    const platform = within(at, () => platformString(parsePlatform(m[1].includes('/') ? m[1] : `linux/${m[1]}`)));
    if (specs.some((s) => s.platform === platform)) throw new UserError(`${at}: ${platform} is listed twice`);
    const arch = parsePlatform(platform).architecture;
    const index = vars.updateDate ? `docker_img/update/${vars.updateDate}` : 'docker_img';
    // {index} holds a path by design (ours, from a validated date); the rest stay plain names
    const location = fillPlaceholders(m[2], { version: vars.version, arch: ARCH_NAMES[arch] ?? arch, index }, at, { paths: ['index'] });
    specs.push({ platform, location, sha256: m[3]?.toLowerCase() });
  }
  if (specs.length === 0) throw new UserError('lists no archive');
  return specs;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** The first sha256 in a checksum file's text (`sha256sum` format, or the bare hex). */
function checksumIn(text: string): string | undefined {
  return /\b([0-9a-f]{64})\b/i.exec(text)?.[1]?.toLowerCase();
}

/** GET of a small file; undefined when the server has none (404/410). */
async function fetchSmall(url: string): Promise<string | undefined> {
  return retry(async () => {
    const res = await httpSend({ method: 'GET', url: new URL(url) });
    const body = await readBody(res.body, 64 * 1024);
    if (res.status === 404 || res.status === 410) return undefined;
    if (res.status >= 500 || res.status === 429) throw new RetryableError(`${url}: ${res.status}`);
    if (res.status !== 200) throw new UserError(`${url}: the server answered ${res.status}`);
    return body.toString('utf8');
  });
}

/** Downloads a URL into `file`, resuming from what is there after a cut (Range), retried. */
async function download(url: string, file: string): Promise<void> {
  await retry(
    async () => {
      const have = (await stat(file).catch(() => undefined))?.size ?? 0;
      const res = await httpSend({ method: 'GET', url: new URL(url), headers: have ? { range: `bytes=${have}-` } : {} });
      if (res.status === 416 && have) {
        res.body.resume();
        return; // already whole
      }
      if (res.status !== 200 && res.status !== 206) {
        const text = (await readBody(res.body, 4096).catch(() => Buffer.alloc(0))).toString('utf8').trim().slice(0, 200);
        const err = new UserError(`${url}: the server answered ${res.status}${text ? `: ${text}` : ''}`);
        throw res.status >= 500 || res.status === 429 ? new RetryableError(err.message) : err;
      }
      const append = res.status === 206 && have > 0 && (header(res.headers, 'content-range') ?? '').startsWith(`bytes ${have}-`);
      try {
        await pipeline(res.body, createWriteStream(file, { flags: append ? 'a' : 'w' }));
      } catch (err) {
        // what arrived stays for the next attempt to resume from
        throw new RetryableError(`${url}: cut off (${errorMessage(err)})`, { cause: err });
      }
      const expected = Number(header(res.headers, 'content-length') ?? NaN) + (append ? have : 0);
      const size = (await stat(file)).size;
      if (Number.isFinite(expected) && size !== expected) throw new RetryableError(`${url}: got ${size} bytes of ${expected}`);
    },
    { attempts: 6 },
  );
}

/**
 * The archive as a local file, verified: a URL is downloaded (resumed, retried) into `dir`. The
 * sha256 is the line's, else a sibling `<file>.sha256sum` or `<file>.sha256`; none is an error.
 */
export async function fetchArchive(spec: ArchiveSpec, dir: string): Promise<string> {
  let file = spec.location;
  const siblings = [`${spec.location}.sha256sum`, `${spec.location}.sha256`];
  let expected = spec.sha256;
  if (isUrl(spec.location)) {
    file = join(dir, `${spec.platform.replace(/\//g, '-')}-${basename(new URL(spec.location).pathname) || 'archive'}`);
    info(`${spec.platform}: downloading ${spec.location}`);
    await download(spec.location, file);
    for (const s of siblings) if (!expected) expected = checksumIn((await fetchSmall(s)) ?? '');
  } else {
    if (!(await stat(file).catch(() => undefined))?.isFile()) throw new UserError(`${spec.platform}: ${file} is not a file`);
    for (const s of siblings) if (!expected) expected = checksumIn(await readFile(s, 'utf8').catch(() => ''));
  }
  if (!expected)
    throw new UserError(
      `${spec.platform}: no checksum for ${spec.location}: give its sha256 after the location, or publish ${basename(siblings[0])} or ${basename(siblings[1])} beside it`,
    );
  const got = await sha256File(file);
  if (got !== expected) {
    if (isUrl(spec.location)) await rm(file, { force: true });
    throw new UserError(`${spec.platform}: ${spec.location} has sha256 ${got}, but its checksum says ${expected}: the archive is damaged or not the one published`);
  }
  info(`${spec.platform}: ${basename(isUrl(spec.location) ? new URL(spec.location).pathname : file)} verified (sha256 ${got.slice(0, 12)}…)`);
  return file;
}

/** The platform an image manifest's config declares. */
async function configPlatform(source: ImageSource, image: Manifest): Promise<Platform | undefined> {
  const parsed = parseManifest(image, source.name);
  if (parsed.kind !== 'image') return undefined;
  const cfg = JSON.parse((await readAll(await source.blob(parsed.config))).toString('utf8')) as { os?: string; architecture?: string; variant?: string };
  return cfg.os && cfg.architecture ? { os: cfg.os, architecture: cfg.architecture, ...(cfg.variant ? { variant: cfg.variant } : {}) } : undefined;
}

/**
 * Joins one image per archive into one multi-platform image: each image's uncompressed layers
 * gzip-compressed once (deterministic: the same archive gives the same digests), an OCI index
 * over the platforms in list order.
 */
export async function joinArchives(specs: ArchiveSpec[], dir: string): Promise<BuiltImage> {
  const readers: ArchiveReader[] = [];
  const close = async () => {
    for (const r of readers) await r.close();
  };
  try {
    const parts: { platform: Platform; source: ImageSource; manifest: Manifest }[] = [];
    for (const spec of specs) {
      const file = await fetchArchive(spec, dir);
      const reader = await ArchiveReader.open(file);
      readers.push(reader);
      const images = await reader.images();
      const digests = new Set(await Promise.all(images.map(async (i) => (await i.source.top()).digest)));
      if (digests.size !== 1) throw new UserError(`${spec.platform}: ${spec.location} holds ${digests.size} images; a per-architecture archive holds one`);
      const want = parsePlatform(spec.platform);
      const source = await compressLayers(images[0].source, dir, { platform: spec.platform });
      const manifest = await source.top();
      const declared = await configPlatform(source, manifest);
      if (!declared || !platformMatches(declared, want))
        throw new UserError(`${spec.platform}: ${spec.location} holds an image for ${platformString(declared)}, not ${spec.platform}`);
      parts.push({ platform: declared, source, manifest });
    }
    const entries: Descriptor[] = parts.map((p) => ({ mediaType: p.manifest.mediaType, digest: p.manifest.digest, size: p.manifest.bytes.length, platform: p.platform }));
    const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: entries }));
    const index: Manifest = { digest: digestOf(bytes), mediaType: MEDIA.ociIndex, bytes };
    const owner = new Map<Digest, ImageSource>();
    for (const p of parts) {
      const parsed = parseManifest(p.manifest, p.source.name);
      if (parsed.kind === 'image') for (const d of [parsed.config, ...parsed.layers]) owner.set(d.digest, p.source);
    }
    const source: ImageSource = {
      name: `archives:${specs.map((s) => s.platform).join(',')}`,
      headTop: async () => index.digest,
      top: async () => index,
      manifest: async (d) => {
        const p = parts.find((x) => x.manifest.digest === d.digest);
        if (!p) throw new UserError(`the joined image has no manifest ${d.digest}`);
        return p.manifest;
      },
      blob: async (d, onBytes) => {
        const from = owner.get(d.digest);
        if (!from) throw new UserError(`the joined image has no blob ${d.digest}`);
        return from.blob(d, onBytes);
      },
    };
    return { builder: 'archives', source, platforms: parts.map((p) => platformString(p.platform)), localTags: [], close };
  } catch (err) {
    await close();
    throw err;
  }
}
