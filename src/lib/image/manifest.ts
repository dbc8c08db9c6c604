// The image model shared by every transport: manifests kept as exact bytes, parsed for the
// descriptors they reference; platforms matched and filtered.
import { UserError } from '../errors.js';
import { digestOf, type Digest } from '../registry/digest.js';
import { isIndexType, isManifestType, MEDIA } from '../registry/media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

/** A manifest as bytes plus what we parsed from them; the bytes are what gets copied. */
export interface Manifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface ParsedIndex {
  kind: 'index';
  manifests: Descriptor[];
}
export interface ParsedImage {
  kind: 'image';
  config: Descriptor;
  layers: Descriptor[];
}

/** Reads the media type from the body when the transport did not say (OCI layouts, loose registries). */
export function detectMediaType(bytes: Buffer, announced?: string): string {
  const a = announced?.split(';')[0].trim();
  if (a && (isIndexType(a) || isManifestType(a) || a === MEDIA.dockerSchema1)) return a;
  const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown; schemaVersion?: number };
  if (j.mediaType) return j.mediaType;
  if (j.schemaVersion === 1) return MEDIA.dockerSchema1;
  if (j.manifests) return MEDIA.ociIndex;
  if (j.layers) return MEDIA.ociManifest;
  return a ?? '';
}

export function parseManifest(m: Manifest, what: string): ParsedIndex | ParsedImage {
  if (m.mediaType === MEDIA.dockerSchema1 || m.mediaType.startsWith('application/vnd.docker.distribution.manifest.v1'))
    throw new UserError(`${what} is a Docker schema 1 manifest, which is deprecated and not supported; rebuild or re-push it with a current Docker`);
  let j: { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
  try {
    j = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    throw new UserError(`${what}: the manifest is not JSON`);
  }
  if (isIndexType(m.mediaType)) return { kind: 'index', manifests: j.manifests ?? [] };
  if (isManifestType(m.mediaType)) {
    if (!j.config) throw new UserError(`${what}: image manifest without a config`);
    return { kind: 'image', config: j.config, layers: j.layers ?? [] };
  }
  throw new UserError(`${what}: unsupported manifest media type "${m.mediaType}"`);
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };

/** Parses `os/arch[/variant]` (`linux/arm64`, `linux/arm/v7`); aliases such as x86_64 are normalised. */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p)))
    throw new UserError(`"${s}" is not a platform (use os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7)`);
  const [os, arch, variant] = parts;
  const architecture = ARCH_ALIASES[arch] ?? arch;
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** Whether `have` satisfies `want`; a want without variant matches every variant (arm64 ≡ arm64/v8). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || (ARCH_ALIASES[have.architecture] ?? have.architecture) !== want.architecture) return false;
  if (!want.variant) return true;
  const hv = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return hv === want.variant;
}

/**
 * Keeps only the index entries matching one of `platforms`, writing a new index (other fields
 * and entries' annotations kept). Its digest differs from the source's.
 */
export function filterIndex(index: Manifest, platforms: Platform[]): { manifest: Manifest; kept: Descriptor[] } {
  const j = JSON.parse(index.bytes.toString('utf8')) as { manifests: Descriptor[] } & Record<string, unknown>;
  const kept = j.manifests.filter((d) => platforms.some((p) => platformMatches(d.platform, p)));
  const bytes = Buffer.from(JSON.stringify({ ...j, manifests: kept }));
  return { manifest: { digest: digestOf(bytes), mediaType: index.mediaType, bytes }, kept };
}
