// build-release-image: check the tag against git describe, derive the tags, build (buildx, or
// the classic builder for one platform), run a check inside the image, push to every
// registry and save for offline use.
import { dirname, resolve } from 'node:path';
import { buildMode, parseCache, resolveBuildFiles, resolveContext, validateKeyValues, validatePlatforms } from '../../lib/docker/build.js';
import { parseCheck } from '../../lib/docker/check.js';
import { hostPlatform } from '../../lib/docker/qemu.js';
import { UserError, within } from '../../lib/errors.js';
import { formatBytes } from '../../lib/format.js';
import { RegistryPool } from '../../lib/image/open.js';
import { forInput, forInputs, input, inputDirectory } from '../../lib/inputs.js';
import { listEntries } from '../../lib/list.js';
import { info, summary } from '../../lib/log.js';
import { credentialChain, parseRegistryAuth } from '../../lib/registry/auth.js';
import { registryHosts, repositoryName } from '../../lib/registry/reference.js';
import { verifyDescribe } from '../../lib/release/describe.js';
import { loadMeta, ociLabels } from '../../lib/release/labels.js';
import { checkPushAccess, PartialPushError, release, type ImageJob } from '../../lib/release/pipeline.js';
import { parseArchiveLines } from '../../lib/release/archives.js';
import { destinationAuth, loadDestinations } from '../../lib/release/registries.js';
import { deriveTags, dockerTag, parseTagRules, releaseTag, versionTag } from '../../lib/release/tags.js';
import { defineAction } from '../../lib/run.js';

export default defineAction({
  name: 'build-release-image',
  inputs: {
    context: input.string(),
    dockerfile: input.string(),
    image: input.string(),
    registries: input.text(),
    tag: input.string(),
    version: input.string(),
    'tag-rules': input.text(),
    'verify-describe': input.boolean(),
    platforms: input.list(),
    'build-args': input.list({ lines: true }),
    labels: input.list({ lines: true }),
    push: input.boolean(),
    cache: input.string(),
    save: input.string(),
    'save-platform': input.string(),
    check: input.text(),
    meta: input.string(),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
    'from-archives': input.text(),
    'update-date': input.string({ pattern: /^(\d{4}-\d{2}-\d{2})?$/, hint: 'a date such as 2023-08-02' }),
  },
  async main({ inputs, setOutput }) {
    // Everything that can be wrong with the inputs is found before anything is built.
    const tag = forInput('tag', () => releaseTag(inputs.tag));
    const version = inputs.version.trim();
    const rules = forInput('tag-rules', () => parseTagRules(inputs.tagRules));
    let platforms = forInput('platforms', () => validatePlatforms(inputs.platforms));
    // publishing from per-architecture archives instead of building
    const archives = inputs.fromArchives.trim()
      ? forInput('from-archives', () =>
          parseArchiveLines(listEntries(inputs.fromArchives, { lines: true }), { version: version || undefined, updateDate: inputs.updateDate || undefined }),
        )
      : undefined;
    if (archives) {
      const listed = archives.map((a) => a.platform);
      if (platforms.length && [...platforms].sort().join() !== [...listed].sort().join())
        throw new UserError(`input "platforms" (${platforms.join(', ')}) differs from the platforms of from-archives (${listed.join(', ')}); leave it empty`);
      platforms = listed;
      // without meta nothing is built: what only a build reads does not apply
      if (!inputs.meta.trim())
        for (const k of ['cache', 'labels', 'build-args'] as const) {
          const v = { cache: inputs.cache.trim() === 'none' ? '' : inputs.cache.trim(), labels: inputs.labels.join(''), 'build-args': inputs.buildArgs.join('') }[k];
          if (v)
            throw new UserError(
              `input "${k}" does not apply with from-archives: the archives' images are published as they are, nothing is built (with meta, it applies to the meta.yml builds)`,
            );
        }
    } else if (inputs.updateDate) throw new UserError('input "update-date" only applies with from-archives (it fills {index})');
    const built = platforms.length ? platforms : [hostPlatform()];
    let save: { path: string; platform: string } | undefined;
    if (inputs.save.trim()) {
      let platform: string;
      if (inputs.savePlatform.trim().toLowerCase() === 'all') platform = 'all';
      else if (inputs.savePlatform.trim()) {
        platform = forInput('save-platform', () => validatePlatforms([inputs.savePlatform]))[0];
        if (!built.includes(platform))
          throw new UserError(`input "save-platform": ${platform} is not built (platforms: ${built.join(', ')}); save one of them, or "all" for an OCI archive`);
      } else if (built.length === 1) platform = built[0];
      else throw new UserError(`input "save-platform" is needed with several platforms: one of ${built.join(', ')} for a docker-load-able archive, or "all" for an OCI archive`);
      const path = resolve(inputs.save.trim());
      await inputDirectory(dirname(path), 'save');
      save = { path, platform };
    }
    const check = forInput('check', () => parseCheck(inputs.check));
    const buildArgs = forInput('build-args', () => validateKeyValues(inputs.buildArgs, /^[A-Za-z_][A-Za-z0-9_]*$/));
    forInput('labels', () => validateKeyValues(inputs.labels, /^[^\s=]+$/));
    const destinations = loadDestinations(inputs.image, inputs.registries, { from: { image: 'input "image"', registries: 'input "registries"' } });
    const credentials = credentialChain([...destinationAuth(destinations), ...forInput('registry-auth', () => parseRegistryAuth(inputs.registryAuth))]);
    const insecure = [
      ...forInput('insecure-registries', () => registryHosts(inputs.insecureRegistries)),
      ...destinations.filter((d) => d.insecure).map((d) => d.repository.registry),
    ];
    const pool = new RegistryPool({ credentials, insecureRegistries: insecure });
    const cache = forInput('cache', () => parseCache(inputs.cache, repositoryName(destinations[0].repository).replace(/[^\w.-]/g, '-')));

    const jobs: ImageJob[] = [];
    // one Dockerfile build, or meta.yml's builds, and/or the published archives
    const files =
      inputs.meta.trim() || archives ? undefined : forInputs({ context: 'context', dockerfile: 'dockerfile' }, () => resolveBuildFiles(inputs.context, inputs.dockerfile));
    const context = files?.context ?? forInput('context', () => resolveContext(inputs.context));
    let reasons: Record<string, string> = {};
    let prerelease = false;
    if (archives || files) {
      // with archives, the published base goes first (its tags from the tag rules); meta.yml's builds may be FROM it
      const d = forInputs({ tag: 'tag', version: 'version', rules: 'tag-rules' }, () => deriveTags(tag, version, rules));
      reasons = d.reasons;
      prerelease = d.prerelease;
      jobs.push(archives ? { tags: d.tags, dockerfile: '', archives: true } : { tags: d.tags, dockerfile: files!.dockerfile });
    }
    if (inputs.meta.trim()) {
      if (inputs.tagRules.trim() && !archives) throw new UserError('input "tag-rules" does not apply with meta: each meta.yml entry names its own tag');
      if (inputs.dockerfile !== 'Dockerfile') throw new UserError('input "dockerfile" does not apply with meta: each meta.yml entry names its own Dockerfile');
      const entries = forInputs({ path: 'meta', version: 'version', tag: 'tag' }, () =>
        loadMeta(resolve(inputs.meta.trim()), { tag: dockerTag(tag, 'tag'), version: version ? versionTag(version) : '' }),
      );
      for (const e of entries)
        jobs.push({
          tags: [e.tag],
          dockerfile: within({ context: 'input "context"', dockerfile: `input "meta", tag ${e.tag}` }, () => resolveBuildFiles(inputs.context, e.dockerfile)).dockerfile,
        });
    }
    if (inputs.verifyDescribe) {
      await verifyDescribe(context, tag);
      info(`verify-describe: git describe is exactly ${tag}, the tree is clean`);
    }
    const mode = jobs.some((j) => !j.archives) ? await forInputs({ platforms: 'platforms' }, () => buildMode(platforms)) : undefined;
    if (inputs.push) {
      await checkPushAccess(destinations, pool, credentials);
      info(`push access to ${destinations.map((d) => repositoryName(d.repository)).join(', ')} confirmed`);
    }
    for (const [t, why] of Object.entries(reasons)) info(`tag ${t}: ${why}`);
    const labels = await forInputs({ extra: 'labels' }, () => ociLabels({ dir: context, version: version || tag, extra: inputs.labels }));

    const res = await forInputs({ cache: 'cache', platforms: 'platforms', cmd: 'check' }, () =>
      release({ jobs, destinations, context, platforms, buildArgs, labels, cache, push: inputs.push, check, save, mode, archives, pool, credentials }),
    ).catch((err: unknown) => {
      // some registries hold the image: the outputs and the summary say which
      if (err instanceof PartialPushError) {
        setOutput('digest', err.digest);
        setOutput('image-refs', err.pushed.join('\n'));
        summary.heading(`build-release-image ${tag}: pushed to ${err.pushed.length} of ${err.pushed.length + err.failed.length} references`);
        summary.table(['reference', 'result'], [...err.pushed.map((r) => [r, `holds ${err.digest}`]), ...err.failed.map((f) => [f.ref, `failed: ${f.error}`])]);
      }
      throw err;
    });

    const allTags = [...new Set(res.images.flatMap((i) => i.tags))];
    setOutput('digest', res.images.length === 1 ? res.images[0].digest : res.images.map((i) => `${i.tags[0]} ${i.digest}`).join('\n'));
    setOutput('tags', allTags.join('\n'));
    setOutput('image-refs', res.images.flatMap((i) => i.refs).join('\n'));
    setOutput('saved', res.saved?.file ?? '');
    setOutput('saved-sha256', res.saved?.sha256 ?? '');
    setOutput(
      'metadata',
      JSON.stringify({
        builder: res.builder,
        tag,
        version,
        prerelease,
        labels,
        images: res.images,
        saved: res.saved ? { path: res.saved.file, sha256: res.saved.sha256, size: res.saved.size, format: save?.platform === 'all' ? 'oci-archive' : 'docker-archive' } : null,
      }),
    );
    summary.heading(`build-release-image ${tag} (${res.builder} builder)`);
    summary.table(
      ['image', 'platforms', 'digest', 'check', 'pushed to'],
      res.images.map((i) => [
        i.tags.join(', '),
        i.platforms.join(', '),
        i.digest.slice(0, 19),
        check ? `passed (${i.checked.length})` : 'none',
        i.pushed ? i.refs.join('\n') : 'not pushed',
      ]),
    );
    if (res.saved) summary.text(`saved ${res.saved.file} (${formatBytes(res.saved.size)}), sha256 ${res.saved.sha256}`);
  },
});
