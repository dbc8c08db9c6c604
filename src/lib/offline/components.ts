// Bundle components other than images: Helm charts packaged as `helm package` would, docker
// compose folders as tarballs (with the images they reference), installer files with modes.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { TarFileStream } from '../archive/tar-stream.js';
import { UserError } from '../errors.js';

interface Walked {
  rel: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  size: number;
}

/** Files under a directory in a stable order, skipping VCS folders and .helmignore'd names. */
export async function walk(root: string, ignore: (rel: string) => boolean = () => false): Promise<Walked[]> {
  const out: Walked[] = [];
  const visit = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const rel = relative(root, abs);
      if (name === '.git' || name === '.svn' || ignore(rel)) continue;
      const st = await lstat(abs);
      if (st.isDirectory()) {
        out.push({ rel, abs, type: 'directory', mode: st.mode & 0o7777, size: 0 });
        await visit(abs);
      } else if (st.isSymbolicLink()) out.push({ rel, abs, type: 'symlink', mode: 0o777, size: 0 });
      else if (st.isFile()) out.push({ rel, abs, type: 'file', mode: st.mode & 0o7777, size: st.size });
    }
  };
  await visit(root);
  return out;
}

/**
 * Writes entries under `prefix/` into a tar (gzip-compressed when `gzip`), modes preserved;
 * returns the sha256 and size of the file written, hashed on the way out (no second read).
 * `start`: appended to an existing file from that offset (then of what this call wrote).
 */
export async function tarDirectory(
  root: string,
  prefix: string,
  out: string,
  opts: { gzip?: boolean; gzipLevel?: number; ignore?: (rel: string) => boolean; transform?: (rel: string, data: Buffer) => Buffer; start?: number } = {},
): Promise<{ sha256: string; size: number }> {
  const file = new TarFileStream(out, { gzip: opts.gzip, gzipLevel: opts.gzipLevel, start: opts.start });
  const { tar } = file;
  const name = (rel: string) => (prefix ? `${prefix}/${rel}` : rel);
  await file.run(async () => {
    if (prefix) await tar.addDirectory(prefix);
    for (const e of await walk(root, opts.ignore)) {
      if (e.type === 'directory') await tar.addDirectory(name(e.rel), e.mode);
      else if (e.type === 'symlink') await tar.addSymlink(name(e.rel), await readlink(e.abs));
      else {
        const data = opts.transform ? opts.transform(e.rel, await readFile(e.abs)) : undefined;
        if (data) await tar.addFile({ name: name(e.rel), size: data.length, mode: e.mode }, data);
        else await tar.addFile({ name: name(e.rel), size: e.size, mode: e.mode }, createReadStream(e.abs));
      }
    }
  });
  return file.close();
}

const SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

function helmIgnore(text: string): (rel: string) => boolean {
  const pats = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}(/.*)?$`));
  return (rel) => pats.some((re) => re.test(rel) || re.test(basename(rel)));
}

/** `helm package`: <name>-<version>.tgz holding <name>/…; Chart.yaml validated; optional global.imageRegistry. */
export async function packageChart(dir: string, outDir: string, imageRegistry?: string): Promise<{ file: string; name: string; version: string }> {
  const chartFile = join(dir, 'Chart.yaml');
  let chart: { apiVersion?: string; name?: string; version?: string };
  try {
    chart = parse(await readFile(chartFile, 'utf8')) as typeof chart;
  } catch (err) {
    throw new UserError(`${chartFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing: a chart directory needs Chart.yaml' : `not valid YAML: ${(err as Error).message.split('\n')[0]}`}`);
  }
  if (!chart || !['v1', 'v2'].includes(String(chart.apiVersion))) throw new UserError(`${chartFile}: apiVersion must be v1 or v2`);
  if (!chart.name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(chart.name)) throw new UserError(`${chartFile}: name "${chart.name ?? ''}" is not a valid chart name`);
  if (!chart.version || !SEMVER.test(String(chart.version))) throw new UserError(`${chartFile}: version "${chart.version ?? ''}" is not SemVer 2 (e.g. 1.2.3)`);
  const version = String(chart.version);
  let ignore: (rel: string) => boolean = (rel) => rel === '.helmignore';
  try {
    const hi = helmIgnore(await readFile(join(dir, '.helmignore'), 'utf8'));
    ignore = (rel) => rel === '.helmignore' || hi(rel);
  } catch {
    // no .helmignore
  }
  const transform = imageRegistry
    ? (rel: string, data: Buffer) => {
        if (rel !== 'values.yaml') return data;
        const doc = parseDocument(data.toString('utf8'));
        doc.setIn(['global', 'imageRegistry'], imageRegistry);
        return Buffer.from(doc.toString());
      }
    : undefined;
  if (imageRegistry && !(await stat(join(dir, 'values.yaml')).catch(() => undefined))) throw new UserError(`${dir}: imageRegistry is set but the chart has no values.yaml`);
  const file = join(outDir, `${chart.name}-${version}.tgz`);
  await tarDirectory(dir, chart.name, file, { gzip: true, ignore, transform });
  return { file, name: chart.name, version };
}

/** A compose folder as a tarball; returns the images its compose files reference. */
export async function packageCompose(dir: string, out: string): Promise<string[]> {
  const images = new Set<string>();
  for (const e of await walk(dir)) {
    if (e.type !== 'file' || !/^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(basename(e.rel))) continue;
    let doc: { services?: Record<string, { image?: string }> };
    try {
      doc = parse(await readFile(e.abs, 'utf8')) as typeof doc;
    } catch (err) {
      throw new UserError(`${e.abs}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const svc of Object.values(doc?.services ?? {})) if (svc?.image) images.add(svc.image);
  }
  await tarDirectory(dir, basename(dir), out, { gzip: true });
  return [...images].sort();
}
