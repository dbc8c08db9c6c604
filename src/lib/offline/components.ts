// Bundle components other than images: Helm charts packaged as `helm package` would, docker
// compose folders as tarballs, installer files with modes.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join, posix, relative, sep } from 'node:path';
import { isMap, parse, parseDocument } from 'yaml';
import { linkTargetPath } from '../archive/tar-index.js';
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
export async function walk(root: string, ignore: (rel: string, isDir: boolean) => boolean = () => false): Promise<Walked[]> {
  const out: Walked[] = [];
  const visit = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const rel = relative(root, abs);
      if (name === '.git' || name === '.svn') continue;
      const st = await lstat(abs);
      if (ignore(rel.split(sep).join('/'), st.isDirectory())) continue;
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
  opts: { gzip?: boolean; gzipLevel?: number; ignore?: (rel: string, isDir: boolean) => boolean; transform?: (rel: string, data: Buffer) => Buffer; start?: number } = {},
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

/** A Go `filepath.Match` pattern (what .helmignore rules are) as a regular expression. */
function goGlob(pattern: string, what: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new UserError(`${what}: "${pattern}" is not a valid pattern (an unclosed "[")`);
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else re += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * .helmignore as `helm package` reads it: blank lines and # comments skipped; "!" negates; a
 * trailing "/" matches directories only; a leading "/" or any "/" matches the path from the
 * chart's root, otherwise just the file name; "**" is refused; the first rule that decides
 * wins (a negated rule ignores whatever it does not match, as Helm does). Helm's own default,
 * dotfiles under templates/, comes last.
 */
export function helmIgnore(text: string, what: string): (rel: string, isDir: boolean) => boolean {
  const rules = [...text.split('\n'), 'templates/.?*']
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((raw) => {
      if (raw.includes('**')) throw new UserError(`${what}: "${raw}": the ** syntax is not supported (helm refuses it too)`);
      let rule = raw;
      const negate = rule.startsWith('!');
      if (negate) rule = rule.slice(1);
      const mustDir = rule.endsWith('/');
      if (mustDir) rule = rule.slice(0, -1);
      const whole = rule.includes('/');
      const re = goGlob(rule.replace(/^\//, ''), what);
      return { negate, mustDir, match: (rel: string) => re.test(whole ? rel : posix.basename(rel)) };
    });
  return (rel, isDir) => {
    for (const r of rules) {
      if (r.negate) {
        if ((r.mustDir && !isDir) || !r.match(rel)) return true;
        continue;
      }
      if (r.mustDir && !isDir) continue;
      if (r.match(rel)) return true;
    }
    return false;
  };
}

/**
 * Refuses symlinks that point outside a folder (absolute, or up past its root): the bundle
 * would carry a link its own import and `tar` extraction checks refuse.
 */
export async function checkLinks(root: string, what: string, ignore?: (rel: string, isDir: boolean) => boolean): Promise<void> {
  for (const e of await walk(root, ignore)) {
    if (e.type !== 'symlink') continue;
    const target = await readlink(e.abs);
    if (linkTargetPath(e.rel.split(sep).join('/'), target, 'symlink') === undefined)
      throw new UserError(
        `${what}: ${e.rel} is a symlink to "${target}", outside ${basename(root)}/; a bundle holds only links within itself (copy the file in, or make the link relative)`,
      );
  }
}

/** Reads and validates a chart's Chart.yaml (name, SemVer 2 version, apiVersion). */
export async function readChart(dir: string): Promise<{ name: string; version: string }> {
  const chartFile = join(dir, 'Chart.yaml');
  let chart: { apiVersion?: string; name?: string; version?: string };
  try {
    // as text: a version written 1.0 stays "1.0" (not the number 1)
    chart = parse(await readFile(chartFile, 'utf8'), { schema: 'failsafe' }) as typeof chart;
  } catch (err) {
    throw new UserError(
      `${chartFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing: a chart directory needs Chart.yaml' : `not valid YAML: ${(err as Error).message.split('\n')[0]}`}`,
    );
  }
  if (!chart || typeof chart !== 'object' || !['v1', 'v2'].includes(String(chart.apiVersion))) throw new UserError(`${chartFile}: apiVersion must be v1 or v2`);
  if (!chart.name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(chart.name)) throw new UserError(`${chartFile}: name "${chart.name ?? ''}" is not a valid chart name`);
  if (!chart.version || !SEMVER.test(String(chart.version))) throw new UserError(`${chartFile}: version "${chart.version ?? ''}" is not SemVer 2 (e.g. 1.2.3)`);
  return { name: chart.name, version: String(chart.version) };
}

/** A chart's .helmignore rules (helm's defaults when it has none). */
export async function chartIgnore(dir: string): Promise<(rel: string, isDir: boolean) => boolean> {
  const ignoreFile = join(dir, '.helmignore');
  const ignore = helmIgnore(await readFile(ignoreFile, 'utf8').catch(() => ''), ignoreFile);
  if (ignore('Chart.yaml', false))
    throw new UserError(`${ignoreFile}: its rules exclude Chart.yaml (a "!" rule excludes every path it does not match, as in helm), so helm package would fail too`);
  return ignore;
}

/** `helm package`: <name>-<version>.tgz holding <name>/…; Chart.yaml validated; optional global.imageRegistry. */
export async function packageChart(dir: string, outDir: string, imageRegistry?: string): Promise<{ file: string; name: string; version: string }> {
  const chart = await readChart(dir);
  const version = chart.version;
  const ignore = await chartIgnore(dir);
  const transform = imageRegistry
    ? (rel: string, data: Buffer) => {
        if (rel !== 'values.yaml') return data;
        const valuesFile = join(dir, 'values.yaml');
        const doc = parseDocument(data.toString('utf8'));
        if (doc.errors.length) throw new UserError(`${valuesFile}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
        const global = doc.get('global');
        if (global !== undefined && global !== null && !isMap(global))
          throw new UserError(`${valuesFile}: global is not a map, so imageRegistry (set for this chart in the spec) cannot go under it`);
        if (doc.contents !== null && !isMap(doc.contents)) throw new UserError(`${valuesFile}: expected a map at the top, so global.imageRegistry cannot be set`);
        if (global === null || global === undefined) doc.set('global', doc.createNode({ imageRegistry }));
        else doc.setIn(['global', 'imageRegistry'], imageRegistry);
        return Buffer.from(doc.toString());
      }
    : undefined;
  if (imageRegistry && !(await stat(join(dir, 'values.yaml')).catch(() => undefined))) throw new UserError(`${dir}: imageRegistry is set but the chart has no values.yaml`);
  const file = join(outDir, `${chart.name}-${version}.tgz`);
  await tarDirectory(dir, chart.name, file, { gzip: true, ignore, transform });
  return { file, name: chart.name, version };
}
