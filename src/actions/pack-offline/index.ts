// pack-offline: image archives for air-gapped sites (pack), and daemonless import at the site.
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { errorMessage, UserError } from '../../lib/errors.js';
import { formatBytes } from '../../lib/format.js';
import { importArchive } from '../../lib/offline/import.js';
import { parsePlatform } from '../../lib/image/manifest.js';
import { validatePlatforms } from '../../lib/docker/build.js';
import { RegistryPool } from '../../lib/image/open.js';
import { forInput, forInputs, input, inputDirectory } from '../../lib/inputs.js';
import { info, summary } from '../../lib/log.js';
import { buildBundle } from '../../lib/offline/bundle.js';
import { packImages, type PackFormat } from '../../lib/offline/pack.js';
import { loadSpec, VERSION } from '../../lib/offline/spec.js';
import { uploadArtifact } from '../../lib/offline/artifact.js';
import { credentialChain, parseRegistryAuth } from '../../lib/registry/auth.js';
import { registryHosts, uniqueReferences } from '../../lib/registry/reference.js';
import { defineAction } from '../../lib/run.js';
import { loadImageList, parseImageLines } from '../../lib/sync/plan.js';

const EXT: Record<PackFormat, string> = { 'docker-archive': '.tar', 'oci-archive': '.tar', oci: '' };

export default defineAction({
  name: 'pack-offline',
  inputs: {
    mode: input.enum(['pack', 'import']),
    spec: input.string(),
    images: input.text(),
    format: input.enum(['docker-archive', 'oci-archive', 'oci']),
    platform: input.string(),
    platforms: input.list(),
    'compress-layers': input.boolean(),
    output: input.string(),
    // it names files (images-amd64-<version>.tar): one plain name, never a path
    version: input.string({ pattern: VERSION, hint: 'a version such as 1.2.0 or v1.2.0-rc1 (letters, digits, ".", "_", "+", "-")' }),
    'output-dir': input.string(),
    compression: input.enum(['none', 'gzip']),
    'split-size': input.size({ min: 1024 * 1024, optional: true }),
    'upload-artifact': input.boolean(),
    'artifact-name': input.string(),
    'retention-days': input.integer({ min: 0, max: 90 }),
    archive: input.string(),
    target: input.string(),
    'strip-library': input.boolean(),
    repository: input.string(),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
  },
  async main({ inputs, setOutput }) {
    const pool = new RegistryPool({
      credentials: credentialChain(forInput('registry-auth', () => parseRegistryAuth(inputs.registryAuth))),
      insecureRegistries: forInput('insecure-registries', () => registryHosts(inputs.insecureRegistries)),
    });

    if (inputs.mode === 'import') {
      if (!inputs.archive) throw new UserError('input "archive" is required in import mode: the archive or bundle to import');
      if (!inputs.target) throw new UserError('input "target" is required in import mode: the registry/namespace to push to');
      const platforms = inputs.platforms.length
        ? forInput('platforms', () => validatePlatforms(inputs.platforms.map((p) => (p.includes('/') ? p : `linux/${p}`)))).map((p) => parsePlatform(p))
        : undefined;
      const res = await forInputs({ target: 'target', repository: 'repository' }, () =>
        importArchive({
          file: resolve(inputs.archive),
          target: inputs.target,
          pool,
          platforms,
          compressLayers: inputs.compressLayers,
          stripLibrary: inputs.stripLibrary,
          repository: inputs.repository,
        }),
      );
      const failed = res.filter((r) => r.result.targets[0]?.status === 'failed' || r.result.sourceError !== undefined);
      summary.heading(`pack-offline import: ${res.length - failed.length} of ${res.length} images into ${inputs.target}`);
      summary.table(
        ['image', 'pushed as', 'result', 'digest'],
        res.map((r) => [r.name, r.target, r.result.targets[0]?.status ?? 'failed', r.result.digest?.slice(0, 19) ?? '']),
      );
      setOutput(
        'imported',
        res
          .filter((r) => !failed.includes(r))
          .map((r) => r.target)
          .join('\n'),
      );
      if (failed.length)
        throw new UserError(
          `${failed.length} of ${res.length} images failed to import; first: ${failed[0].name}: ${errorMessage(failed[0].result.targets[0]?.error ?? failed[0].result.sourceError)}`,
        );
      return;
    }

    const outputDir = resolve(inputs.outputDir);
    await inputDirectory(outputDir, 'output-dir', inputs.outputDir);
    if (inputs.splitSize && inputs.format === 'oci' && !inputs.spec) throw new UserError('input "split-size": applies to archive formats, not to an oci directory');
    if (inputs.compression === 'gzip' && inputs.format === 'oci' && !inputs.spec)
      throw new UserError('input "compression": gzip applies to archive formats, not to an oci directory');

    if (inputs.spec) {
      const spec = forInputs({ path: 'spec' }, () => loadSpec(inputs.spec, inputs.version || undefined));
      info(
        `pack-offline: bundle ${spec.name} ${spec.version} (${spec.layout}): ${spec.images.length} images, ${spec.charts.length} charts, ${spec.compose.length} compose folders, ${spec.files.length} file sets`,
      );
      const res = await buildBundle(spec, { outputDir, pool, compression: inputs.compression, splitSize: inputs.splitSize });
      setOutput('bundle', res.bundle);
      setOutput('name', spec.name);
      setOutput('sha256', res.sha256);
      setOutput('size', res.size);
      setOutput('manifest', res.manifest);
      // what to ship: the bundle (or its parts), its .sha256 and its manifest
      const files = [...(res.parts.length ? res.parts : [res.file]), `${res.file}.sha256`, res.manifest];
      setOutput('files', files.join('\n'));
      summary.heading(`pack-offline: ${basename(res.file)} (${formatBytes(res.size)}${res.parts.length ? `, ${res.parts.length} parts` : ''})`);
      summary.table(
        ['component', 'path', 'size'],
        res.components.map((c) => [c.kind, c.path, formatBytes(c.size)]),
      );
      if (res.images.length)
        summary.table(
          ['image', 'platforms', 'digest'],
          res.images.map((i) => [i.name, i.platforms.join(', '), i.digest.slice(0, 19)]),
        );
      summary.text(`sha256 ${res.sha256}${res.parts.length ? `; join the parts with: cat ${basename(res.file)}.part-* > ${basename(res.file)}` : ''}`);
      if (inputs.uploadArtifact) {
        setOutput(
          'artifact-id',
          await forInputs({ upload: 'upload-artifact' }, () =>
            uploadArtifact(inputs.artifactName || basename(res.file), files, resolve(inputs.outputDir), inputs.retentionDays || undefined),
          ),
        );
      }
      return;
    }
    if (!inputs.images.trim()) throw new UserError('input "images" (or "spec") is required in pack mode: the images to put in the archive');
    // an image listed twice is packed once
    const refs = uniqueReferences(parseImageLines(forInput('images', () => loadImageList(inputs.images))).map((l) => l.source));
    if (inputs.output && (isAbsolute(inputs.output) || inputs.output.split(/[\\/]/).some((c) => c === '..' || c === '.') || /[\\/]$/.test(inputs.output)))
      throw new UserError(`input "output": "${inputs.output}" must be a file name (or a relative path) inside output-dir`);
    const platform = inputs.format === 'docker-archive' ? parsePlatform(forInput('platform', () => validatePlatforms([inputs.platform]))[0]) : undefined;
    const defaultName =
      inputs.format === 'docker-archive' ? `images-${platform!.architecture}${inputs.version ? `-${inputs.version}` : ''}` : `images${inputs.version ? `-${inputs.version}` : ''}`;
    let output = join(outputDir, inputs.output || `${defaultName}${EXT[inputs.format]}`);
    if (inputs.compression === 'gzip' && inputs.format !== 'oci' && !/\.(gz|tgz)$/.test(output)) output += '.gz';
    // output may name a folder under output-dir
    await inputDirectory(dirname(output), 'output');
    const dir = dirname(output);

    info(`pack-offline: ${refs.length} images → ${inputs.format} ${output}${platform ? ` (${inputs.platform})` : ' (every platform)'}`);
    const res = await packImages({
      images: refs,
      format: inputs.format,
      platform,
      output,
      compression: inputs.compression,
      splitSize: inputs.splitSize,
      pool,
      version: inputs.version,
    });
    const whole = res.files[res.files.length - 1];
    setOutput('bundle', res.output);
    setOutput('sha256', inputs.format === 'oci' ? '' : whole.sha256);
    setOutput('size', inputs.format === 'oci' ? res.files.reduce((n, f) => n + f.size, 0) : whole.size);
    setOutput('manifest', res.manifest);

    summary.heading(`pack-offline: ${inputs.format}${res.files.length > 1 && inputs.format !== 'oci' ? `, ${res.files.length - 1} parts` : ''}`);
    summary.table(
      ['image', 'platforms', 'digest', 'fetched'],
      res.images.map((i) => [i.name, i.platforms.join(', '), i.digest.slice(0, 19), formatBytes(i.bytes)]),
    );
    if (inputs.format !== 'oci')
      summary.table(
        ['file', 'size', 'sha256'],
        res.files.map((f) => [f.path, formatBytes(f.size), f.sha256]),
      );
    if (res.files.length > 1 && inputs.format !== 'oci')
      summary.text(`Join the parts with: cat ${basename(output)}.part-* > ${basename(output)} && sha256sum -c ${basename(output)}.sha256 --ignore-missing`);

    const files =
      inputs.format === 'oci'
        ? [res.output, res.checksums, res.manifest]
        : [...res.files.filter((f) => f.path !== basename(output) || res.files.length === 1).map((f) => join(dir, f.path)), res.checksums, res.manifest];
    setOutput('files', files.join('\n'));
    if (inputs.uploadArtifact) {
      const id = await forInputs({ upload: 'upload-artifact' }, () => uploadArtifact(inputs.artifactName || basename(output), files, dir, inputs.retentionDays || undefined));
      setOutput('artifact-id', id);
    }
  },
});
