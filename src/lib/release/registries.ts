// Where a release image goes: the `image` repository and/or `registries`, an inline list of
// repositories or a registry.yaml naming, per registry, the full repository path and the
// environment variables holding its username and password.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError, within } from '../errors.js';
import { addSecret } from '../log.js';
import { listEntries } from '../list.js';
import type { RegistryAuthEntry } from '../registry/auth.js';
import { formatReference, parseReference, type Reference } from '../registry/reference.js';

export interface Destination {
  /** registry + repository, no tag */
  repository: Reference;
  /** where it was named, for messages */
  where: string;
  credentials?: { username: string; password: string };
  insecure?: boolean;
}

function repo(s: string, where: string): Reference {
  const r = within(where, () => parseReference(s));
  if (r.tag || r.digest) throw new UserError(`${where}: "${s}" names a ${r.digest ? 'digest' : `tag (${r.tag})`}; give the repository only, tags come from tag and tag-rules`);
  return r;
}

const KEYS = ['repository', 'username-env', 'password-env', 'insecure'];

function fromYaml(doc: unknown, where: string, env: NodeJS.ProcessEnv): Destination[] {
  let entries: [string, unknown][];
  if (Array.isArray(doc)) entries = doc.map((e, i) => [`entry ${i + 1}`, e]);
  else if (doc && typeof doc === 'object') {
    const d = doc as Record<string, unknown>;
    if (Array.isArray(d.registries)) return fromYaml(d.registries, where, env);
    entries = Object.entries(d.registries && typeof d.registries === 'object' ? (d.registries as Record<string, unknown>) : d);
  } else throw new UserError(`${where}: expected a list of {repository, username-env, password-env}`);
  return entries.map(([name, v]) => {
    const at = `${where}, ${name}`;
    if (typeof v === 'string') return { repository: repo(v, at), where: at };
    if (!v || typeof v !== 'object') throw new UserError(`${at}: expected {repository, username-env, password-env}`);
    const e = v as Record<string, unknown>;
    const unknown = Object.keys(e).filter((k) => !KEYS.includes(k));
    if (unknown.length) throw new UserError(`${at}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use ${KEYS.join(', ')})`);
    if (typeof e.repository !== 'string' || !e.repository) throw new UserError(`${at}: "repository" (the full repository path, e.g. harbor.example/release/app) is missing`);
    if (e.insecure !== undefined && typeof e.insecure !== 'boolean') throw new UserError(`${at}: insecure must be true or false, not ${JSON.stringify(e.insecure)}`);
    const d: Destination = { repository: repo(e.repository, at), where: at, insecure: e.insecure === true };
    const u = e['username-env'];
    const p = e['password-env'];
    if (u !== undefined || p !== undefined) {
      const read = (key: string, name: unknown): string => {
        if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`${at}: ${key} must name an environment variable`);
        const val = env[name];
        if (val === undefined || val === '') throw new UserError(`${at}: environment variable ${name} (${key}) is not set`);
        return val;
      };
      if (u === undefined || p === undefined) throw new UserError(`${at}: give both username-env and password-env`);
      d.credentials = { username: read('username-env', u), password: read('password-env', p) };
      addSecret(d.credentials.password);
    }
    return d;
  });
}

/**
 * The destinations named by `image` and `registries` (inline list, inline YAML or a registry.yaml
 * path). `from` says where the two values came from (an input's name), for messages; each
 * destination keeps where it was named.
 */
export function loadDestinations(
  image: string,
  registries: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; from?: { image: string; registries: string } } = {},
): Destination[] {
  const env = opts.env ?? process.env;
  const from = opts.from ?? { image: 'image', registries: 'registries' };
  const out: Destination[] = [];
  if (image.trim()) out.push({ repository: repo(image.trim(), from.image), where: from.image });
  const text = registries.trim();
  if (text) {
    const single = !text.includes('\n') ? resolve(opts.cwd ?? process.cwd(), text) : undefined;
    if (single && existsSync(single) && statSync(single).isFile()) {
      let doc: unknown;
      try {
        doc = parseYaml(readFileSync(single, 'utf8'));
      } catch (err) {
        throw new UserError(`${from.registries}: ${text} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
      out.push(...fromYaml(doc, `${from.registries} (${text})`, env));
    } else if (single && /\.ya?ml$/i.test(text)) throw new UserError(`${from.registries}: file ${text} was not found`);
    else if (/^\s*(-\s+)?[\w-]+:\s/m.test(text) && /repository:/.test(text)) {
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (err) {
        throw new UserError(`${from.registries} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      }
      out.push(...fromYaml(doc, from.registries, env));
    } else
      for (const e of listEntries(text)) {
        const where = `${from.registries}, line ${e.line}`;
        out.push({ repository: repo(e.value, where), where });
      }
  }
  if (out.length === 0) throw new UserError(`${from.image} (or ${from.registries}) is required: the repository the release image is tagged and pushed as`);
  const seen = new Set<string>();
  const creds = new Map<string, Destination>();
  for (const d of out) {
    const key = formatReference(d.repository);
    if (seen.has(key)) throw new UserError(`${d.where}: ${key} is named twice`);
    seen.add(key);
    const other = d.credentials && creds.get(d.repository.registry);
    if (other && (other.credentials!.username !== d.credentials!.username || other.credentials!.password !== d.credentials!.password))
      throw new UserError(`${d.where}: registry ${d.repository.registry} already has other credentials (${other.where}); one registry, one set of credentials`);
    if (d.credentials) creds.set(d.repository.registry, d);
  }
  return out;
}

/** Credentials the destinations carry, as registry-auth entries. */
export function destinationAuth(dests: Destination[]): RegistryAuthEntry[] {
  return dests.filter((d) => d.credentials).map((d) => ({ registry: d.repository.registry, credentials: d.credentials! }));
}
