// Multipart checkpoints: upload id and finished parts, kept in a state directory so a re-run
// after a crash sends only the missing parts. Written atomically (write + rename).
import { makeDirs } from '../dirs.js';
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Checkpoint {
  /** the object, e.g. s3://bucket/key (for the post step's cleanup) */
  url: string;
  uploadId: string;
  /** part number → ETag */
  parts: Record<number, string>;
}

/** Every checkpoint left in a state directory (uploads begun and not completed). */
export async function listCheckpoints(stateDir: string): Promise<(Checkpoint & { file: string })[]> {
  const { readdir } = await import('node:fs/promises');
  const out: (Checkpoint & { file: string })[] = [];
  for (const f of await readdir(stateDir).catch(() => [] as string[])) {
    if (!f.endsWith('.json')) continue;
    try {
      const c = JSON.parse(await readFile(join(stateDir, f), 'utf8')) as Checkpoint;
      if (c.uploadId && c.url) out.push({ ...c, file: join(stateDir, f) });
    } catch {
      // not ours
    }
  }
  return out;
}

export class CheckpointFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();
  /** the write not begun yet, which will hold the latest state */
  private next?: Promise<void>;
  private latest?: Checkpoint;
  constructor(stateDir: string, identity: string) {
    this.path = join(stateDir, `${createHash('sha256').update(identity).digest('hex').slice(0, 32)}.json`);
  }
  async load(): Promise<Checkpoint | undefined> {
    try {
      const c = JSON.parse(await readFile(this.path, 'utf8')) as Checkpoint;
      return c.uploadId ? c : undefined;
    } catch {
      return undefined;
    }
  }
  /**
   * Records `c`. Saves that come while a write is under way are folded into one next write of
   * the latest state (not one write per part); the promise settles once a write holding `c` has.
   */
  save(c: Checkpoint): Promise<void> {
    this.latest = c;
    this.next ??= this.writing.then(async () => {
      this.next = undefined;
      const state = JSON.stringify(this.latest);
      await makeDirs(join(this.path, '..'));
      await writeFile(`${this.path}.tmp`, state);
      await rename(`${this.path}.tmp`, this.path);
    });
    this.writing = this.next;
    return this.next;
  }
  async remove(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

export interface MultipartPlan {
  cp: CheckpointFile;
  state: Checkpoint;
  /** part numbers still to send (1-based) */
  todo: number[];
  /** the upload was taken from a checkpoint (its id may be gone since) */
  resumed: boolean;
  count: number;
  /** byte range [start, end) of a part */
  range(n: number): [number, number];
}

/**
 * Where a multipart upload stands: resumed from its checkpoint, or begun with `create` (which
 * returns the new upload id) and checkpointed at once.
 */
export async function planMultipart(o: {
  stateDir: string;
  /** what makes two uploads the same one (store, URL, the file's sha256, part size) */
  identity: string;
  url: string;
  size: number;
  partSize: number;
  resume: boolean;
  create: () => Promise<string>;
  log: (line: string) => void;
  /** without resume, an upload a checkpoint recorded is aborted (not left to linger in the bucket) */
  abort?: (uploadId: string) => Promise<void>;
}): Promise<MultipartPlan> {
  const { stateDir, identity, url, size, partSize, resume, create, log, abort } = o;
  const cp = new CheckpointFile(stateDir, identity);
  let state = await cp.load();
  if (state && !resume) {
    log(`${url}: resume is off: aborting the recorded upload ${state.uploadId}`);
    await abort?.(state.uploadId).catch((e: Error) => log(`${url}: the abort of ${state!.uploadId} failed: ${e.message}`));
    await cp.remove();
    state = undefined;
  }
  const resumed = state !== undefined;
  if (state) log(`${url}: resuming upload ${state.uploadId} with ${Object.keys(state.parts).length} parts done`);
  else {
    state = { url, uploadId: await create(), parts: {} };
    await cp.save(state);
  }
  const done = state.parts;
  const count = Math.ceil(size / partSize);
  return {
    cp,
    state,
    resumed,
    count,
    todo: Array.from({ length: count }, (_, i) => i + 1).filter((n) => !done[n]),
    range: (n) => [(n - 1) * partSize, Math.min(size, n * partSize)],
  };
}

/**
 * After a failure: was it a resumed checkpoint whose upload is gone (completed, aborted or
 * expired since), before any part went up? Then the checkpoint is dropped and the caller starts
 * a new upload.
 */
export async function dropIfStale(plan: MultipartPlan, sent: number, uploadGone: boolean, log: (line: string) => void): Promise<boolean> {
  if (!plan.resumed || sent > 0 || !uploadGone) return false;
  log(`${plan.state.url}: the checkpointed upload ${plan.state.uploadId} no longer exists; starting a new one`);
  await plan.cp.remove();
  return true;
}
