// Transports: where images are read from and written to. `docker://` (a registry) and
// `oci:<dir>[:tag]` (an OCI image layout); archive transports plug into the same interfaces.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { Digest } from '../registry/digest.js';
import { parseReference, type Reference } from '../registry/reference.js';
import type { Descriptor, Manifest } from './manifest.js';

/** Where a blob lives, for cross-repository mounts within one registry. */
export interface BlobLocation {
  registry: string;
  repository: string;
}

export interface ImageSource {
  readonly name: string;
  readonly location?: BlobLocation;
  /** The top manifest's digest without fetching it, when the transport can (registry HEAD). */
  headTop(): Promise<Digest | undefined>;
  top(): Promise<Manifest>;
  manifest(desc: Descriptor): Promise<Manifest>;
  /** A stream that errors (before it ends) unless the bytes match the descriptor. */
  blob(desc: Descriptor, onBytes?: (n: number) => void): Promise<Readable>;
}

export interface ImageTarget {
  readonly name: string;
  /** Blobs are shared per store: a registry host, or an OCI layout directory. */
  readonly store: string;
  readonly location?: BlobLocation;
  /** The digest of what the target's tag holds now (undefined: nothing), as cheaply as the transport can: the same question as ImageSource.headTop. */
  headTop(): Promise<Digest | undefined>;
  hasBlob(desc: Descriptor): Promise<boolean>;
  mountBlob?(desc: Descriptor, fromRepository: string): Promise<boolean>;
  /** `reopen` gives a fresh stream of the same bytes, for a target that must start over. */
  putBlob(desc: Descriptor, body: Readable, reopen?: () => Promise<Readable>): Promise<void>;
  /** Children by digest; the top one (`top: true`) also under the target's tag. */
  putManifest(m: Manifest, top: boolean): Promise<void>;
}

export type ImageRef = { transport: 'docker'; ref: Reference } | { transport: 'oci'; dir: string; tag?: string };

/** `docker://ref`, a bare reference, or `oci:<dir>[:tag]`. */
export function parseImageRef(s: string, opts: { defaultRegistry?: string } = {}): ImageRef {
  if (s.startsWith('oci:')) {
    const rest = s.slice(4);
    const colon = rest.lastIndexOf(':');
    const slash = rest.lastIndexOf('/');
    if (colon > slash && colon > 0) return { transport: 'oci', dir: rest.slice(0, colon), tag: rest.slice(colon + 1) };
    if (!rest) throw new UserError(`"${s}": an oci: reference needs a directory (oci:<dir>[:tag])`);
    return { transport: 'oci', dir: rest };
  }
  if (/^[a-z][a-z0-9+-]*:\/\//.test(s) && !s.startsWith('docker://')) throw new UserError(`"${s}": unknown transport (use docker://<ref> or oci:<dir>[:tag])`);
  return { transport: 'docker', ref: parseReference(s.replace(/^docker:\/\//, ''), opts) };
}
