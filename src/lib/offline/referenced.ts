// The images a bundle's own parts run: the `image:` of every compose service, and the images a
// chart deploys (what `helm template` renders when a helm binary is present, else what its
// values.yaml names: `image:` strings and registry/repository/tag maps). A site that unpacks the
// bundle needs each of them: they are packed with the bundle's images, or refused by name unless
// listed as expected at the site.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, delimiter, join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { UserError, within } from '../errors.js';
import { exec } from '../exec.js';
import { parseReference, withDefaultTag, type Reference } from '../registry/reference.js';
import { walk } from './components.js';

export interface ReferencedImage {
  ref: Reference;
  /** where it was found, for messages: "compose/app/docker-compose.yml: service web" */
  where: string;
}

/** KEY=VALUE lines of a compose folder's .env (comments and blank lines skipped, quotes removed). */
function readDotEnv(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    vars.set(m[1], m[2].replace(/^(['"])(.*)\1$/, '$2'));
  }
  return vars;
}

/**
 * Compose's interpolation of `image:` from the folder's .env and the defaults written in the
 * file (${VAR:-default}, ${VAR-default}, ${VAR}, $VAR, $$). The packing machine's environment
 * is not the site's, so it is not read: a variable with neither is an error naming it.
 */
export function interpolate(value: string, vars: Map<string, string>, where: string): string {
  return value.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (all, dollar: string, braced?: string, op?: string, dflt?: string, bare?: string) => {
      if (dollar === '$') return '$';
      const name = braced ?? bare!;
      const v = vars.get(name);
      if (op === ':-' && v) return v;
      if (op === '-' && v !== undefined) return v;
      if (op) return dflt ?? '';
      if (v !== undefined) return v;
      throw new UserError(
        `${where}: "${value}" uses \${${name}}, which has no default and no value in the folder's .env; write a default (\${${name}:-value}) or put it in .env, so the image can be packed`,
      );
    },
  );
}

function parseRef(image: string, where: string): Reference {
  return within(`${where}: image "${image}"`, () => withDefaultTag(parseReference(image)));
}

/** The images of every compose file in a folder, each with the file and service it came from. */
export async function composeImages(dir: string, label: string): Promise<ReferencedImage[]> {
  const out: ReferencedImage[] = [];
  const vars = readDotEnv(await readFile(join(dir, '.env'), 'utf8').catch(() => ''));
  for (const e of await walk(dir)) {
    if (e.type !== 'file' || !/^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(basename(e.rel))) continue;
    const file = `${label}/${e.rel}`;
    let doc: { services?: Record<string, { image?: unknown } | null> } | null;
    try {
      doc = parse(await readFile(e.abs, 'utf8')) as typeof doc;
    } catch (err) {
      throw new UserError(`${e.abs}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const [name, svc] of Object.entries(doc?.services ?? {})) {
      if (svc?.image === undefined || svc.image === null) continue; // built from a Dockerfile at the site
      const where = `${file}: service ${name}`;
      out.push({ ref: parseRef(interpolate(String(svc.image), vars, where), where), where });
    }
  }
  return out;
}

/** A helm binary: $AIRLIFT_HELM, else `helm` on PATH. */
export function findHelm(): string | undefined {
  if (process.env.AIRLIFT_HELM) return process.env.AIRLIFT_HELM;
  for (const d of (process.env.PATH ?? '').split(delimiter)) if (d && existsSync(join(d, 'helm'))) return join(d, 'helm');
  return undefined;
}

/** Every string under an `image` key, at any depth, of some parsed YAML. */
function imageStrings(v: unknown, key?: string, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => imageStrings(x, key, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) imageStrings(x, k, out);
  else if (key === 'image' && typeof v === 'string' && v.trim()) out.push(v.trim());
  return out;
}

/** values.yaml's images: `image:` strings, and maps with a repository (and registry, tag, digest). */
function valuesImages(v: unknown, appVersion: string | undefined, path: string, out: { image: string; at: string }[] = []): { image: string; at: string }[] {
  if (Array.isArray(v)) v.forEach((x, i) => valuesImages(x, appVersion, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.repository === 'string' && o.repository.trim()) {
      const registry = typeof o.registry === 'string' && o.registry.trim() ? `${o.registry.trim().replace(/\/+$/, '')}/` : '';
      const tag = o.tag !== undefined && o.tag !== null && String(o.tag).trim() ? String(o.tag).trim() : appVersion;
      const digest = typeof o.digest === 'string' && o.digest.trim() ? `@${o.digest.trim()}` : '';
      out.push({ image: `${registry}${o.repository.trim()}${tag ? `:${tag}` : ''}${digest}`, at: path || '(top)' });
    }
    for (const [k, x] of Object.entries(o)) {
      if (k === 'image' && typeof x === 'string' && x.trim()) out.push({ image: x.trim(), at: `${path ? `${path}.` : ''}image` });
      else valuesImages(x, appVersion, path ? `${path}.${k}` : k, out);
    }
  }
  return out;
}

/**
 * The images a chart deploys: rendered by `helm template` when helm is there (what the chart
 * really runs), else read from its values.yaml.
 */
export async function chartImages(dir: string, label: string, helm = findHelm()): Promise<{ images: ReferencedImage[]; method: 'helm template' | 'values.yaml' }> {
  if (helm) {
    let stdout: string;
    try {
      ({ stdout } = await exec(helm, ['template', 'airlift', dir], { stream: false, signal: AbortSignal.timeout(120_000) }));
    } catch (err) {
      throw new UserError(`${label}: helm template failed, so the images the chart deploys are unknown: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
    }
    const images: ReferencedImage[] = [];
    for (const doc of parseAllDocuments(stdout)) {
      const j = doc.toJSON() as { kind?: string; metadata?: { name?: string } } | null;
      const where = `${label}: ${j?.kind ?? 'manifest'} ${j?.metadata?.name ?? ''}`.trim();
      for (const image of imageStrings(j)) images.push({ ref: parseRef(image, where), where });
    }
    return { images, method: 'helm template' };
  }
  const chartYaml = parse(await readFile(join(dir, 'Chart.yaml'), 'utf8'), { schema: 'failsafe' }) as { appVersion?: string } | null;
  const valuesFile = join(dir, 'values.yaml');
  if (!existsSync(valuesFile)) return { images: [], method: 'values.yaml' };
  let values: unknown;
  try {
    values = parse(await readFile(valuesFile, 'utf8'));
  } catch (err) {
    throw new UserError(`${valuesFile}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const images = valuesImages(values, chartYaml?.appVersion ? String(chartYaml.appVersion) : undefined, '').map(({ image, at }) => {
    const where = `${label}/${relative(dir, valuesFile)}: ${at}`;
    return { ref: parseRef(image, where), where };
  });
  return { images, method: 'values.yaml' };
}
