// Multipart checkpoints: upload id and finished parts, kept in a state directory so a re-run
// after a crash sends only the missing parts. Written atomically (write + rename).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  save(c: Checkpoint): Promise<void> {
    this.writing = this.writing.then(async () => {
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeFile(`${this.path}.tmp`, JSON.stringify(c));
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.writing;
  }
  async remove(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}
