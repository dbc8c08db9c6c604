// The files of the `source` input: paths, directories (every file under them) and globs
// (*, ?, **). Each gets an object key: a file its name, a directory's files their path below
// it, a glob's matches their path below the glob's fixed part. A line matching nothing fails.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { ListEntry } from '../inputs.js';

export interface SourceFile {
  path: string;
  key: string;
  size: number;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === '.git') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export async function selectFiles(entries: ListEntry[], cwd = process.cwd()): Promise<SourceFile[]> {
  const out = new Map<string, SourceFile>();
  const add = async (path: string, key: string) => out.set(key, { path, key, size: (await stat(path)).size });
  for (const e of entries) {
    const where = `input "source" line ${e.line}`;
    if (/[*?]/.test(e.value)) {
      const first = e.value.search(/[*?]/);
      const baseRel = e.value.slice(0, e.value.lastIndexOf('/', first) + 1);
      const base = resolve(cwd, baseRel || '.');
      const re = globToRegExp(e.value.slice(baseRel.length));
      const matches = (await stat(base).catch(() => undefined))?.isDirectory() ? (await filesUnder(base)).filter((p) => re.test(relative(base, p))) : [];
      if (matches.length === 0) throw new UserError(`${where}: "${e.value}" matches no file`);
      for (const p of matches) await add(p, relative(base, p));
      continue;
    }
    const path = resolve(cwd, e.value);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UserError(`${where}: ${e.value} was not found`);
    if (st.isDirectory()) {
      const files = await filesUnder(path);
      if (files.length === 0) throw new UserError(`${where}: directory ${e.value} holds no file`);
      for (const p of files) await add(p, relative(path, p));
    } else await add(path, basename(path));
  }
  return [...out.values()];
}
