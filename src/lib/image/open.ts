// Opens sources and targets from image references, sharing one registry client (and so one
// connection pool and token cache) per registry.
import { RegistryClient, type ClientOptions } from '../registry/client.js';
import { OciLayoutSource, OciLayoutTarget } from './oci-layout.js';
import { RegistrySource, RegistryTarget } from './registry-transport.js';
import type { Reference } from '../registry/reference.js';
import type { ImageRef, ImageSource, ImageTarget } from './transport.js';

export class RegistryPool {
  private readonly clients = new Map<string, RegistryClient>();
  constructor(private readonly opts: ClientOptions = {}) {}
  client(registry: string): RegistryClient {
    let c = this.clients.get(registry);
    if (!c) this.clients.set(registry, (c = new RegistryClient(registry, this.opts)));
    return c;
  }
  registries(): string[] {
    return [...this.clients.keys()];
  }
}

export function openSource(ref: ImageRef, pool: RegistryPool): ImageSource {
  return ref.transport === 'docker' ? new RegistrySource(pool.client(ref.ref.registry), ref.ref) : new OciLayoutSource(ref.dir, ref.tag);
}

export function openTarget(ref: ImageRef, pool: RegistryPool): ImageTarget {
  return ref.transport === 'docker' ? new RegistryTarget(pool.client(ref.ref.registry), ref.ref) : new OciLayoutTarget(ref.dir, ref.tag);
}

/** Opens images named by registry references: a run's one way to reach them (registries, or a test's stores). */
export interface ImageOpener {
  source(ref: Reference): ImageSource;
  target(ref: Reference): ImageTarget;
}

/** Images in registries, one client per registry from the pool. */
export function registryOpener(pool: RegistryPool): ImageOpener {
  return {
    source: (ref) => openSource({ transport: 'docker', ref }, pool),
    target: (ref) => openTarget({ transport: 'docker', ref }, pool),
  };
}
