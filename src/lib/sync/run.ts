// Runs a sync plan: images copied in parallel (bounded), blobs shared across the whole run,
// results classified for the report and the successors of miss_image.txt/miss_push_image.txt.
import { Semaphore } from '../concurrency.js';
import { errorMessage } from '../errors.js';
import { Copier, PlatformMismatchError, settledBy, type CopyResult } from '../image/copy.js';
import type { ImageOpener } from '../image/open.js';
import type { Platform } from '../image/manifest.js';
import { Progress, warning } from '../log.js';
import { formatReference } from '../registry/reference.js';
import type { SyncItem } from './plan.js';

/** `no-platform`: the source is there but holds none of the requested platforms (not a missing source). */
export type ImageResult = 'synced' | 'skipped' | 'failed' | 'missing-source' | 'no-platform' | 'would-sync' | 'not-attempted';

export interface ReportEntry {
  source: string;
  result: ImageResult;
  digest?: string;
  platforms: string[];
  /** requested platforms the source lacks (what it has was copied) */
  missingPlatforms?: string[];
  bytes: number;
  seconds: number;
  targets: { target: string; result: string; error?: string }[];
  error?: string;
}

export interface SyncReport {
  entries: ReportEntry[];
  synced: number;
  skipped: number;
  failed: number;
  /** sources whose pull failed (not found, denied, unreachable): one per line, usable as images */
  missingSource: string[];
  /** sources with at least one target that failed: one per line, usable as images */
  failedPush: string[];
  /** sources that hold none of the requested platforms (in neither list: a re-run would not help) */
  noPlatform: string[];
  bytes: number;
  blobsFetched: number;
  blobsMounted: number;
  blobsFound: number;
}

export interface SyncOptions {
  items: SyncItem[];
  /** how sources and targets are reached (registryOpener(pool) for registries) */
  open: ImageOpener;
  concurrency: number;
  blobConcurrency: number;
  platforms?: Platform[];
  dryRun?: boolean;
  failFast?: boolean;
  progressIntervalMs?: number;
}

function classify(item: SyncItem, r: CopyResult): ReportEntry {
  const targets = r.targets.map((t) => ({ target: t.target, result: t.status, ...(t.error !== undefined ? { error: errorMessage(t.error) } : {}) }));
  let result: ImageResult;
  // Any pull-side failure (not found, denied, unreachable) is a missing source, as in
  // miss_image.txt; a source without the requested platforms is there, and a re-run won't help.
  if (r.sourceError instanceof PlatformMismatchError) result = 'no-platform';
  else if (r.sourceError !== undefined) result = 'missing-source';
  else if (r.targets.some((t) => t.status === 'failed')) result = 'failed';
  else if (r.targets.every((t) => t.status === 'skipped')) result = 'skipped';
  else if (r.targets.some((t) => t.status === 'would-copy')) result = 'would-sync';
  else result = 'synced';
  return {
    source: formatReference(item.source),
    result,
    digest: r.digest,
    platforms: r.platforms,
    ...(r.missingPlatforms ? { missingPlatforms: r.missingPlatforms } : {}),
    bytes: r.bytes,
    seconds: Math.round(r.seconds * 1000) / 1000,
    targets,
    ...(r.sourceError !== undefined ? { error: errorMessage(r.sourceError) } : {}),
  };
}

/**
 * The lines of a retry file, fed back as `images`: the source alone, or, for an image from a
 * YAML list (its targets given with it), `source: [targets]`, so it goes where it was meant to.
 */
function retryLines(entries: ReportEntry[], items: SyncItem[], pick: (e: ReportEntry) => boolean): string[] {
  return entries.flatMap((e, i) => {
    if (!pick(e)) return [];
    const item = items[i];
    return [item.yaml ? `${e.source}: [${item.targets.map(formatReference).join(', ')}]` : e.source];
  });
}

const FAILED = ['missing-source', 'no-platform', 'failed'] as const;
const failed = (r: ImageResult): r is (typeof FAILED)[number] => (FAILED as readonly ImageResult[]).includes(r);

/** Images whose source and targets are looked up (HEAD) at once, ahead of the copying. */
export const CHECK_CONCURRENCY = 64;

export async function runSync(opts: SyncOptions): Promise<SyncReport> {
  const progress = new Progress({ label: opts.dryRun ? 'sync (dry run)' : 'sync', totalItems: opts.items.length, itemName: 'images', intervalMs: opts.progressIntervalMs });
  const copier = new Copier({ blobConcurrency: opts.blobConcurrency, onBytes: (n) => progress.add({ bytes: n }) });
  let stop = false;
  // Two limits: the cheap check (HEADs) of many images at once, so a list already in place is
  // one round trip, not one per `concurrency` images; the copying of `concurrency` at a time.
  const checks = new Semaphore(Math.max(opts.concurrency, CHECK_CONCURRENCY));
  const copies = new Semaphore(opts.concurrency);
  const notAttempted = (item: SyncItem): ReportEntry => ({ source: formatReference(item.source), result: 'not-attempted', platforms: [], bytes: 0, seconds: 0, targets: [] });
  const entries = await Promise.all(
    opts.items.map(async (item): Promise<ReportEntry> => {
      const source = opts.open.source(item.source);
      const targets = item.targets.map((t) => opts.open.target(t));
      const checked = await checks.run(async () => (stop ? undefined : copier.check(source, targets, { platforms: opts.platforms })));
      // a source the check could not read is a failure already: with fail-fast it stops the
      // copies not yet started, wherever it stands in the list (the checks finish in any order)
      const doomed = checked?.sourceError !== undefined;
      if (opts.failFast && doomed) stop = true;
      const copy = async () => {
        if (!checked || (stop && !doomed)) return undefined;
        const e = classify(item, await copier.copy(source, targets, { platforms: opts.platforms, dryRun: opts.dryRun, checked }));
        if (opts.failFast && failed(e.result)) stop = true;
        return e;
      };
      // an image the check settles (already everywhere, or its source unreadable) needs no copy
      // slot: it does not wait behind large copies. Any other failure stops the others while it
      // still holds its place: the next copy cannot start first.
      const entry = checked && settledBy(checked, targets) ? await copy() : await copies.run(copy);
      if (!entry) return notAttempted(item);
      progress.add({ items: 1 });
      if (entry.missingPlatforms) warning(`${entry.source}: has no ${entry.missingPlatforms.join(', ')} (kept: ${entry.platforms.join(', ')})`);
      if (failed(entry.result)) {
        const why =
          entry.error ??
          entry.targets
            .filter((t) => t.error)
            .map((t) => `${t.target}: ${t.error}`)
            .join('; ');
        const what = { 'missing-source': 'source unavailable', 'no-platform': 'no requested platform', failed: 'failed' }[entry.result];
        warning(`${entry.source}: ${what}: ${why}`);
      }
      return entry;
    }),
  );
  progress.done();
  const count = (r: ImageResult) => entries.filter((e) => e.result === r).length;
  return {
    entries,
    synced: count('synced'),
    skipped: count('skipped'),
    failed: count('failed') + count('missing-source') + count('no-platform') + count('not-attempted'),
    missingSource: retryLines(entries, opts.items, (e) => e.result === 'missing-source'),
    failedPush: retryLines(entries, opts.items, (e) => e.result === 'failed' || e.result === 'not-attempted'),
    noPlatform: entries.filter((e) => e.result === 'no-platform').map((e) => e.source),
    bytes: copier.stats.bytesFetched,
    blobsFetched: copier.stats.blobsFetched,
    blobsMounted: copier.stats.blobsMounted,
    blobsFound: copier.stats.blobsFound,
  };
}
