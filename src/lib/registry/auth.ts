// Registry credentials and auth challenges: credentials from inputs, from
// $DOCKER_CONFIG/config.json (auths, credHelpers, credsStore); WWW-Authenticate parsing.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { exec } from '../exec.js';
import { addSecret } from '../log.js';
import { DOCKER_HUB, normaliseRegistry } from './reference.js';

export interface Credentials {
  username?: string;
  password?: string;
  /** an OAuth2 refresh token (docker config `identitytoken`) */
  identityToken?: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` (several allowed). */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  const re = /([A-Za-z][A-Za-z0-9_-]*)(?:\s+|$)((?:[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^\s,"]*)\s*,?\s*)*)/g;
  for (const m of header.matchAll(re)) {
    const params: Record<string, string> = {};
    for (const p of m[2].matchAll(/([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g))
      params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    out.push({ scheme: m[1].toLowerCase(), params });
  }
  return out;
}

/** A config.json `auths` key for a registry can be a host, a URL, or Docker Hub's legacy URL. */
function configKeyMatches(key: string, registry: string): boolean {
  let host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  host = normaliseRegistry(host);
  return host === registry || (registry === DOCKER_HUB && key.includes('index.docker.io'));
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

/** Credentials from $DOCKER_CONFIG/config.json (or ~/.docker/config.json). */
export function dockerConfigSource(configDir = process.env.DOCKER_CONFIG ?? join(homedir(), '.docker')): CredentialSource {
  let loaded: Promise<DockerConfig | undefined> | undefined;
  const load = () =>
    (loaded ??= readFile(join(configDir, 'config.json'), 'utf8').then(
      (t) => JSON.parse(t) as DockerConfig,
      () => undefined,
    ));
  return async (registry) => {
    const cfg = await load();
    if (!cfg) return undefined;
    const helperFor = Object.entries(cfg.credHelpers ?? {}).find(([k]) => configKeyMatches(k, registry))?.[1];
    const entry = Object.entries(cfg.auths ?? {}).find(([k]) => configKeyMatches(k, registry))?.[1];
    if (entry?.auth || entry?.username || entry?.identitytoken) {
      let { username, password } = entry;
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString();
        const i = decoded.indexOf(':');
        username = decoded.slice(0, i);
        password = decoded.slice(i + 1);
      }
      const c: Credentials = { username, password, identityToken: entry.identitytoken };
      addSecret(c.password);
      addSecret(c.identityToken);
      return c;
    }
    const helper = helperFor ?? cfg.credsStore;
    if (!helper) return undefined;
    return credentialHelper(helper, registry);
  };
}

/** `docker-credential-<name> get`, given the server URL on stdin. */
export async function credentialHelper(name: string, registry: string): Promise<Credentials | undefined> {
  const server = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
  const r = await exec(`docker-credential-${name}`, ['get'], { input: server, stream: false, allowFailure: true });
  if (r.code !== 0) {
    if (/credentials not found/i.test(r.stdout + r.stderr)) return undefined;
    throw new UserError(`docker-credential-${name} get failed for ${registry}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new UserError(`docker-credential-${name} get printed something that is not JSON for ${registry}`);
  }
  addSecret(parsed.Secret);
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: parsed.Username, password: parsed.Secret };
}

export interface RegistryAuthEntry {
  registry: string;
  credentials: Credentials;
  line?: number;
}

/**
 * Parses registry credentials: a YAML map of registry → {username, password} or
 * {username-env, password-env} (names of environment variables holding them).
 */
export function parseRegistryAuth(text: string, env: NodeJS.ProcessEnv = process.env): RegistryAuthEntry[] {
  if (!text.trim()) return [];
  let doc: unknown;
  try {
    // as text: an unquoted password like 0123456 or 12e3 stays what was written
    doc = parseYaml(text, { schema: 'failsafe' });
  } catch (err) {
    throw new UserError(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`expected a map of registry → {username, password} or {username-env, password-env}`);
  const out: RegistryAuthEntry[] = [];
  for (const [registry, value] of Object.entries(doc as Record<string, unknown>)) {
    const where = `registry ${registry}`;
    if (!value || typeof value !== 'object') throw new UserError(`${where}: expected {username, password} or {username-env, password-env}`);
    const v = value as Record<string, unknown>;
    const known = ['username', 'password', 'username-env', 'password-env'];
    const unknown = Object.keys(v).filter((k) => !known.includes(k));
    if (unknown.length) throw new UserError(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use ${known.join(', ')})`);
    const fromEnv = (key: 'username-env' | 'password-env'): string | undefined => {
      const name = v[key];
      if (name === undefined) return undefined;
      if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UserError(`${where}: ${key} must name an environment variable`);
      const val = env[name];
      if (val === undefined || val === '') throw new UserError(`${where}: environment variable ${name} (${key}) is not set`);
      return val;
    };
    const username = (v.username !== undefined ? String(v.username) : undefined) ?? fromEnv('username-env');
    const password = (v.password !== undefined ? String(v.password) : undefined) ?? fromEnv('password-env');
    addSecret(password);
    if (!username || !password) throw new UserError(`${where}: both a username and a password are needed`);
    out.push({ registry: normaliseRegistry(registry.replace(/^https?:\/\//, '').replace(/\/+$/, '')), credentials: { username, password } });
  }
  return out;
}

/** Credentials from explicit entries first, then the docker config. */
export function credentialChain(entries: RegistryAuthEntry[], fallback: CredentialSource = dockerConfigSource()): CredentialSource {
  return async (registry) => entries.find((e) => e.registry === registry)?.credentials ?? (await fallback(registry));
}
