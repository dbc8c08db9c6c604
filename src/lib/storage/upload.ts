// Uploads a set of files to one destination: files in parallel (bounded), each hashed once,
// skipped when unchanged, verified after upload; progress with rate and ETA.
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { OptionError, UserError } from '../errors.js';
import { formatBytes } from '../format.js';
import { extname } from 'node:path';
import { mapLimit } from '../concurrency.js';
import { Progress, warning } from '../log.js';
import { describeFile, multipartEtag } from './describe.js';
import type { SourceFile } from './select.js';
import { VerificationError, type Storage, type UploadResult } from './types.js';

/** Uploads of one file that the store may get wrong before the step fails. */
const VERIFY_ATTEMPTS = 3;

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
  '.sha512': 'text/plain; charset=utf-8',
  '.asc': 'application/pgp-signature',
  '.sig': 'application/pgp-signature',
  '.pem': 'application/x-pem-file',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.raw': 'application/octet-stream',
  '.qcow2': 'application/octet-stream',
};

/**
 * Defaults chosen by measurement (bench/upload-peers.ts, README "Performance"): 16 parts of
 * 16 MiB at once upload 1 GiB over 50 ms round trips with a 30 Mbit/s cap per connection in 21 s
 * (4 parts of 64 MiB: 72 s), peak RSS about 130 MB (parts stream from the file, none is held).
 */
export const PART_SIZE = 16 * 1024 * 1024;
export const PART_CONCURRENCY = 16;

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

/** Refuses a part size the store would refuse at the end of a long upload (an OptionError: partSize). */
function checkPartSize(files: SourceFile[], storage: Storage, partSize: number): void {
  const limits = storage.limits;
  if (!limits) return;
  const multipart = files.filter((f) => f.size > partSize);
  if (multipart.length && limits.minPartSize && partSize < limits.minPartSize)
    throw new OptionError(
      'partSize',
      `${formatBytes(partSize)} is below the ${formatBytes(limits.minPartSize)} a part must be at ${storage.base} (${multipart[0].path} goes up in parts)`,
    );
  for (const f of multipart) {
    const parts = Math.ceil(f.size / partSize);
    if (parts > limits.maxParts)
      throw new OptionError(
        'partSize',
        `${f.path} (${formatBytes(f.size)}) would take ${parts} parts of ${formatBytes(partSize)}, and ${storage.base} takes at most ${limits.maxParts}; use a part size of at least ${formatBytes(Math.ceil(f.size / limits.maxParts))}`,
      );
  }
}

/** What tells that a file changed: its size, modification time and inode. */
function fingerprint(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}

export async function uploadAll(files: SourceFile[], storage: Storage, opts: UploadAllOptions): Promise<UploadedObject[]> {
  checkPartSize(files, storage, opts.partSize);
  await storage.check?.();
  const total = files.reduce((n, f) => n + f.size, 0);
  const progress = new Progress({ label: opts.dryRun ? 'upload (dry run)' : 'upload', totalItems: files.length, totalBytes: total, itemName: 'files' });
  const out = await mapLimit(files, opts.concurrency, async (f): Promise<UploadedObject> => {
    // the file as it is now (it may have grown since it was listed); it must stay so until verified
    const before = await stat(f.path);
    f = { ...f, size: before.size };
    const changed = async () => {
      const now = await stat(f.path).catch(() => undefined);
      return !now || fingerprint(now) !== fingerprint(before);
    };
    const changedError = (cause?: unknown) =>
      new UserError(
        `${f.path} changed while it was uploaded (size, time or inode); ${storage.shown?.(f.key) ?? storage.url(f.key)} may not match it: upload it again once it is final`,
        { cause },
      );
    const local = await describeFile(f.path, f.key, f.size, opts.partSize, {
      crc64: storage.wantsCrc64,
      crc64nvme: storage.wantsCrc64nvme && opts.verify,
      partMd5s: opts.skipUnchanged,
    });
    const base = { key: f.key, url: storage.shown?.(f.key) ?? storage.url(f.key), size: f.size, sha256: local.sha256 };
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
    const send = () =>
      storage.upload(local, {
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
    let r: UploadResult | undefined;
    for (let attempt = 1; !r; attempt++) {
      try {
        r = await send();
      } catch (err) {
        // a mismatch caused by the file changing under us is named as such, not as corruption
        if (await changed()) throw changedError(err);
        if (!(err instanceof VerificationError)) throw err;
        // what the store holds is not the file: it does not stay under the file's name
        const removed = await (storage.remove?.(f.key).then(
          () => true,
          () => false,
        ) ?? Promise.resolve(false));
        if (removed && attempt < VERIFY_ATTEMPTS) {
          warning(`${err.message}; removed it, uploading again (${attempt + 1} of ${VERIFY_ATTEMPTS})`);
          continue;
        }
        throw new VerificationError(
          `${err.message}; ${removed ? `removed it after ${attempt} attempt${attempt > 1 ? 's' : ''}` : `it could not be removed: delete ${base.url} by hand`}`,
          { cause: err },
        );
      }
    }
    if (await changed()) throw changedError();
    progress.add({ items: 1 });
    return { ...base, url: r.url, status: 'uploaded', verified: r.verified, partsSent: r.partsSent };
  });
  progress.done();
  return out;
}
