// OCI labels for a release image (source, revision, version, created; the user's own labels
// win), and meta.yml: one image per entry, tag → Dockerfile.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { OptionError } from '../errors.js';
import { headRevision, originUrl } from './describe.js';

export async function ociLabels(opts: { dir: string; version: string; extra: string[]; env?: NodeJS.ProcessEnv; now?: Date }): Promise<Record<string, string>> {
  const env = opts.env ?? process.env;
  const labels: Record<string, string> = {};
  const source = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}` : await originUrl(opts.dir);
  if (source) labels['org.opencontainers.image.source'] = source;
  const revision = (await headRevision(opts.dir)) ?? env.GITHUB_SHA;
  if (revision) labels['org.opencontainers.image.revision'] = revision;
  labels['org.opencontainers.image.version'] = opts.version;
  // SOURCE_DATE_EPOCH makes the label (and so the image) reproducible
  const epoch = env.SOURCE_DATE_EPOCH && /^\d+$/.test(env.SOURCE_DATE_EPOCH) ? new Date(Number(env.SOURCE_DATE_EPOCH) * 1000) : undefined;
  labels['org.opencontainers.image.created'] = (epoch ?? opts.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const e of opts.extra) {
    const eq = e.indexOf('=');
    if (eq <= 0) throw new OptionError('extra', `"${e}" is not key=value`);
    labels[e.slice(0, eq).trim()] = e.slice(eq + 1);
  }
  return labels;
}

export interface MetaEntry {
  /** the tag, placeholders {tag} and {version} filled in */
  tag: string;
  dockerfile: string;
}

/** meta.yml: a map of tag → Dockerfile path (relative to the context), in file order (OptionErrors: path, version). */
export function loadMeta(path: string, vars: { tag: string; version: string }): MetaEntry[] {
  if (!existsSync(path)) throw new OptionError('path', `${path} was not found`);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new OptionError('path', `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || Object.keys(doc).length === 0)
    throw new OptionError('path', `${path} must map each tag to its Dockerfile (e.g. "cuda12: ai/Dockerfile.cuda12")`);
  return Object.entries(doc as Record<string, unknown>).map(([k, v]) => {
    if (typeof v !== 'string' || !v.trim()) throw new OptionError('path', `${path}: tag "${k}" must map to a Dockerfile path`);
    const unknown = /\{(?!tag\}|version\})[^}]*\}/.exec(k);
    if (unknown) throw new OptionError('path', `${path}: tag "${k}" uses ${unknown[0]}; the placeholders are {tag} and {version}`);
    if (k.includes('{version}') && !vars.version) throw new OptionError('version', `${path}: tag "${k}" uses {version}, and no version is given`);
    const tag = k.replace(/\{tag\}/g, vars.tag).replace(/\{version\}/g, vars.version);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new OptionError('path', `${path}: "${tag}" is not a valid docker tag`);
    return { tag, dockerfile: v.trim() };
  });
}
