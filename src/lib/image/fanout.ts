// One source stream written to several sinks at once, at the pace of the slowest: memory stays
// bounded whatever the blob size. A sink that fails is dropped; the others go on.
import { PassThrough, type Readable } from 'node:stream';

export type Sink = (body: Readable) => Promise<void>;

/** Returns, per sink, undefined on success or its error. */
export async function fanOut(src: Readable, sinks: Sink[]): Promise<(unknown | undefined)[]> {
  if (sinks.length === 1) {
    const err = await sinks[0](src).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err !== undefined) src.destroy();
    return [err];
  }
  const passes = sinks.map(() => new PassThrough({ highWaterMark: 1024 * 1024 }).on('error', () => undefined));
  const live = new Set(passes.keys());
  const waiting = new Set<number>();
  const maybeResume = () => {
    if (waiting.size === 0 && src.isPaused()) src.resume();
  };
  src.on('data', (chunk: Buffer) => {
    for (const i of live) {
      if (!passes[i].write(chunk) && !waiting.has(i)) {
        waiting.add(i);
        passes[i].once('drain', () => {
          waiting.delete(i);
          maybeResume();
        });
      }
    }
    if (waiting.size) src.pause();
  });
  src.on('end', () => {
    for (const i of live) passes[i].end();
  });
  src.on('error', (err) => {
    for (const i of live) passes[i].destroy(err);
  });
  const results = await Promise.all(
    sinks.map((sink, i) =>
      sink(passes[i]).then(
        () => undefined,
        (e: unknown) => {
          live.delete(i);
          waiting.delete(i);
          passes[i].destroy();
          if (live.size === 0) src.destroy();
          else maybeResume();
          return e;
        },
      ),
    ),
  );
  return results;
}
