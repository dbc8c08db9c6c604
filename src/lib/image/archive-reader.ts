// Reads docker-archive and oci-archive files (and gzip- or xz-compressed ones) as image
// sources, without a daemon: ours and current `docker save` output (an OCI layout with
// index.json), and legacy `docker save` archives (manifest.json only), for which an OCI
// manifest is made from the config and layer files (uncompressed layers keep their diff_id
// as digest; nothing is recompressed).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { spawn } from 'node:child_process';
import { DirIndex } from '../archive/dir-index.js';
import { StreamIndex } from '../archive/stream-index.js';
import { TarIndex, type ArchiveIndex, type TarRegion } from '../archive/tar-index.js';
import { tap } from '../streams.js';
import { UserError } from '../errors.js';
import { packageFor } from '../exec.js';
import { DigestVerifier, digestOf, type Digest } from '../registry/digest.js';
import { NotFoundError } from '../registry/errors.js';
import { MEDIA } from '../registry/media-types.js';
import { IMAGE_NAME } from './archive-writer.js';
import { detectMediaType, type Descriptor, type Manifest } from './manifest.js';
import { REF_NAME } from './oci-layout.js';
import type { ImageSource } from './transport.js';
import type { CheckableSource } from './archive-check.js';
import { readAll } from '../streams.js';

export interface ArchivedImage {
  /** registry/repo:tag as recorded in the archive, when it records one */
  name?: string;
  /** the tag, when that is all the archive records (an OCI ref.name without a repository) */
  tag?: string;
  /** read as any source, and checked whole before a push (checkArchivedImages) */
  source: ImageSource & CheckableSource;
}

/** Where a (possibly compressed) tar's bytes are: a whole file, or an entry inside an outer tar. */
interface TarBytes {
  file: string;
  /** how messages name it */
  what: string;
  region?: TarRegion;
}

function rawStream(src: TarBytes): Readable {
  if (!src.region) return createReadStream(src.file, { highWaterMark: 1024 * 1024 });
  if (src.region.size === 0) return Readable.from([]);
  return createReadStream(src.file, { start: src.region.start, end: src.region.start + src.region.size - 1, highWaterMark: 1024 * 1024 });
}

async function magic(src: TarBytes): Promise<Buffer> {
  const fh = await open(src.file, 'r');
  try {
    const b = Buffer.alloc(Math.min(6, src.region?.size ?? 6));
    const { bytesRead } = await fh.read(b, 0, b.length, src.region?.start ?? 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

type Compression = 'gzip' | 'xz' | undefined;

function compressionOf(m: Buffer): Compression {
  if (m[0] === 0x1f && m[1] === 0x8b) return 'gzip';
  if (m.length >= 6 && m.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return undefined;
}

/** The decompressed bytes of `input`; a failure to decompress ends the stream with an error naming `what`. */
function decompress(kind: 'gzip' | 'xz', input: Readable, what: string): Readable {
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  const fail = (err: Error) => out.destroy(err instanceof UserError ? err : new UserError(`${what}: could not decompress it (${err.message})`));
  input.on('error', fail);
  if (kind === 'gzip') {
    const gunzip = createGunzip();
    gunzip.on('error', fail);
    out.on('close', () => {
      input.destroy();
      gunzip.destroy();
    });
    input.pipe(gunzip).pipe(out);
    return out;
  }
  const child = spawn('xz', ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.on('error', (err: NodeJS.ErrnoException) =>
    fail(err.code === 'ENOENT' ? new UserError(`${what} is xz-compressed and "xz" was not found (apt-get install ${packageFor('xz')})`) : err),
  );
  child.stdin.on('error', () => undefined); // xz stopping early breaks the pipe into it: its exit status tells why
  input.pipe(child.stdin);
  // the end of xz's output counts only once its exit status says the input was whole
  let ended = false;
  let code: number | null | undefined;
  const settle = () => {
    if (!ended || code === undefined) return;
    if (code === 0) out.end();
    else fail(new UserError(`${what}: xz could not decompress it: ${stderr.trim().slice(0, 300) || `exit status ${code}`}`));
  };
  child.stdout.on('end', () => ((ended = true), settle()));
  child.on('close', (c) => ((code = c), settle()));
  child.stdout.pipe(out, { end: false });
  out.on('close', () => {
    input.destroy();
    if (child.exitCode === null) child.kill();
  });
  return out;
}

/**
 * Indexes a tar where it lies; gzip or xz input is read as a stream (indexed in one pass, entries
 * served by later passes), never unpacked to disk. A tar nested in a bundle is read in place.
 */
async function indexTar(src: TarBytes): Promise<ArchiveIndex> {
  const kind = compressionOf(await magic(src));
  if (!kind) return TarIndex.open(src.file, src.what, src.region);
  return StreamIndex.open(() => decompress(kind, rawStream(src), src.what), src.what);
}

/** An image inside an archive: blobs are tar entries, by digest or by the paths recorded. */
interface Trust {
  verified: boolean;
  /** when set, only these tar entries were covered by the checksum list */
  entries?: Set<string>;
  /** blobs read whole and found right before the push (checkArchivedImages) */
  checked?: Set<Digest>;
}

class ArchiveImageSource implements ImageSource, CheckableSource {
  constructor(
    readonly name: string,
    private readonly tar: ArchiveIndex,
    private readonly topDesc: Descriptor,
    /** digest → entry path, for archives that do not store blobs by digest */
    private readonly paths = new Map<Digest, string>(),
    /** manifests made up for legacy archives */
    private readonly made = new Map<Digest, Manifest>(),
    /** set once the whole archive was verified against its checksum list */
    private readonly trust: Trust = { verified: false },
  ) {}
  /** a layout stored under a directory of the tar (a bundle's images/oci/) */
  prefix = '';
  private path(d: Digest): string {
    return this.paths.get(d) ?? `${this.prefix}blobs/${d.replace(':', '/')}`;
  }
  async headTop() {
    return this.topDesc.digest;
  }
  top() {
    return this.manifest(this.topDesc);
  }
  async manifest(desc: Descriptor): Promise<Manifest> {
    const made = this.made.get(desc.digest);
    if (made) return made;
    const bytes = await readAll(await this.blob(desc));
    // manifests are always checked, trusted archive or not: a tag is pushed by name, and no
    // registry would notice bytes that are not what the index says
    if (digestOf(bytes) !== desc.digest) throw new UserError(`${this.name}: manifest ${desc.digest} does not match its digest (got ${digestOf(bytes)})`);
    return { digest: desc.digest, mediaType: detectMediaType(bytes, desc.mediaType), bytes };
  }
  /** Whether the archive holds the blob (an export may leave other platforms' blobs out). */
  hasBlob(digest: Digest): boolean {
    return this.tar.get(this.path(digest)) !== undefined;
  }
  entrySize(digest: Digest): number | undefined {
    const e = this.tar.get(this.path(digest));
    return e?.type === 'file' ? e.size : undefined;
  }
  rawBlob(digest: Digest): Readable {
    return this.tar.stream(this.path(digest));
  }
  position(digest: Digest): number {
    return this.tar.get(this.path(digest))?.offset ?? 0;
  }
  markChecked(digest: Digest): void {
    (this.trust.checked ??= new Set()).add(digest);
  }
  async blob(desc: Descriptor, onBytes?: (n: number) => void): Promise<Readable> {
    const path = this.path(desc.digest);
    const entry = this.tar.get(path);
    if (!entry) throw new NotFoundError(`${this.name}: ${path} (blob ${desc.digest})`);
    if (this.trust.checked?.has(desc.digest) || (this.trust.verified && /layer/.test(desc.mediaType) && (!this.trust.entries || this.trust.entries.has(path)))) {
      // A layer in an archive whose bytes all matched its checksum list (and whose blobs were
      // verified when packed); the registry checks the digest again on upload: no third hash.
      // Manifests and configs stay verified here.
      if (entry.size !== desc.size) throw new UserError(`${this.name}: ${path} holds ${entry.size} bytes, its descriptor says ${desc.size}`);
      const s = this.tar.stream(path);
      return onBytes ? s.pipe(tap((c) => onBytes(c.length))) : s;
    }
    const v = new DigestVerifier(desc.digest, desc.size, `${this.name}: ${path}`, onBytes);
    const s = this.tar.stream(path);
    s.on('error', (err) => v.destroy(err));
    return s.pipe(v);
  }
}

async function sha256Of(stream: Readable): Promise<{ digest: Digest; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of stream) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { digest: `sha256:${h.digest('hex')}`, size };
}

export class ArchiveReader {
  private readonly nestedReaders: ArchiveReader[] = [];
  private constructor(
    readonly file: string,
    private readonly tar: ArchiveIndex,
    private readonly prefix = '',
    private readonly trust: Trust = { verified: false },
  ) {}

  /**
   * The whole archive was verified against its checksums (a .sha256 sidecar, or a bundle's
   * SHA256SUMS): blobs are then streamed without hashing them again, sizes still checked.
   */
  markVerified(entries?: Set<string>): void {
    this.trust.verified = true;
    if (entries) this.trust.entries = entries;
  }

  /** The bundle entries SHA256SUMS covered (after verifyBundle). */
  listedEntries?: Set<string>;

  /** A bundle (ours) carries SHA256SUMS and manifest.json at its root or one directory down. */
  bundleRoot(): string | undefined {
    for (const name of this.tar.entries.keys()) {
      const m = /^(?:([^/]+)\/)?SHA256SUMS$/.exec(name);
      if (m && this.tar.has(`${m[1] ? `${m[1]}/` : ''}manifest.json`)) return m[1] ? `${m[1]}/` : '';
    }
    return undefined;
  }

  /** Checks every file SHA256SUMS lists, before anything is read for real; names the first mismatch. */
  async verifyBundle(root: string): Promise<number> {
    const { parseSha256Sums } = await import('../archive/checksums.js');
    const list = parseSha256Sums((await this.tar.read(`${root}SHA256SUMS`)).toString('utf8'), `${this.file}: ${root}SHA256SUMS`);
    this.listedEntries = new Set(list.map((e) => `${root}${e.file}`));
    for (const e of list) {
      const name = `${root}${e.file}`;
      if (!this.tar.get(name)) throw new UserError(`${this.file}: ${e.file} is listed in SHA256SUMS but missing from the bundle`);
      const actual = createHash('sha256');
      for await (const c of this.tar.stream(name)) actual.update(c as Buffer);
      const hex = actual.digest('hex');
      if (hex !== e.sha256)
        throw new UserError(`${this.file}: checksum mismatch: ${e.file} has sha256 ${hex}, SHA256SUMS says ${e.sha256}; the bundle was changed or damaged, nothing was imported`);
    }
    return list.length;
  }

  /**
   * The images of a bundle: its image archives (and OCI layout), read in place or unpacked.
   * After verifyBundle, only what SHA256SUMS lists is read: an archive slipped into a bundle
   * is refused, not pushed.
   */
  async bundleImages(root: string): Promise<ArchivedImage[]> {
    const out: ArchivedImage[] = [];
    const listed = (name: string) => {
      if (this.listedEntries && !this.listedEntries.has(name))
        throw new UserError(`${this.file}: ${name.slice(root.length)} is in the bundle but not listed in ${root}SHA256SUMS; the bundle was changed, nothing was imported`);
    };
    if (this.tar.has(`${root}images/oci/index.json`)) {
      listed(`${root}images/oci/index.json`);
      const layout = new ArchiveReader(this.file, this.tar, `${root}images/oci/`, this.trust);
      out.push(...(await layout.images()));
    }
    const isImageArchive = (n: string) =>
      n.startsWith(root) && (/^images\/[^/]+\.tar(\.gz|\.xz)?$/.test(n.slice(root.length)) || /^[^/]+-image\.tar(\.gz)?$/.test(n.slice(root.length)));
    const archives = [...this.tar.entries.keys()].filter(isImageArchive).sort();
    archives.forEach(listed);
    for (const name of archives) {
      // read where it lies in the bundle (only a compressed one is unpacked to a temporary file)
      const nested = await this.openEntry(name);
      // SHA256SUMS covered the nested archive as a whole: only then are its layers trusted
      if (this.trust.verified && (!this.trust.entries || this.trust.entries.has(name))) nested.markVerified();
      this.nestedReaders.push(nested);
      out.push(...(await nested.images()));
    }
    if (out.length === 0) throw new UserError(`${this.file}: the bundle holds no images`);
    return out;
  }

  static open(file: string): Promise<ArchiveReader> {
    return ArchiveReader.openBytes({ file, what: file });
  }

  /** A directory: an OCI layout (pack-offline --format oci) or a bundle unpacked at the site. */
  static async openDir(dir: string): Promise<ArchiveReader> {
    return new ArchiveReader(dir, await DirIndex.open(dir));
  }

  /** Whether the archive is itself an OCI layout (index.json at its root). */
  isLayout(): boolean {
    return this.tar.has(`${this.prefix}index.json`);
  }

  private static async openBytes(src: TarBytes): Promise<ArchiveReader> {
    return new ArchiveReader(src.what, await indexTar(src));
  }

  /** An archive held as an entry of this one: read in place, or through this one's stream. */
  private async openEntry(name: string): Promise<ArchiveReader> {
    const what = `${this.file}: ${name}`;
    if (!(this.tar instanceof StreamIndex)) return ArchiveReader.openBytes({ ...this.tar.bytesOf(name), what });
    const kind = compressionOf(await this.tar.head(name, 6));
    const tar = this.tar;
    return new ArchiveReader(what, await StreamIndex.open(() => (kind ? decompress(kind, tar.stream(name), what) : tar.stream(name)), what));
  }

  async close(): Promise<void> {
    for (const n of this.nestedReaders) await n.close();
  }

  /** A JSON file of the archive, a damaged one named as such (not "Unexpected end of JSON input"). */
  private async json<T>(name: string, what: string): Promise<T> {
    const text = (await this.tar.read(name)).toString('utf8');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new UserError(
        `${this.file}: ${name} (the ${what}) is not valid JSON${text.trim() === '' ? ': it is empty' : ` (${(err as Error).message})`}; the archive is damaged or was cut short`,
      );
    }
  }

  async images(): Promise<ArchivedImage[]> {
    if (this.tar.has(`${this.prefix}index.json`)) {
      const index = await this.json<{ manifests?: Descriptor[] }>(`${this.prefix}index.json`, 'OCI index');
      if (!index || typeof index !== 'object' || (index.manifests !== undefined && !Array.isArray(index.manifests)))
        throw new UserError(`${this.file}: ${this.prefix}index.json is not an OCI index (no manifests list); the archive is damaged or not an image archive`);
      const entries = index.manifests ?? [];
      if (entries.length) {
        // docker save writes one entry per tag, possibly the same digest under several names; an
        // entry naming only a tag whose image another entry names in full is that entry
        const named = new Set(entries.filter((d) => d.annotations?.[IMAGE_NAME] || /[/:@]/.test(d.annotations?.[REF_NAME] ?? '')).map((d) => d.digest));
        const kept = entries.filter((d) => (named.has(d.digest) ? d.annotations?.[IMAGE_NAME] || /[/:@]/.test(d.annotations?.[REF_NAME] ?? '') : true));
        return kept.map((d) => {
          // ref.name may be a full reference or, as skopeo and buildah write it, only a tag
          const ref = d.annotations?.[REF_NAME];
          const tagOnly = ref !== undefined && !/[/:@]/.test(ref);
          const name = d.annotations?.[IMAGE_NAME] ?? (tagOnly ? undefined : ref);
          const source = new ArchiveImageSource(`${this.file}${name ? `:${name}` : ''}`, this.tar, d, undefined, undefined, this.trust);
          source.prefix = this.prefix;
          return { name, source, ...(tagOnly && !name ? { tag: ref } : {}) };
        });
      }
    }
    if (this.tar.has('manifest.json')) return this.legacyImages();
    throw new UserError(`${this.file} is neither an OCI archive (no index.json) nor a docker archive (no manifest.json)`);
  }

  private async legacyImages(): Promise<ArchivedImage[]> {
    const entries = await this.json<{ Config: string; RepoTags?: string[] | null; Layers: string[] }[]>('manifest.json', 'docker-archive manifest');
    if (!Array.isArray(entries) || entries.some((e) => typeof e?.Config !== 'string' || !Array.isArray(e.Layers)))
      throw new UserError(`${this.file}: manifest.json is not a docker-archive manifest (a list of Config, RepoTags, Layers); the archive is damaged or not an image archive`);
    const out: ArchivedImage[] = [];
    for (const e of entries) {
      const paths = new Map<Digest, string>();
      const configBytes = await this.tar.read(e.Config);
      let config: { rootfs?: { diff_ids?: string[] } };
      try {
        config = JSON.parse(configBytes.toString('utf8')) as typeof config;
      } catch (err) {
        throw new UserError(`${this.file}: ${e.Config} (an image config) is not valid JSON (${(err as Error).message}); the archive is damaged`);
      }
      const configDesc: Descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(configBytes), size: configBytes.length };
      paths.set(configDesc.digest, e.Config);
      const layers: Descriptor[] = [];
      for (const [i, path] of e.Layers.entries()) {
        const info = this.tar.get(path);
        if (!info) throw new UserError(`${this.file}: manifest.json names layer ${path}, which is not in the archive`);
        const head = await this.tar.head(path, 6);
        const gz = head[0] === 0x1f && head[1] === 0x8b;
        const diffId = config.rootfs?.diff_ids?.[i];
        let digest: Digest;
        if (!gz && diffId) digest = diffId;
        else digest = (await sha256Of(this.tar.stream(path))).digest;
        layers.push({ mediaType: gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', digest, size: info.size });
        paths.set(digest, path);
      }
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: configDesc, layers }));
      const m: Manifest = { digest: digestOf(bytes), mediaType: MEDIA.ociManifest, bytes };
      const made = new Map([[m.digest, m]]);
      const tags = e.RepoTags?.length ? e.RepoTags : [undefined];
      for (const name of tags)
        out.push({
          name,
          source: new ArchiveImageSource(
            `${this.file}${name ? `:${name}` : ''}`,
            this.tar,
            { mediaType: m.mediaType, digest: m.digest, size: bytes.length },
            paths,
            made,
            this.trust,
          ),
        });
    }
    return out;
  }
}
