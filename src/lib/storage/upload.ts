// Uploads a set of files to one destination: files in parallel (bounded), each hashed once,
// skipped when unchanged, verified after upload; progress with rate and ETA.
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { mapLimit } from '../concurrency.js';
import { Progress } from '../log.js';
import { describeFile, multipartEtag } from './local.js';
import type { SourceFile } from './select.js';
import type { Storage } from './types.js';

const TYPES: Record<string, string> = {
  '.tar': 'application/x-tar',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.xz': 'application/x-xz',
  '.zip': 'application/zip',
  '.json': 'application/json',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.txt': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.raw': 'application/octet-stream',
  '.qcow2': 'application/octet-stream',
};

export function contentTypeOf(key: string): string {
  return TYPES[extname(key).toLowerCase()] ?? 'application/octet-stream';
}

export interface UploadedObject {
  key: string;
  url: string;
  size: number;
  sha256: string;
  status: 'uploaded' | 'skipped' | 'would-upload';
  verified?: string;
  partsSent?: number;
}

export interface UploadAllOptions {
  concurrency: number;
  partSize: number;
  partConcurrency: number;
  skipUnchanged: boolean;
  verify: boolean;
  dryRun: boolean;
  resume: boolean;
  stateDir: string;
  contentType?: string;
  cacheControl?: string;
  acl?: string;
}

export async function uploadAll(files: SourceFile[], storage: Storage, opts: UploadAllOptions): Promise<UploadedObject[]> {
  await storage.check?.();
  const total = files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress({ label: opts.dryRun ? 'upload (dry run)' : 'upload', totalItems: files.length, totalBytes: total, itemName: 'files' });
  const out = await mapLimit(files, opts.concurrency, async (f): Promise<UploadedObject> => {
    const local = await describeFile(f.path, f.key, f.size, opts.partSize, { crc64: storage.wantsCrc64, crc64nvme: storage.wantsCrc64nvme && opts.verify, partMd5s: opts.skipUnchanged });
    const base = { key: f.key, url: storage.url(f.key), size: f.size, sha256: local.sha256 };
    if (opts.skipUnchanged) {
      const remote = await storage.head(f.key);
      const etag = f.size <= opts.partSize ? local.md5 : multipartEtag(local.partMd5s ?? []);
      if (remote && remote.size === f.size && (remote.sha256 === local.sha256 || (!remote.sha256 && (remote.etag === etag || (!!remote.crc64 && remote.crc64 === local.crc64))))) {
        progress.add({ items: 1 });
        return { ...base, status: 'skipped' };
      }
    }
    if (opts.dryRun) {
      progress.add({ items: 1 });
      return { ...base, status: 'would-upload' };
    }
    const r = await storage.upload(local, {
      contentType: opts.contentType || contentTypeOf(f.key),
      cacheControl: opts.cacheControl,
      acl: opts.acl,
      partConcurrency: opts.partConcurrency,
      verify: opts.verify,
      resume: opts.resume,
      stateDir: opts.stateDir,
      onBytes: (n) => progress.add({ bytes: n }),
      open: (start, end) => createReadStream(f.path, { start, end, highWaterMark: 1024 * 1024 }),
    });
    progress.add({ items: 1 });
    return { ...base, url: r.url, status: 'uploaded', verified: r.verified, partsSent: r.partsSent };
  });
  progress.done();
  return out;
}
