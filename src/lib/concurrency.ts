// Bounded concurrency: a counting semaphore, and a bounded parallel map.
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly limit: number) {
    if (limit < 1) throw new Error('internal: semaphore limit must be at least 1');
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

/**
 * Runs fn over items with at most `limit` at once; results in input order. After a failure no
 * new item starts, the signal given to the running ones is aborted (so they stop retrying), and
 * the call settles only once they have: nothing it began keeps working (writing, sending) after
 * it has failed. The first failure is thrown.
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number, signal: AbortSignal) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  const failed = new AbortController();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i, failed.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          failed.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}
