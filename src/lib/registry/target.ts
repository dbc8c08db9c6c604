// Where a source image goes under a target prefix ("registry/namespace"): the prefix parsed and
// checked, then the source's repository path (optionally with a leading part stripped) put under it.
import { UserError } from '../errors.js';
import { COMPONENT, looksLikeRegistry, normaliseRegistry, type Reference } from './reference.js';

/** A target prefix, `registry[/namespace]`; a user error says what is wrong with it. */
export function parseTargetPrefix(p: string): { registry: string; namespace: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p.trim()) && !/^docker:\/\//.test(p.trim()))
    throw new UserError(
      `"${p}" is a URL; write the registry and namespace without a scheme (e.g. registry.example.com/namespace; plain-http registries go in insecure-registries)`,
    );
  const clean = p
    .trim()
    .replace(/^docker:\/\//, '')
    .replace(/\/+$/, '');
  const [first, ...rest] = clean.split('/');
  if (!first || !looksLikeRegistry(first)) throw new UserError(`"${p}" must start with a registry host (e.g. registry.example.com/namespace)`);
  for (const c of rest)
    if (!COMPONENT.test(c)) throw new UserError(`"${p}": "${c}" is not a valid repository component${/[A-Z]/.test(c) ? ' (repository names are lower-case)' : ''}`);
  return { registry: normaliseRegistry(first), namespace: rest.join('/') };
}

export function mapTarget(source: Reference, prefix: { registry: string; namespace: string }, stripPrefix: string | undefined, where: string, tag?: string): Reference {
  const full = `${source.registry}/${source.repository}`;
  let path = source.repository;
  if (stripPrefix) {
    const sp = stripPrefix.replace(/\/+$/, '');
    if (full.startsWith(`${sp}/`)) path = full.slice(sp.length + 1);
    else if (source.repository.startsWith(`${sp}/`)) path = source.repository.slice(sp.length + 1);
    else if (full === sp || source.repository === sp) throw new UserError(`${where}: strip-prefix "${stripPrefix}" is the whole of ${full}, leaving no repository name`);
    else throw new UserError(`${where}: ${full} does not start with strip-prefix "${stripPrefix}"`);
  }
  const repository = prefix.namespace ? `${prefix.namespace}/${path}` : path;
  return { registry: prefix.registry, repository, ...((tag ?? source.tag) ? { tag: tag ?? source.tag } : {}), ...(!tag && source.digest ? { digest: source.digest } : {}) };
}
