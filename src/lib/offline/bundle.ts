// Builds an offline bundle from a spec. release: <name>-<version>.tar holding
// <name>-<version>/{images,charts,compose,files}/ + manifest.json + SHA256SUMS. plugin:
// compass-plugins-<name>-<version>.tar.gz holding one image archive per image
// (compass-plugins-<name>-<image>-<version>-image.tar.gz), the plugin yaml, manifest.json and
// SHA256SUMS. The plugin yaml is checked first: spec.version equals the bundle version, and
// every image it names is in the bundle.
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { formatSha256Sums, sha256File } from '../archive/checksums.js';
import { removeParts, splitFile } from '../archive/split.js';
import { NestedTar } from '../archive/nested.js';
import { UserError } from '../errors.js';
import { makeDirs } from '../dirs.js';
import { DiskFullError } from '../image/archive-writer.js';
import { platformString } from '../image/manifest.js';
import type { RegistryPool } from '../image/open.js';
import { info } from '../log.js';
import { formatReference, parseReference, withDefaultTag, type Reference } from '../registry/reference.js';
import { chartIgnore, checkLinks, packageChart, readChart, tarDirectory, walk } from './components.js';
import { chartImages, composeImages, type ReferencedImage } from './referenced.js';
import { packImages, type PackedImage } from './pack.js';
import { pluginImageArchive, type BundleSpec } from './spec.js';

export interface BundleComponent {
  kind: 'images' | 'chart' | 'compose' | 'files' | 'plugin-yaml';
  path: string;
  size: number;
}

export interface BundleResult {
  /** the bundle, or its first part when split */
  bundle: string;
  file: string;
  size: number;
  sha256: string;
  manifest: string;
  components: BundleComponent[];
  images: PackedImage[];
  parts: string[];
}

export interface BundleOptions {
  outputDir: string;
  pool: RegistryPool;
  compression?: 'none' | 'gzip';
  splitSize?: number;
  /** read the images from this OCI layout (each under its full reference) instead of their registries */
  fromLayout?: string;
}

/** Checks the plugin yaml against the bundle: version, and the images it names. */
export async function checkPluginYaml(spec: BundleSpec): Promise<void> {
  const file = spec.pluginYaml!;
  const docs = parseAllDocuments(await readFile(file, 'utf8'));
  const versions: string[] = [];
  const images: string[] = [];
  const visit = (v: unknown, key?: string) => {
    if (Array.isArray(v)) v.forEach((x) => visit(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
    else if (key === 'image' && typeof v === 'string') images.push(v);
  };
  for (const d of docs) {
    if (d.errors.length) throw new UserError(`${file}: not valid YAML: ${d.errors[0].message.split('\n')[0]}`);
    const j = d.toJSON() as { spec?: { version?: unknown } } | null;
    if (j?.spec?.version !== undefined) versions.push(String(j.spec.version));
    visit(j);
  }
  if (versions.length === 0) throw new UserError(`${file}: spec.version is missing (it must equal the bundle version ${spec.version})`);
  for (const v of versions) if (v !== spec.version) throw new UserError(`${file}: spec.version is ${v}, but the bundle version is ${spec.version}`);
  const have = new Set(spec.images.map(formatReference));
  for (const img of images) {
    let norm: string;
    try {
      norm = formatReference(withDefaultTag(parseReference(img)));
    } catch {
      throw new UserError(`${file}: image "${img}" is not a valid reference`);
    }
    if (!have.has(norm)) throw new UserError(`${file} names image ${img}, which is not among the bundle's images`);
  }
}

/** Orders paths as a sorted depth-first walk does (directory by directory). */
function byWalkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length - y.length;
}

/**
 * manifest.json and SHA256SUMS for a bundle tree; `known` holds checksums already computed while
 * writing, `elsewhere` files of the bundle that are not in the tree (written in place).
 */
async function finishTree(
  root: string,
  extra: Record<string, unknown>,
  known: Map<string, string>,
  elsewhere: { path: string; size: number; sha256: string }[] = [],
): Promise<{ files: { path: string; size: number; sha256: string }[] }> {
  const files: { path: string; size: number; sha256: string }[] = [...elsewhere];
  for (const e of await walk(root)) if (e.type === 'file') files.push({ path: e.rel, size: e.size, sha256: known.get(e.rel) ?? (await sha256File(e.abs)) });
  files.sort((a, b) => byWalkOrder(a.path, b.path));
  await writeFile(join(root, 'manifest.json'), JSON.stringify({ ...extra, files }, null, 2) + '\n');
  const all = [...files, { path: 'manifest.json', size: 0, sha256: await sha256File(join(root, 'manifest.json')) }];
  await writeFile(join(root, 'SHA256SUMS'), formatSha256Sums(all.map((f) => ({ file: f.path, sha256: f.sha256 }))));
  return { files };
}

async function dropSidecars(archive: string): Promise<void> {
  await rm(`${archive}.sha256`, { force: true });
  await rm(`${archive}.manifest.json`, { force: true });
}

/** Everything that can be checked before an image is fetched: charts, name clashes, links. */
async function checkComponents(spec: BundleSpec): Promise<void> {
  if (spec.layout === 'plugin') await checkPluginYaml(spec);
  const charts = new Map<string, number>();
  for (const [i, c] of spec.charts.entries()) {
    const { name, version } = await readChart(c.path);
    const file = `charts/${name}-${version}.tgz`;
    const j = charts.get(file);
    if (j !== undefined) throw new UserError(`${spec.file}: charts[${j}] and charts[${i}] would both be ${file}`);
    charts.set(file, i);
    // what .helmignore leaves out is not packaged, so its links do not matter
    await checkLinks(c.path, `${spec.file}: charts[${i}]`, await chartIgnore(c.path));
  }
  for (const [i, c] of spec.compose.entries()) await checkLinks(c.path, `${spec.file}: compose[${i}]`);
  for (const [i, f] of spec.files.entries()) if ((await stat(f.path)).isDirectory()) await checkLinks(f.path, `${spec.file}: files[${i}]`);
}

/** What the bundle's compose folders and charts run: each folder's and chart's images, by where they are used. */
interface Referenced {
  compose: string[][];
  charts: string[][];
}

/**
 * The images the compose folders and charts use, added to the bundle's images (unless their
 * folder or chart says pack-images: false); one the bundle will not hold and the site is not
 * expected to have is refused by name, every such image at once, before anything is fetched.
 */
export async function addReferencedImages(spec: BundleSpec): Promise<{ spec: BundleSpec; referenced: Referenced }> {
  const referenced: Referenced = { compose: [], charts: [] };
  if (spec.layout !== 'release') return { spec, referenced };
  const have = new Set(spec.images.map((r) => formatReference(r)));
  const expected = new Set(spec.expectedAtSite.map((r) => formatReference(r)));
  // a chart whose registry is replaced at the site (imageRegistry) names its images by path
  const path = (r: Reference) => formatReference(r).slice(r.registry.length + 1);
  const havePaths = new Set([...spec.images, ...spec.expectedAtSite].map(path));
  const added = new Map<string, ReferencedImage>();
  const missing: (ReferencedImage & { why?: string })[] = [];
  const take = (list: ReferencedImage[], pack: boolean, byPath = false) => {
    for (const r of list) {
      const key = formatReference(r.ref);
      if (byPath ? havePaths.has(path(r.ref)) : have.has(key) || expected.has(key) || added.has(key)) continue;
      if (byPath)
        missing.push({ ...r, ref: r.ref, why: 'its registry is replaced at the site (imageRegistry), so list the image under images with the registry it is packed from' });
      else if (pack) added.set(key, r);
      else missing.push(r);
    }
    return [...new Set(list.map((r) => (byPath ? path(r.ref) : formatReference(r.ref))))].sort();
  };
  for (const [i, c] of spec.compose.entries()) referenced.compose.push(take(await composeImages(c.path, `compose[${i}] ${basename(c.path)}`), c.packImages));
  for (const [i, c] of spec.charts.entries()) {
    const { images, method } = await chartImages(c.path, `charts[${i}] ${basename(c.path)}`);
    info(`bundle: charts[${i}] ${basename(c.path)}: ${images.length} image reference(s), from ${method}`);
    referenced.charts.push(take(images, c.packImages, c.imageRegistry !== undefined));
  }
  if (missing.length) {
    // each image once, with every place that uses it
    const byImage = new Map<string, string[]>();
    for (const m of missing) {
      const name = m.why ? path(m.ref) : formatReference(m.ref);
      byImage.set(name, [...(byImage.get(name) ?? []), `${m.where}${m.why ? `: ${m.why}` : ''}`]);
    }
    const one = byImage.size === 1;
    throw new UserError(
      `${spec.file}: ${one ? 'an image is' : `${byImage.size} images are`} used by the bundle but not in it:\n  ${[...byImage].map(([name, where]) => `${name} (${where.join('; ')})`).join('\n  ')}\nadd ${one ? 'it' : 'them'} to images, list ${one ? 'it' : 'them'} under expected-at-site if the site has ${one ? 'it' : 'them'} already, or drop pack-images: false`,
    );
  }
  if (added.size) info(`bundle: packing ${added.size} image(s) the compose files and charts use: ${[...added.keys()].join(', ')}`);
  return { spec: { ...spec, images: [...spec.images, ...[...added.values()].map((a) => a.ref)] }, referenced };
}

export async function buildBundle(given: BundleSpec, opts: BundleOptions): Promise<BundleResult> {
  await checkComponents(given);
  const { spec, referenced } = await addReferencedImages(given);
  await makeDirs(opts.outputDir);
  const rootName = spec.layout === 'release' ? `${spec.name}-${spec.version}` : `compass-plugins-${spec.name}-${spec.version}`;
  const staging = join(opts.outputDir, `.${rootName}.staging-${process.pid}`);
  const root = spec.layout === 'release' ? join(staging, rootName) : staging;
  const components: BundleComponent[] = [];
  const images: PackedImage[] = [];
  const gzipOuter = spec.layout === 'plugin' || opts.compression === 'gzip';
  const out = join(opts.outputDir, `${rootName}.tar${gzipOuter ? '.gz' : ''}`);
  // written under a temporary name: a failed run leaves an earlier bundle as it was
  const partial = `${out}.partial`;
  await rm(staging, { recursive: true, force: true });
  let written: { sha256: string; size: number } | undefined;
  // An uncompressed release bundle gets its image archive written straight into it, as its first
  // file (a staged copy would write every blob twice); the staged rest is appended from `tail`.
  const inPlace = spec.layout === 'release' && !gzipOuter && spec.format !== 'oci' && spec.images.length > 0;
  let outer: NestedTar | undefined;
  let tail: number | undefined;
  const elsewhere: { path: string; size: number; sha256: string }[] = [];
  try {
    await mkdir(root, { recursive: true });
    const size = async (p: string) => (await stat(p)).size;
    const imageMeta: { name: string; digest: string; platforms: string[]; archive: string }[] = [];
    const known = new Map<string, string>();

    if (spec.layout === 'release') {
      if (inPlace) {
        outer = await NestedTar.create(partial);
        await outer.directories([rootName, `${rootName}/images`]);
        // the archive's header is written once its size is known, in a place kept for it
        const archive = outer.file(`${rootName}/images/images.tar`, `${rootName}/images`);
        info(`bundle: ${spec.images.length} images → images/images.tar, written in place`);
        const res = await packImages({
          images: spec.images,
          format: spec.format,
          platform: spec.platform,
          output: join(root, 'images', 'images.tar'),
          pool: opts.pool,
          fromLayout: opts.fromLayout,
          name: spec.name,
          version: spec.version,
          region: archive.region,
        });
        const f = res.files[0];
        await archive.finish(f.size);
        tail = outer.end;
        await outer.close();
        outer = undefined;
        images.push(...res.images);
        elsewhere.push({ path: 'images/images.tar', size: f.size, sha256: f.sha256 });
        for (const i of res.images) imageMeta.push({ ...i, archive: 'images/images.tar' });
        components.push({ kind: 'images', path: 'images/images.tar', size: f.size });
      } else if (spec.images.length) {
        await mkdir(join(root, 'images'), { recursive: true });
        const target = spec.format === 'oci' ? join(root, 'images', 'oci') : join(root, 'images', 'images.tar');
        info(`bundle: ${spec.images.length} images → images/${basename(target)}`);
        const res = await packImages({
          images: spec.images,
          format: spec.format,
          platform: spec.platform,
          output: target,
          pool: opts.pool,
          fromLayout: opts.fromLayout,
          name: spec.name,
          version: spec.version,
        });
        // the bundle's own SHA256SUMS and manifest.json cover what the pack wrote beside it
        await dropSidecars(target);
        images.push(...res.images);
        for (const f of res.files) known.set(`images/${f.path}`, f.sha256);
        for (const i of res.images) imageMeta.push({ ...i, archive: `images/${basename(target)}` });
        components.push({ kind: 'images', path: `images/${basename(target)}`, size: spec.format === 'oci' ? res.files.reduce((n, f) => n + f.size, 0) : await size(target) });
      }
      if (spec.charts.length) await mkdir(join(root, 'charts'), { recursive: true });
      const chartMeta: { file: string; images: string[] }[] = [];
      for (const [i, c] of spec.charts.entries()) {
        const ch = await packageChart(c.path, join(root, 'charts'), c.imageRegistry);
        chartMeta.push({ file: `charts/${basename(ch.file)}`, images: referenced.charts[i] });
        components.push({ kind: 'chart', path: `charts/${basename(ch.file)}`, size: await size(ch.file) });
      }
      const composeMeta: { file: string; images: string[] }[] = [];
      if (spec.compose.length) await mkdir(join(root, 'compose'), { recursive: true });
      for (const [i, c] of spec.compose.entries()) {
        const file = join(root, c.archive);
        await tarDirectory(c.path, basename(c.path), file, { gzip: true });
        composeMeta.push({ file: c.archive, images: referenced.compose[i] });
        components.push({ kind: 'compose', path: c.archive, size: await size(file) });
      }
      for (const f of spec.files) {
        const dest = join(root, f.dest);
        await mkdir(join(dest, '..'), { recursive: true });
        await cp(f.path, dest, { recursive: true, preserveTimestamps: false, verbatimSymlinks: true });
        components.push({ kind: 'files', path: f.dest, size: (await walk(dest).catch(() => [])).reduce((n, e) => n + e.size, 0) || (await size(dest)) });
      }
      await finishTree(
        root,
        {
          name: spec.name,
          version: spec.version,
          layout: spec.layout,
          images: imageMeta,
          compose: composeMeta,
          charts: chartMeta,
          ...(spec.expectedAtSite.length ? { expectedAtSite: spec.expectedAtSite.map((r) => formatReference(r)) } : {}),
        },
        known,
        elsewhere,
      );
    } else {
      for (const ref of spec.images) {
        const file = join(root, pluginImageArchive(spec, ref));
        const res = await packImages({
          images: [ref],
          format: spec.format,
          platform: spec.platform,
          output: file,
          compression: 'gzip',
          pool: opts.pool,
          fromLayout: opts.fromLayout,
        });
        await dropSidecars(file);
        images.push(...res.images);
        for (const f of res.files) known.set(f.path, f.sha256);
        for (const i of res.images) imageMeta.push({ ...i, archive: basename(file) });
        components.push({ kind: 'images', path: basename(file), size: await size(file) });
      }
      await cp(spec.pluginYaml!, join(root, basename(spec.pluginYaml!)));
      components.push({ kind: 'plugin-yaml', path: basename(spec.pluginYaml!), size: await size(spec.pluginYaml!) });
      await finishTree(root, { name: spec.name, version: spec.version, layout: spec.layout, platform: platformString(spec.platform), images: imageMeta }, known);
    }

    // the outer gzip holds mostly compressed archives: a light level, and hashed as written
    if (tail !== undefined) {
      await tarDirectory(staging, '', partial, { start: tail });
      written = { sha256: await sha256File(partial), size: (await stat(partial)).size };
    } else written = await tarDirectory(staging, '', partial, { gzip: gzipOuter, gzipLevel: 1 });
    await removeParts(out);
    await rename(partial, out);
  } catch (err) {
    await outer?.close().catch(() => undefined);
    await rm(partial, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || err instanceof DiskFullError)
      throw new UserError(`${opts.outputDir}: the disk is full; the partial bundle was removed`);
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const { sha256, size: total } = written!;
  const manifest = `${out}.manifest.json`;
  let parts: string[] = [];
  const sums = [{ file: basename(out), sha256 }];
  if (opts.splitSize && total > opts.splitSize) {
    const p = await splitFile(out, opts.splitSize, { removeOriginal: true });
    parts = p.map((x) => x.path);
    sums.unshift(...p.map((x) => ({ file: basename(x.path), sha256: x.sha256 })));
  }
  await writeFile(`${out}.sha256`, formatSha256Sums(sums));
  await writeFile(
    manifest,
    JSON.stringify(
      {
        name: spec.name,
        version: spec.version,
        layout: spec.layout,
        bundle: basename(out),
        size: total,
        sha256,
        parts: parts.map((p) => basename(p)),
        components,
        images: images.map((i) => ({ name: i.name, digest: i.digest, platforms: i.platforms })),
      },
      null,
      2,
    ) + '\n',
  );
  return { bundle: parts[0] ?? out, file: out, size: total, sha256, manifest, components, images, parts };
}
