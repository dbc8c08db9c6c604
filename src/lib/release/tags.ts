// Release tags: the git tag (from the input or GITHUB_REF), the docker tags derived from it
// and from the product version by `tag-rules`, and prerelease detection for `latest: auto`.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { OptionError, UserError } from '../errors.js';

const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface TagRules {
  /** push the release tag itself */
  tag: boolean;
  /** push the lower-cased version (openEuler-22.03-LTS-SP1 → 22.03-lts-sp1) */
  version: boolean;
  latest: 'auto' | 'true' | 'false';
  /** version or tag pattern (`*` wildcards, any case) → extra tags */
  special: { pattern: string; tags: string[] }[];
}

export const DEFAULT_RULES: TagRules = { tag: true, version: true, latest: 'auto', special: [] };

/** The release tag: the input, else the tag GITHUB_REF names. */
export function releaseTag(input: string, env: NodeJS.ProcessEnv = process.env): string {
  if (input.trim()) return input.trim();
  const ref = env.GITHUB_REF ?? '';
  if (ref.startsWith('refs/tags/')) return ref.slice('refs/tags/'.length);
  throw new UserError(`no tag given and ${ref ? `GITHUB_REF (${ref}) is not a tag` : 'GITHUB_REF is not set'}: give the release tag`);
}

/** A git tag as a docker tag: characters docker does not allow become "-" (release/1.0 → release-1.0); an OptionError naming `what` when nothing is left. */
export function dockerTag(s: string, what: string): string {
  const t = s
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 128);
  if (!DOCKER_TAG.test(t)) throw new OptionError(what, `${what} "${s}" cannot be made into a docker tag`);
  return t;
}

/** The version tag: from the first digit on, lower-cased (openEuler-22.03-LTS-SP1 → 22.03-lts-sp1, v1.2.0 → 1.2.0). */
export function versionTag(version: string): string {
  const from = version.search(/\d/);
  return dockerTag((from > 0 ? version.slice(from) : version).toLowerCase(), 'version');
}

const PRE = /(^|[-._+])(alpha|beta|rc|pre|preview|dev|snapshot|nightly|canary|next)([-._]?\d*)($|[-._+])/i;

/** Semver prereleases (1.2.3-anything) and tags naming alpha/beta/rc/pre/dev/snapshot/nightly. */
export function isPrerelease(tag: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.GITHUB_EVENT_NAME === 'release' && env.GITHUB_EVENT_PATH && existsSync(env.GITHUB_EVENT_PATH)) {
    try {
      const ev = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as { release?: { prerelease?: boolean } };
      if (typeof ev.release?.prerelease === 'boolean') return ev.release.prerelease;
    } catch {
      // not our business: fall back to the tag's shape
    }
  }
  return /^v?\d+\.\d+\.\d+-/.test(tag) || PRE.test(tag);
}

function bool(v: unknown, key: string): boolean {
  if (v === true || v === false) return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw new UserError(`${key} must be true or false, not "${String(v)}"`);
}

function tagList(v: unknown, key: string): string[] {
  const items = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : typeof v === 'number' ? [String(v)] : undefined;
  if (!items || items.length === 0) throw new UserError(`special ${key} must name a tag or a list of tags`);
  return items.map((t) => {
    const s = String(t).trim();
    if (!DOCKER_TAG.test(s)) throw new UserError(`special ${key}: "${s}" is not a valid docker tag`);
    return s;
  });
}

/**
 * Tag rules, as YAML (tag, version, latest, special: {pattern: tags}) or key=value lines
 * (special.<pattern>=tag1,tag2). A user error says what is wrong; the caller says where it was written.
 */
export function parseTagRules(text: string): TagRules {
  const rules: TagRules = { ...DEFAULT_RULES, special: [] };
  if (!text.trim()) return rules;
  let doc: Record<string, unknown>;
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.every((l) => /^[A-Za-z][\w.*-]*\s*=/.test(l) || /^special\.[^=]+=/.test(l))) {
    doc = {};
    const special: Record<string, string> = {};
    for (const l of lines) {
      const eq = l.indexOf('=');
      const k = l.slice(0, eq).trim();
      const v = l.slice(eq + 1).trim();
      if (k.startsWith('special.')) special[k.slice(8)] = v;
      else doc[k] = v;
    }
    if (Object.keys(special).length) doc.special = special;
  } else {
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new UserError(`not valid YAML or key=value lines: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UserError('must be a map (tag, version, latest, special)');
    doc = parsed as Record<string, unknown>;
  }
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'tag') rules.tag = bool(v, 'tag');
    else if (k === 'version') rules.version = bool(v, 'version');
    else if (k === 'latest') {
      const s = String(v).trim().toLowerCase();
      if (s !== 'auto' && s !== 'true' && s !== 'false') throw new UserError(`latest must be auto, true or false, not "${String(v)}"`);
      rules.latest = s;
    } else if (k === 'special') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UserError('special must map a version or tag pattern to tags (e.g. "openEuler-22.03-*: 22.03")');
      for (const [pattern, tags] of Object.entries(v as Record<string, unknown>)) rules.special.push({ pattern, tags: tagList(tags, `"${pattern}"`) });
    } else throw new UserError(`unknown rule "${k}" (use tag, version, latest, special)`);
  }
  return rules;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(s);
}

export interface DerivedTags {
  tags: string[];
  prerelease: boolean;
  /** why each tag is there, for the log */
  reasons: Record<string, string>;
}

/** The docker tags for a release, in a stable order without duplicates. */
export function deriveTags(tag: string, version: string, rules: TagRules, env: NodeJS.ProcessEnv = process.env): DerivedTags {
  const reasons: Record<string, string> = {};
  const add = (t: string, why: string) => (reasons[t] ??= why);
  if (rules.tag) add(dockerTag(tag, 'tag'), 'the release tag');
  if (rules.version && version) add(versionTag(version), `version ${version}`);
  for (const s of rules.special) if (globMatch(s.pattern, version) || globMatch(s.pattern, tag)) for (const t of s.tags) add(t, `special ${s.pattern}`);
  const prerelease = isPrerelease(tag, env) || (version !== '' && isPrerelease(version, env));
  if (rules.latest === 'true' || (rules.latest === 'auto' && !prerelease)) add('latest', rules.latest === 'true' ? 'latest: true' : 'latest: auto, not a prerelease');
  const tags = Object.keys(reasons);
  if (tags.length === 0) throw new OptionError('rules', 'leave no tag to push (tag: false, no version, no special match, no latest)');
  return { tags, prerelease, reasons };
}
