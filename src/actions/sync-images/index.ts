// sync-images: copy an image list between registries, every platform, digests preserved.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runnerTempOr } from '../../lib/temp.js';
import { UserError } from '../../lib/errors.js';
import { formatBytes, plural } from '../../lib/format.js';
import { RegistryPool, registryOpener } from '../../lib/image/open.js';
import { parsePlatform } from '../../lib/image/manifest.js';
import { validatePlatforms } from '../../lib/docker/build.js';
import { checkInputDirectory, forInput, forInputs, input, inputDirectory, Problems } from '../../lib/inputs.js';
import { info, summary, warning } from '../../lib/log.js';
import { credentialChain, parseRegistryAuth } from '../../lib/registry/auth.js';
import { formatReference, registryHosts } from '../../lib/registry/reference.js';
import { defineAction } from '../../lib/run.js';
import { buildPlan, inShard, loadImageList, parseShard } from '../../lib/sync/plan.js';
import { runSync } from '../../lib/sync/run.js';

export default defineAction({
  name: 'sync-images',
  inputs: {
    images: input.text(),
    'source-registry': input.string(),
    target: input.list(),
    'strip-prefix': input.string(),
    platforms: input.list(),
    concurrency: input.integer({ min: 1, max: 64 }),
    'blob-concurrency': input.integer({ min: 1, max: 128 }),
    'dry-run': input.boolean(),
    'fail-fast': input.boolean(),
    shard: input.string({ pattern: /^\d+\/\d+$/, hint: 'i/n, e.g. 2/4' }),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
    'output-dir': input.string(),
  },
  async main({ inputs, setOutput }) {
    // every input checked, every problem reported together, before anything is made or contacted
    const problems = new Problems();
    const auth = (await problems.check(() => forInput('registry-auth', () => parseRegistryAuth(inputs.registryAuth)))) ?? [];
    const platforms = await problems.check(() =>
      inputs.platforms.length === 0 || inputs.platforms.some((p) => p.toLowerCase() === 'all')
        ? undefined
        : forInput('platforms', () => validatePlatforms(inputs.platforms)).map((p) => parsePlatform(p)),
    );
    // the whole list is checked, not only this shard's part: every shard fails or none does
    const everything = await problems.check(() =>
      forInputs({ list: 'images', targets: 'target', sourceRegistry: 'source-registry' }, () =>
        buildPlan(
          forInput('images', () => loadImageList(inputs.images)),
          { sourceRegistry: inputs.sourceRegistry, targets: inputs.target, stripPrefix: inputs.stripPrefix },
        ),
      ),
    );
    const shard = await problems.check(() => forInput('shard', () => parseShard(inputs.shard)));
    const insecure = await problems.check(() => forInput('insecure-registries', () => registryHosts(inputs.insecureRegistries)));
    const dir = resolve(inputs.outputDir || runnerTempOr('airlift', 'airlift-output'));
    await problems.check(() => checkInputDirectory(dir, 'output-dir', inputs.outputDir || dir));
    if (platforms && everything) {
      const pinned = everything.find((i) => i.targets.some((t) => t.digest && !t.tag));
      if (pinned)
        await problems.check(() => {
          throw new UserError(
            `${pinned.where}: ${formatReference(pinned.source)} is pinned by digest and has no tag, but "platforms" writes a new index with a new digest; give it a tag (repo:tag@digest) or a ":tag" rename`,
          );
        });
    }
    problems.done();
    if (!everything) throw new Error('sync-images: inputs checked without a plan');
    const items = shard ? inShard(everything, shard) : everything;
    const used = new Set(everything.flatMap((i) => [i.source.registry, ...i.targets.map((t) => t.registry)]));
    for (const a of auth) if (!used.has(a.registry)) warning(`registry-auth names ${a.registry}, which no image of this run uses`);
    const targets = new Set(items.flatMap((i) => i.targets.map((t) => `${t.registry}/${t.repository}`)));
    const prefixes = inputs.target.length ? inputs.target : [...new Set(items.flatMap((i) => i.targets.map((t) => t.registry)))];
    info(
      `sync-images: ${plural(items.length, 'image')} → ${prefixes.length === 1 ? prefixes[0] : plural(prefixes.length, 'target')} (${plural(targets.size, 'repository', 'repositories')}${platforms ? `, platforms ${inputs.platforms.join(', ')}` : ', every platform'})${inputs.dryRun ? ', dry run' : ''}`,
    );

    await inputDirectory(dir, 'output-dir', inputs.outputDir || dir);
    const pool = new RegistryPool({ credentials: credentialChain(auth), insecureRegistries: insecure });
    const report = await runSync({
      items,
      open: registryOpener(pool),
      concurrency: inputs.concurrency,
      blobConcurrency: inputs.blobConcurrency,
      platforms,
      dryRun: inputs.dryRun,
      failFast: inputs.failFast,
    });

    const files = { missing: join(dir, 'missing-source.txt'), failed: join(dir, 'failed-push.txt'), report: join(dir, 'sync-report.json') };
    await writeFile(files.missing, report.missingSource.map((s) => `${s}\n`).join(''));
    await writeFile(files.failed, report.failedPush.map((s) => `${s}\n`).join(''));
    await writeFile(files.report, JSON.stringify({ ...report, entries: report.entries }, null, 2) + '\n');

    setOutput('synced', report.synced);
    setOutput('skipped', report.skipped);
    setOutput('failed', report.failed);
    setOutput('missing-source', files.missing);
    setOutput('failed-push', files.failed);
    setOutput('report', files.report);

    summary.heading(`sync-images: ${report.synced} synced, ${report.skipped} up to date, ${report.failed} failed`);
    const rows = report.entries.slice(0, 200).map((e) => [e.source, e.result, e.platforms.join(', '), formatBytes(e.bytes), `${e.seconds}s`, e.digest?.slice(0, 19) ?? '']);
    summary.table(['image', 'result', 'platforms', 'fetched', 'time', 'digest'], rows);
    if (report.entries.length > 200) summary.text(`… and ${report.entries.length - 200} more images: see ${files.report}`);
    summary.text(`Blobs: ${report.blobsFetched} fetched (${formatBytes(report.bytes)}), ${report.blobsMounted} mounted, ${report.blobsFound} already present.`);

    if (report.failed > 0) {
      const first = report.entries.find((e) => e.result !== 'synced' && e.result !== 'skipped' && e.result !== 'would-sync');
      let why = first?.error ?? first?.targets.find((t) => t.error)?.error ?? first?.result ?? '';
      if (first && why.startsWith(`${first.source}: `)) why = why.slice(first.source.length + 2);
      throw new UserError(
        `${report.failed} of ${items.length} images failed (${report.missingSource.length} with an unavailable source${report.noPlatform.length ? `, ${report.noPlatform.length} without a requested platform` : ''}); first: ${first ? `${first.source}: ${why}` : '?'}. Lists to retry: ${files.missing}, ${files.failed}`,
      );
    }
    if (!inputs.dryRun) info(`sync-images: done; every digest matches its source${platforms ? ' (filtered indexes are new digests)' : ''}`);
  },
});
