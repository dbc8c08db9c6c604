// bundle.yaml: one offline package. Every error names the file and the key.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { OptionError, UserError, within } from '../errors.js';
import { parsePlatform, type Platform } from '../image/manifest.js';
import { listEntries } from '../list.js';
import { parseReference, uniqueReferences, withDefaultTag, type Reference } from '../registry/reference.js';
import type { PackFormat } from './pack.js';

export interface BundleSpec {
  file: string;
  name: string;
  version: string;
  layout: 'release' | 'plugin';
  images: Reference[];
  platform: Platform;
  format: PackFormat;
  /** packImages: pack the images the chart deploys with the bundle (default true) */
  charts: { path: string; imageRegistry?: string; packImages: boolean }[];
  /** `archive`: where the folder's tarball goes in the bundle; packImages: pack its services' images (default true) */
  compose: { path: string; archive: string; packImages: boolean }[];
  /** images the site already has: a compose file or chart may use them without the bundle holding them */
  expectedAtSite: Reference[];
  /** `dest`: where the files go in the bundle (files/<to, or the folder's name>) */
  files: { path: string; to?: string; dest: string }[];
  pluginYaml?: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
/** A version, as it names files: one plain name (letters, digits, ".", "_", "+", "-"). */
export const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** The plugin layout's archive for one image: compass-plugins-<name>-<image>-<version>-image.tar.gz. */
export function pluginImageArchive(spec: { name: string; version: string }, ref: Reference): string {
  return `compass-plugins-${spec.name}-${ref.repository.split('/').pop()}-${spec.version}-image.tar.gz`;
}

export function loadSpec(path: string, versionOverride?: string): BundleSpec {
  const file = resolve(path);
  if (!existsSync(file)) throw new OptionError('path', `${path} was not found`);
  const base = dirname(file);
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8'), { schema: 'failsafe' }) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`${path}: expected a map with name, version and components`);
  const at = (key: string) => `${path}: ${key}`;
  const known = ['name', 'version', 'layout', 'images', 'charts', 'compose', 'files', 'plugin', 'expected-at-site'];
  const unknown = Object.keys(doc).filter((k) => !known.includes(k));
  if (unknown.length) throw new UserError(`${path}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use ${known.join(', ')})`);

  const name = String(doc.name ?? '');
  if (!NAME.test(name)) throw new UserError(`${at('name')} must be lower-case letters, digits, ".", "_" or "-" (got "${name}")`);
  const version = versionOverride || String(doc.version ?? '');
  if (!VERSION.test(version)) throw new UserError(`${at('version')} is missing or not a version (got "${version}"); set it in the spec or with the version input`);
  const layout = String(doc.layout ?? 'release');
  if (layout !== 'release' && layout !== 'plugin') throw new UserError(`${at('layout')} must be release or plugin (got "${layout}")`);

  // images: a list, or { list | file, platform, format }
  let images: Reference[] = [];
  let platform = parsePlatform('linux/amd64');
  let format: PackFormat = 'docker-archive';
  const imgs = doc.images;
  // {version} in an image reference is the bundle's version (the release image of this release)
  const refs = (values: { value: string; line: number }[], where: string) =>
    values.map((v) => within(`${where} line ${v.line}`, () => withDefaultTag(parseReference(v.value.replaceAll('{version}', version)))));
  if (Array.isArray(imgs))
    images = refs(
      imgs.map((v, i) => ({ value: String(v), line: i + 1 })),
      at('images'),
    );
  else if (imgs && typeof imgs === 'object') {
    const o = imgs as Record<string, unknown>;
    const bad = Object.keys(o).filter((k) => !['list', 'file', 'platform', 'format'].includes(k));
    if (bad.length) throw new UserError(`${at('images')}: unknown key ${bad.map((k) => `"${k}"`).join(', ')} (use list, file, platform, format)`);
    if (Array.isArray(o.list))
      images = refs(
        o.list.map((v, i) => ({ value: String(v), line: i + 1 })),
        at('images.list'),
      );
    if (o.file !== undefined) {
      const f = resolve(base, String(o.file));
      if (!existsSync(f)) throw new UserError(`${at('images.file')}: ${String(o.file)} was not found`);
      images.push(...refs(listEntries(readFileSync(f, 'utf8')), `${path}: images.file ${String(o.file)}`));
    }
    if (o.platform !== undefined) {
      platform = within(at('images.platform'), () => parsePlatform(String(o.platform)));
    }
    if (o.format !== undefined) {
      if (!['docker-archive', 'oci-archive', 'oci'].includes(String(o.format))) throw new UserError(`${at('images.format')} must be docker-archive, oci-archive or oci`);
      format = String(o.format) as PackFormat;
    }
  } else if (imgs !== undefined) throw new UserError(`${at('images')} must be a list of references or a map with list/file, platform, format`);

  const pathList = (key: string, extra: string[] = []) => {
    const v = doc[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new UserError(`${at(key)} must be a list`);
    return v.map((item, i) => {
      const o = typeof item === 'string' ? { path: item } : (item as Record<string, unknown>);
      const bad = Object.keys(o).filter((k) => !['path', ...extra].includes(k));
      if (bad.length) throw new UserError(`${at(`${key}[${i}]`)}: unknown key ${bad.map((k) => `"${k}"`).join(', ')}`);
      const p = resolve(base, String(o.path ?? ''));
      if (!o.path || !existsSync(p)) throw new UserError(`${at(`${key}[${i}]`)}: ${String(o.path ?? '(no path)')} was not found`);
      return { ...o, path: p } as { path: string } & Record<string, unknown>;
    });
  };
  const packImages = (v: unknown, key: string) => {
    if (v === undefined) return true;
    if (v === 'true' || v === 'false') return v === 'true';
    throw new UserError(`${at(key)}: pack-images must be true or false (got "${String(v)}")`);
  };
  const charts = pathList('charts', ['imageRegistry', 'pack-images']).map((c, i) => {
    if (!statSync(c.path).isDirectory()) throw new UserError(`${path}: charts: ${c.path} is not a chart directory`);
    return { path: c.path, ...(c.imageRegistry ? { imageRegistry: String(c.imageRegistry) } : {}), packImages: packImages(c['pack-images'], `charts[${i}]`) };
  });
  const composeFolders = pathList('compose', ['pack-images']);
  const compose = composeFolders.map((c, i) => ({
    path: c.path,
    archive: `compose/${name}${composeFolders.length > 1 ? `-${basename(c.path)}` : ''}-docker-compose.tar.gz`,
    packImages: packImages(c['pack-images'], `compose[${i}]`),
  }));
  const expected = doc['expected-at-site'];
  if (expected !== undefined && !Array.isArray(expected)) throw new UserError(`${at('expected-at-site')} must be a list of image references`);
  const expectedAtSite = refs(
    ((expected as unknown[] | undefined) ?? []).map((v, i) => ({ value: String(v), line: i + 1 })),
    at('expected-at-site'),
  );
  const files = pathList('files', ['to']).map((f, i) => {
    if (f.to === undefined) return { path: f.path, dest: `files/${basename(f.path)}` };
    const to = String(f.to).replace(/\/+$/, '');
    if (!to || to.startsWith('/') || to.split('/').some((c) => c === '..' || c === '.' || c === ''))
      throw new UserError(`${at(`files[${i}].to`)}: "${String(f.to)}" must be a relative path inside files/ (no "..", ".", or leading "/")`);
    return { path: f.path, to, dest: `files/${to}` };
  });
  // two components landing on one name would overwrite each other
  const clash = (key: string, names: string[], hint: string) => {
    const first = new Map<string, number>();
    names.forEach((n, i) => {
      const j = first.get(n);
      if (j !== undefined) throw new UserError(`${path}: ${key}[${j}] and ${key}[${i}] would both be ${n}; ${hint}`);
      first.set(n, i);
    });
  };
  const dests = files.map((f) => f.dest);
  clash('files', dests, 'give one of them a different "to"');
  // one inside the other would mix (or overwrite) their files
  dests.forEach((d, i) => {
    const j = dests.findIndex((o) => o.startsWith(`${d}/`));
    if (j >= 0) throw new UserError(`${path}: files[${j}] (${dests[j]}) would land inside files[${i}] (${d}); give them separate "to" folders`);
  });
  clash(
    'compose',
    compose.map((c) => c.archive),
    'rename one of the folders',
  );
  if (layout === 'plugin')
    clash(
      'images',
      images.map((r) => pluginImageArchive({ name, version }, r)),
      'the plugin layout names each image archive by the last part of its repository',
    );
  else images = uniqueReferences(images);
  let pluginYaml: string | undefined;
  if (doc.plugin !== undefined) {
    const p = doc.plugin as Record<string, unknown>;
    const y = resolve(base, String(p?.yaml ?? ''));
    if (!p?.yaml || !existsSync(y)) throw new UserError(`${at('plugin.yaml')}: ${String(p?.yaml ?? '(missing)')} was not found`);
    pluginYaml = y;
  }
  if (layout === 'plugin' && !pluginYaml) throw new UserError(`${path}: layout plugin needs plugin.yaml (the plugin's yaml)`);
  if (layout === 'plugin' && format === 'oci') throw new UserError(`${at('images.format')}: the plugin layout stores one archive per image (docker-archive or oci-archive)`);
  if (images.length + charts.length + compose.length + files.length === 0)
    throw new UserError(`${path}: names no components (images, charts, compose, files): the bundle would be empty`);
  return { file, name, version, layout: layout as 'release' | 'plugin', images, platform, format, charts, compose, files, pluginYaml, expectedAtSite };
}
