// Directories made one level at a time, so every failure says where and why. Node's recursive
// mkdir spins forever on some paths (under /proc it keeps retrying a parent that exists but
// takes no new entries) and reports a file in the way as a bare EEXIST.
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from './errors.js';

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'a read-only file system',
  ENOSPC: 'the disk is full',
  ENOENT: 'the file system there takes no new directories',
  ENOTDIR: 'a file is in the way',
  EEXIST: 'a file is in the way',
};

function failure(path: string, at: string, err: NodeJS.ErrnoException): UserError {
  return new UserError(`${path} cannot be made a directory: ${WHY[err.code ?? ''] ?? err.message} at ${at}${err.code ? ` (${err.code})` : ''}`);
}

/**
 * Walks up from `dir` to the nearest path that exists: it must be a directory. Returns it, and
 * the missing paths below it, outermost first.
 */
async function nearestExisting(dir: string): Promise<{ existing?: string; missing: string[] }> {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    const st = await stat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw failure(dir, p, err);
    });
    if (st) {
      if (!st.isDirectory()) throw failure(dir, p, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }));
      return { existing: p, missing };
    }
    if (dirname(p) === p) return { missing };
    missing.unshift(p);
  }
}

/** Makes `dir` and any missing parents; an existing directory is fine. */
export async function makeDirs(dir: string): Promise<void> {
  for (const p of (await nearestExisting(dir)).missing) {
    try {
      await mkdir(p);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // made meanwhile by someone else: fine if it is a directory
      if (e.code === 'EEXIST' && (await stat(p).catch(() => undefined))?.isDirectory()) continue;
      throw failure(dir, p, e);
    }
  }
}

/**
 * Whether makeDirs(dir) can work, without making anything: the nearest existing ancestor must
 * be a writable directory. Inputs are checked this way first, so a run refused for another
 * input leaves no directories behind.
 */
export async function checkDirs(dir: string): Promise<void> {
  const { existing } = await nearestExisting(dir);
  if (!existing) return;
  try {
    await access(existing, constants.W_OK);
  } catch (err) {
    throw failure(dir, existing, err as NodeJS.ErrnoException);
  }
}
