// Image references: parsed, normalised (docker.io/library/…), validated with the reason.
import { UserError } from '../errors.js';
import { isDigest, type Digest } from './digest.js';

export interface Reference {
  /** registry host[:port], e.g. docker.io, 127.0.0.1:5000 */
  registry: string;
  /** repository path, e.g. library/alpine, release/app */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
/** One component of a repository path, and a tag, as the distribution spec allows them. */
export const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

export class ReferenceError extends UserError {}

/** Whether the first path component names a registry (docker's rule: a dot, a port, or localhost). */
export function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

export function normaliseRegistry(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/**
 * Parses `[registry/]repository[:tag][@digest]`. A reference without a registry gets
 * `defaultRegistry` (docker.io unless given); single-name docker.io repositories get `library/`.
 */
export function parseReference(input: string, opts: { defaultRegistry?: string } = {}): Reference {
  const s = input.trim();
  const fail = (why: string): never => {
    throw new ReferenceError(`"${s}" is not a valid image reference (${why})`);
  };
  if (!s) fail('it is empty');
  if (/\s/.test(s)) fail('it contains white space');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) fail(`"${digest}" is not a digest: use sha256: and 64 lower-case hex characters`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a valid tag: letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"`);
  }
  const parts = rest.split('/');
  let registry: string;
  if (parts.length > 1 && looksLikeRegistry(parts[0])) {
    registry = normaliseRegistry(parts.shift()!);
    if (!HOST.test(registry)) fail(`"${registry}" is not a valid registry host`);
  } else registry = opts.defaultRegistry ? normaliseRegistry(opts.defaultRegistry) : DOCKER_HUB;
  if (parts.length === 0 || parts.some((p) => p === '')) fail('the repository path is empty or has an empty component');
  for (const p of parts) {
    if (COMPONENT.test(p)) continue;
    if (COMPONENT.test(p.toLowerCase())) fail('repository names are lower-case');
    fail(`"${p}" is not a valid repository component: lower-case letters, digits and single ".", "_", "__" or "-" separators`);
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) fail('the repository name is longer than 255 characters');
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `app` is `app:latest`: a reference with neither tag nor digest gets the tag docker would use. */
export function withDefaultTag(r: Reference): Reference {
  return r.tag || r.digest ? r : { ...r, tag: 'latest' };
}

/** References in their order, each image once (`app` and `app:latest` being one). */
export function uniqueReferences(refs: Reference[]): Reference[] {
  return [...new Map(refs.map((r) => [formatReference(withDefaultTag(r)), r])).values()];
}

export function formatReference(r: Reference): string {
  return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The tag or digest the registry API addresses (a digest wins over a tag). */
export function referenceTarget(r: Reference): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** `registry/repository` */
export function repositoryName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

/** The host the registry API is served from (Docker Hub's API lives elsewhere). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0];
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Validates registry host[:port] entries (insecure registries, mirrors); names the entry on error. */
export function registryHosts(list: string[]): string[] {
  return list.map((h) => {
    if (/^[a-z]+:\/\//i.test(h)) throw new UserError(`"${h}": give host[:port] without a scheme (e.g. ${h.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')})`);
    if (!HOST.test(h)) throw new UserError(`"${h}" is not a registry host[:port]`);
    return normaliseRegistry(h);
  });
}
