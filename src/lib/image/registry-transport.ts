// The docker:// transport: a repository in a registry, through the registry client.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import { referenceTarget, formatReference, type Reference } from '../registry/reference.js';
import { detectMediaType, type Descriptor, type Manifest } from './manifest.js';
import type { ImageSource, ImageTarget } from './transport.js';

export class RegistrySource implements ImageSource {
  readonly name: string;
  readonly location;
  constructor(
    private readonly client: RegistryClient,
    private readonly ref: Reference,
  ) {
    this.name = formatReference(ref);
    this.location = { registry: ref.registry, repository: ref.repository };
  }
  async headTop() {
    if (this.ref.digest) return this.ref.digest;
    return (await this.client.headManifest(this.ref.repository, referenceTarget(this.ref)))?.digest;
  }
  async top(): Promise<Manifest> {
    const m = await this.client.getManifest(this.ref.repository, referenceTarget(this.ref));
    return { digest: m.digest, mediaType: detectMediaType(m.bytes, m.mediaType), bytes: m.bytes };
  }
  async manifest(desc: Descriptor): Promise<Manifest> {
    const m = await this.client.getManifest(this.ref.repository, desc.digest);
    return { digest: m.digest, mediaType: detectMediaType(m.bytes, m.mediaType || desc.mediaType), bytes: m.bytes };
  }
  blob(desc: Descriptor, onBytes?: (n: number) => void): Promise<Readable> {
    return this.client.getBlob(this.ref.repository, desc.digest, desc.size, onBytes);
  }
}

export class RegistryTarget implements ImageTarget {
  readonly name: string;
  readonly store: string;
  readonly location;
  /** what the top manifest is pushed under: the tag when there is one (repo:tag@digest gets its tag), else the digest */
  private readonly at: string;
  constructor(
    private readonly client: RegistryClient,
    private readonly ref: Reference,
  ) {
    this.name = formatReference(ref);
    this.store = `docker://${ref.registry}`;
    this.location = { registry: ref.registry, repository: ref.repository };
    this.at = ref.tag ?? referenceTarget(ref);
  }
  async headTop() {
    return (await this.client.headManifest(this.ref.repository, this.at))?.digest;
  }
  async hasBlob(desc: Descriptor) {
    return (await this.client.headBlob(this.ref.repository, desc.digest)) !== undefined;
  }
  mountBlob(desc: Descriptor, from: string) {
    return this.client.mountBlob(this.ref.repository, desc.digest, from);
  }
  putBlob(desc: Descriptor, body: Readable, reopen?: () => Promise<Readable>) {
    return this.client.uploadBlob(this.ref.repository, desc.digest, desc.size, body, reopen);
  }
  async putManifest(m: Manifest, top: boolean) {
    if (top && this.at.startsWith('sha256:') && this.at !== m.digest)
      throw new UserError(`${formatReference(this.ref)}: pinned by digest, but what would be pushed is ${m.digest} (a platform filter writes a new index); give the target a tag`);
    const stored = await this.client.putManifest(this.ref.repository, top ? this.at : m.digest, m.bytes, m.mediaType);
    if (stored && stored !== m.digest) throw new UserError(`${formatReference(this.ref)}: the registry stored the manifest as ${stored}, expected ${m.digest}`);
  }
}
