// The files of the `source` input: paths, directories (every file under them) and globs
// (*, ?, **). Each gets an object key: a file its name, a directory's files their path below
// it, a glob's matches their path below the glob's fixed part. A line matching nothing fails.
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';
import { warning } from '../log.js';
import type { ListEntry } from '../list.js';

export interface SourceFile {
  path: string;
  key: string;
  size: number;
}

/**
 * Files under a directory. Symlinks are followed while they stay inside `root` (the directory
 * or glob base the user named); one pointing outside it is left out with a warning, and a
 * loop is cut where a directory would contain itself.
 */
async function filesUnder(dir: string, where: string, root = dir, ancestors: string[] = []): Promise<string[]> {
  const real = await realpath(dir);
  if (ancestors.includes(real)) return [];
  const rootReal = ancestors[0] ?? real;
  const out: string[] = [];
  let names;
  try {
    names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    throw new UserError(`${where}: cannot list ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const e of names) {
    if (e.name === '.git') continue;
    const p = join(dir, e.name);
    let st: { isDirectory(): boolean; isFile(): boolean } | undefined = e;
    if (e.isSymbolicLink()) {
      const target = await realpath(p).catch(() => undefined);
      if (!target) continue; // a dangling link
      if (target !== rootReal && !target.startsWith(`${rootReal}${sep}`)) {
        warning(`${where}: ${relative(root, p)} links outside ${root} (to ${target}); left out`);
        continue;
      }
      st = await stat(p).catch(() => undefined);
    }
    if (st?.isDirectory()) out.push(...(await filesUnder(p, where, root, [...ancestors, real])));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

/**
 * A glob as the shell reads it: `*` and `?` within a path segment, `**` across them; a name
 * starting with "." is matched only by a pattern segment that starts with "." (so `dist/*`
 * does not pick up `.env`).
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const segmentStart = i === 0 || pattern[i - 1] === '/';
    const noDot = segmentStart ? '(?!\\.)' : '';
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:(?!\\.)[^/]+/)*' : '(?!\\.)[^/]*(?:/(?!\\.)[^/]+)*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += `${noDot}[^/]*`;
    else if (c === '?') re += `${noDot}[^/]`;
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The files the entries name (paths, directories, globs); `from` says where the list came from (e.g. an input). */
export async function selectFiles(entries: ListEntry[], opts: { from?: string; cwd?: string } = {}): Promise<SourceFile[]> {
  const cwd = opts.cwd ?? process.cwd();
  const out = new Map<string, SourceFile>();
  const add = async (path: string, key: string, where: string) => {
    const prev = out.get(key);
    // two files on one key: one would silently replace the other
    if (prev && prev.path !== path)
      throw new UserError(`${where}: ${path} and ${prev.path} would both be uploaded as ${key}; upload them in separate steps or from their directories`);
    out.set(key, { path, key, size: (await stat(path)).size });
  };
  for (const e of entries) {
    const where = `${opts.from ? `${opts.from} ` : ''}line ${e.line}`;
    if (/[*?]/.test(e.value)) {
      const first = e.value.search(/[*?]/);
      const baseRel = e.value.slice(0, e.value.lastIndexOf('/', first) + 1);
      const base = resolve(cwd, baseRel || '.');
      const re = globToRegExp(e.value.slice(baseRel.length));
      const matches = (await stat(base).catch(() => undefined))?.isDirectory() ? (await filesUnder(base, where)).filter((p) => re.test(relative(base, p))) : [];
      if (matches.length === 0) throw new UserError(`${where}: "${e.value}" matches no file`);
      for (const p of matches) await add(p, relative(base, p), where);
      continue;
    }
    const path = resolve(cwd, e.value);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UserError(`${where}: ${e.value} was not found${/, | #/.test(e.value) ? ' (one path per line; a comment goes on a line of its own)' : ''}`);
    if (st.isDirectory()) {
      const files = await filesUnder(path, where);
      if (files.length === 0) throw new UserError(`${where}: directory ${e.value} holds no file`);
      for (const p of files) await add(p, relative(path, p), where);
    } else if (st.isFile()) await add(path, basename(path), where);
    else throw new UserError(`${where}: ${e.value} is not a regular file`);
  }
  return [...out.values()];
}
