// The copy engine: source → one or more targets, byte for byte. One Copier per run shares
// what it learns: each blob is fetched once and then mounted or found by HEAD wherever else it
// is needed; manifests go up only after every blob they reference is in place, children
// before the index, so a failed run never leaves a tag pointing at missing content.
import type { Readable } from 'node:stream';
import { Semaphore } from '../concurrency.js';
import { UserError } from '../errors.js';
import { backoffDelay, isRetryable, sleep } from '../retry.js';
import type { Digest } from '../registry/digest.js';
import { fanOut } from './fanout.js';
import { filterIndex, parseManifest, platformMatches, platformString, type Descriptor, type Manifest, type Platform } from './manifest.js';
import type { ImageSource, ImageTarget } from './transport.js';
import { readAll } from '../streams.js';

export type TargetStatus = 'copied' | 'skipped' | 'failed' | 'would-copy';

export interface TargetResult {
  target: string;
  status: TargetStatus;
  error?: unknown;
}

/** The source exists but holds none of the requested platforms. */
export class PlatformMismatchError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformMismatchError';
  }
}

export interface CopyResult {
  source: string;
  /** digest of what was (or would be) written: the source's, or the filtered index's */
  digest?: Digest;
  platforms: string[];
  /** requested platforms the source does not have (the ones it has were copied) */
  missingPlatforms?: string[];
  /** bytes fetched from the source for this image */
  bytes: number;
  seconds: number;
  targets: TargetResult[];
  /** set when the source itself could not be read (every target then failed) */
  sourceError?: unknown;
}

/**
 * The first failure a copy met: the source's (it could not be read, so every target failed with
 * it) before any target's. Undefined when every target was copied or already up to date.
 */
export function copyFailure(r: CopyResult): { side: 'source' | 'target'; target?: string; error: unknown } | undefined {
  if (r.sourceError !== undefined) return { side: 'source', error: r.sourceError };
  const t = r.targets.find((x) => x.status === 'failed');
  return t && { side: 'target', target: t.target, error: t.error };
}

export interface CopierOptions {
  blobConcurrency?: number;
  /** attempts per blob and target (the first included) */
  attempts?: number;
  onBytes?: (n: number) => void;
  random?: () => number;
}

export interface CopyOptions {
  platforms?: Platform[];
  dryRun?: boolean;
  /** what planImage() found for this source and these platforms (not fetched again) */
  plan?: ImagePlan;
  /** what check() found for this source and these targets (not asked again) */
  checked?: Check;
}

/** The cheap first look at an image: its digest at the source and at each target. */
export interface Check {
  /** the source's top digest; undefined when a platform filter or plan makes it moot */
  source?: Digest;
  sourceError?: unknown;
  existing: Map<ImageTarget, Digest | undefined>;
  targetErrors: Map<ImageTarget, unknown>;
}

/**
 * Whether the check alone decides the copy (the source could not be read, or every target holds
 * the source's digest or failed its look): copy() given it then reads and sends nothing.
 */
export function settledBy(check: Check, targets: ImageTarget[]): boolean {
  if ('sourceError' in check) return true;
  return check.source !== undefined && targets.every((t) => check.targetErrors.has(t) || check.existing.get(t) === check.source);
}

/** What copying an image involves: its manifests, as they will be written, and the blobs they need. */
export interface ImagePlan {
  top: Manifest;
  children: Manifest[];
  blobs: Descriptor[];
  platforms: string[];
  missingPlatforms: string[];
}

/**
 * Defaults chosen by measurement (bench/peers.ts, README "Performance"): on a link with 80 ms
 * round trips and a 30 Mbit/s cap per connection, 16 images and 32 blobs at once sync 20 images
 * in half the time 4 and 8 take, with the same time on loopback and peak RSS under 150 MB (blobs
 * stream through, none is held whole). The inputs cap them for registries that rate-limit.
 */
export const IMAGE_CONCURRENCY = 16;
export const BLOB_CONCURRENCY = 32;

export class Copier {
  private readonly sem: Semaphore;
  /** `${store}|${repository}|${digest}` known present */
  private readonly present = new Set<string>();
  /** `${store}|${digest}` → repositories of that store known to hold it */
  private readonly holders = new Map<string, Set<string>>();
  /** `${store}|${repository}|${digest}` → a child manifest pushed (or being pushed) there */
  private readonly childPuts = new Map<string, Promise<void>>();
  /** `${store}|${digest}` → a transfer in progress */
  private readonly inflight = new Map<string, Promise<void>>();
  readonly stats = { blobsFetched: 0, blobsMounted: 0, blobsFound: 0, bytesFetched: 0 };

  constructor(private readonly opts: CopierOptions = {}) {
    this.sem = new Semaphore(opts.blobConcurrency ?? BLOB_CONCURRENCY);
  }

  async copy(source: ImageSource, targets: ImageTarget[], opts: CopyOptions = {}): Promise<CopyResult> {
    const started = Date.now();
    const result: CopyResult = { source: source.name, platforms: [], bytes: 0, seconds: 0, targets: [] };
    const done = () => ({ ...result, seconds: (Date.now() - started) / 1000 });
    const failAll = (err: unknown) => {
      result.sourceError = err;
      result.targets = targets.map((t) => ({ target: t.name, status: 'failed', error: err }));
      return done();
    };

    // 1. Cheap check first: HEAD both sides; identical digests need nothing more.
    let remaining = [...targets];
    const { existing, targetErrors, ...head } = opts.checked ?? (await this.check(source, targets, opts));
    if ('sourceError' in head) return failAll(head.sourceError);
    const srcDigest = head.source;
    const settle = (digest: Digest) => {
      result.digest = digest;
      for (const t of remaining) {
        if (targetErrors.has(t)) result.targets.push({ target: t.name, status: 'failed', error: targetErrors.get(t) });
        else if (existing.get(t) === digest) result.targets.push({ target: t.name, status: 'skipped' });
      }
      remaining = remaining.filter((t) => !targetErrors.has(t) && existing.get(t) !== digest);
    };
    if (srcDigest) {
      settle(srcDigest);
      if (remaining.length === 0) return done();
    }

    // 2. Read the source: top manifest, platform filter, children, the blobs they need.
    let plan: ImagePlan;
    try {
      plan = opts.plan ?? (await this.plan(source, opts.platforms));
    } catch (err) {
      return failAll(err);
    }
    result.platforms = plan.platforms;
    if (plan.missingPlatforms.length) result.missingPlatforms = plan.missingPlatforms;
    if (!srcDigest || plan.top.digest !== srcDigest) {
      result.targets = [];
      remaining = [...targets];
      settle(plan.top.digest);
    }
    if (remaining.length === 0) return done();
    if (opts.dryRun) {
      for (const t of remaining) result.targets.push({ target: t.name, status: 'would-copy' });
      return done();
    }

    // 3. Blobs, each fetched once for every target that lacks it.
    const failed = new Map<ImageTarget, unknown>();
    await Promise.all(
      plan.blobs.map(async (b) => {
        const live = remaining.filter((t) => !failed.has(t));
        if (live.length === 0) return;
        const errs = await this.ensureBlob(b, source, live, (n) => (result.bytes += n));
        for (const [t, e] of errs) if (!failed.has(t)) failed.set(t, e);
      }),
    );

    // 4. Manifests: children by digest, then the top one under the tag.
    await Promise.all(
      remaining.map(async (t) => {
        if (failed.has(t)) {
          result.targets.push({ target: t.name, status: 'failed', error: failed.get(t) });
          return;
        }
        try {
          for (const child of plan.children) await this.putChild(t, child);
          await t.putManifest(plan.top, true);
          result.targets.push({ target: t.name, status: 'copied' });
        } catch (err) {
          result.targets.push({ target: t.name, status: 'failed', error: err });
        }
      }),
    );
    return done();
  }

  /**
   * HEADs of the source and every target at once: one round trip. A caller may run it for many
   * images ahead of copy() (whose work is bounded more tightly), so an image already everywhere
   * costs one round trip however long the list.
   */
  async check(source: ImageSource, targets: ImageTarget[], opts: Pick<CopyOptions, 'platforms' | 'plan'> = {}): Promise<Check> {
    const existing = new Map<ImageTarget, Digest | undefined>();
    const targetErrors = new Map<ImageTarget, unknown>();
    const srcHead = opts.platforms || opts.plan ? Promise.resolve(undefined) : source.headTop();
    srcHead.catch(() => undefined); // (awaited below; not an unhandled rejection meanwhile)
    await Promise.all(targets.map(async (t) => existing.set(t, await t.headTop().catch((e: unknown) => (targetErrors.set(t, e), undefined)))));
    try {
      return { source: await srcHead, existing, targetErrors };
    } catch (err) {
      return { sourceError: err, existing, targetErrors };
    }
  }

  /**
   * A child manifest (by digest) once per repository, however many targets there share it (an
   * archive target records each image's children itself, so each of its targets gets them).
   */
  private putChild(t: ImageTarget, child: Manifest): Promise<void> {
    if (!t.location) return t.putManifest(child, false);
    const k = this.key(t, child.digest);
    let put = this.childPuts.get(k);
    if (!put) {
      put = t.putManifest(child, false);
      this.childPuts.set(k, put);
      // a failed push may be tried again by a later copy
      put.catch(() => this.childPuts.delete(k));
    }
    return put;
  }

  /** Reads what copying the image will take, without copying (to plan an archive's layout first). */
  planImage(source: ImageSource, platforms?: Platform[]): Promise<ImagePlan> {
    return this.plan(source, platforms);
  }

  private async plan(source: ImageSource, platforms: Platform[] | undefined): Promise<ImagePlan> {
    let top = await source.top();
    const parsed = parseManifest(top, source.name);
    const children: Manifest[] = [];
    const blobs = new Map<Digest, Descriptor>();
    const names: string[] = [];
    const missing: string[] = [];
    const addImage = (m: Manifest, what: string) => {
      const p = parseManifest(m, what);
      if (p.kind !== 'image') throw new UserError(`${what}: nested indexes are not supported`);
      for (const d of [p.config, ...p.layers]) {
        if (d.urls?.length && d.mediaType.includes('foreign')) continue; // non-distributable layers stay where they are
        blobs.set(d.digest, d);
      }
    };
    if (parsed.kind === 'index') {
      let entries = parsed.manifests;
      if (platforms) {
        const f = filterIndex(top, platforms);
        if (f.kept.length === 0)
          throw new PlatformMismatchError(
            `${source.name}: none of its platforms (${parsed.manifests.map((d) => platformString(d.platform)).join(', ')}) matches ${platforms.map(platformString).join(', ')}`,
          );
        top = f.manifest;
        entries = f.kept;
        missing.push(...platforms.filter((p) => !parsed.manifests.some((d) => platformMatches(d.platform, p))).map(platformString));
      }
      // every child at once (one round trip, not one per platform), kept in the index's order
      const fetched = await Promise.all(entries.map((d) => source.manifest(d)));
      for (const [i, d] of entries.entries()) {
        addImage(fetched[i], `${source.name}@${d.digest}`);
        children.push(fetched[i]);
        names.push(platformString(d.platform));
      }
    } else {
      addImage(top, source.name);
      const cfg = JSON.parse((await readAll(await source.blob(parsed.config))).toString('utf8')) as Partial<Platform>;
      const own = cfg.os && cfg.architecture ? (cfg as Platform) : undefined;
      if (platforms && !platforms.some((p) => platformMatches(own, p)))
        throw new PlatformMismatchError(`${source.name} is a single-platform image for ${platformString(own)}, which matches none of ${platforms.map(platformString).join(', ')}`);
      if (platforms) missing.push(...platforms.filter((p) => !platformMatches(own, p)).map(platformString));
      names.push(own ? platformString(own) : 'unknown');
    }
    return { top, children, blobs: [...blobs.values()], platforms: names, missingPlatforms: missing };
  }

  private key(t: ImageTarget, digest: Digest): string {
    return `${t.store}|${t.location?.repository ?? ''}|${digest}`;
  }

  private markPresent(t: ImageTarget, digest: Digest): void {
    this.present.add(this.key(t, digest));
    if (t.location) {
      const hk = `${t.store}|${digest}`;
      let set = this.holders.get(hk);
      if (!set) this.holders.set(hk, (set = new Set()));
      set.add(t.location.repository);
    }
  }

  /** Present already, found by HEAD, or mounted from a repository of the same registry. */
  private async satisfy(t: ImageTarget, d: Descriptor, source: ImageSource): Promise<boolean> {
    if (this.present.has(this.key(t, d.digest))) return true;
    const sk = `${t.store}|${d.digest}`;
    if (t.mountBlob && t.location) {
      const candidates = new Set<string>(this.holders.get(sk) ?? []);
      if (source.location && `docker://${source.location.registry}` === t.store) candidates.add(source.location.repository);
      candidates.delete(t.location.repository);
      for (const from of [...candidates].slice(0, 2)) {
        if (await t.mountBlob(d, from)) {
          this.stats.blobsMounted++;
          this.markPresent(t, d.digest);
          return true;
        }
      }
    }
    if (await t.hasBlob(d)) {
      this.stats.blobsFound++;
      this.markPresent(t, d.digest);
      return true;
    }
    return false;
  }

  /** Makes one blob present in every target; returns the targets that failed, with why. */
  private ensureBlob(d: Descriptor, source: ImageSource, targets: ImageTarget[], onBytes: (n: number) => void): Promise<Map<ImageTarget, unknown>> {
    return this.sem.run(async () => {
      // One transfer of a blob into a store at a time: wait while one is under way, then claim
      // the stores in the same tick as the check that found them free (so two images sharing a
      // layer never both find it missing and both send it); the one that waited then mounts it.
      const stores = [...new Set(targets.map((t) => `${t.store}|${d.digest}`))];
      const busy = () => stores.map((s) => this.inflight.get(s)).filter((p): p is Promise<void> => p !== undefined);
      for (let b = busy(); b.length; b = busy()) await Promise.all(b.map((p) => p.catch(() => undefined)));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      for (const s of stores) this.inflight.set(s, gate);
      try {
        return await this.ensureClaimed(d, source, targets, onBytes);
      } finally {
        for (const s of stores) if (this.inflight.get(s) === gate) this.inflight.delete(s);
        release();
      }
    });
  }

  /** ensureBlob's work, with the blob's stores claimed. */
  private async ensureClaimed(d: Descriptor, source: ImageSource, targets: ImageTarget[], onBytes: (n: number) => void): Promise<Map<ImageTarget, unknown>> {
    const errors = new Map<ImageTarget, unknown>();
    const need: ImageTarget[] = [];
    await Promise.all(
      targets.map(async (t) => {
        try {
          if (!(await this.satisfy(t, d, source))) need.push(t);
        } catch (err) {
          errors.set(t, err);
        }
      }),
    );
    if (need.length === 0) return errors;
    // targets that are one place (two tags of one repository) take one transfer between them
    const places = new Map<string, ImageTarget[]>();
    for (const t of need) {
      const k = this.key(t, d.digest);
      places.set(k, [...(places.get(k) ?? []), t]);
    }
    const sending = [...places.values()].map((ts) => ts[0]);
    const failed = await this.transfer(d, source, sending, onBytes);
    for (const ts of places.values()) {
      const e = failed.get(ts[0]);
      for (const t of ts) if (e !== undefined) errors.set(t, e);
    }
    return errors;
  }

  /** Fetches a blob once and streams it to every target; failed targets get fresh attempts. */
  private async transfer(d: Descriptor, source: ImageSource, targets: ImageTarget[], onBytes: (n: number) => void): Promise<Map<ImageTarget, unknown>> {
    const attempts = this.opts.attempts ?? 5;
    const errors = new Map<ImageTarget, unknown>();
    let pending = targets;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let src: Readable;
      try {
        src = await source.blob(d, (n) => {
          this.stats.bytesFetched += n;
          onBytes(n);
          this.opts.onBytes?.(n);
        });
      } catch (err) {
        if (attempt >= attempts || !isRetryable(err)) {
          for (const t of pending) errors.set(t, err);
          break;
        }
        await sleep(backoffDelay(attempt, 250, 10_000, this.opts.random ?? Math.random));
        continue;
      }
      this.stats.blobsFetched++;
      // Its consumer may not be attached yet when it fails; the consumer sees `errored`.
      src.on('error', () => undefined);
      const results = await fanOut(
        src,
        pending.map((t) => (body: Readable) => t.putBlob(d, body, () => source.blob(d))),
      );
      const next: ImageTarget[] = [];
      results.forEach((err, i) => {
        const t = pending[i];
        if (err === undefined) this.markPresent(t, d.digest);
        else if (attempt < attempts && isRetryable(err)) next.push(t);
        else errors.set(t, err);
      });
      pending = next;
      if (pending.length) await sleep(backoffDelay(attempt, 250, 10_000, this.opts.random ?? Math.random));
    }
    return errors;
  }
}
