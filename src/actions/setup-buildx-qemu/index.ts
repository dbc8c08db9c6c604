// setup-buildx-qemu: QEMU binfmt handlers (image, host qemu-user-static, or none) and a buildx
// builder with registry mirrors and insecure registries written into buildkitd.toml for you.
import { join } from 'node:path';
import { errorMessage, UserError } from '../../lib/errors.js';
import { packageFor, which } from '../../lib/exec.js';
import { binaryVersion, buildkitdToml, buildxVersion, createBuilder, installBuildx, removeBuilder } from '../../lib/docker/buildx.js';
import { ensureBinfmtMounted, hostPlatform, installWithImage, registerHostHandlers, runnablePlatforms } from '../../lib/docker/qemu.js';
import { forInput, forInputs, input } from '../../lib/inputs.js';
import { validateKeyValues, validatePlatforms } from '../../lib/docker/build.js';
import { parseReference, registryHosts } from '../../lib/registry/reference.js';
import { info, notice, runnerCore, summary, warning } from '../../lib/log.js';
import { shownUrl } from '../../lib/http.js';
import { defineAction } from '../../lib/run.js';
import { runnerTemp } from '../../lib/temp.js';

export default defineAction({
  name: 'setup-buildx-qemu',
  inputs: {
    'qemu-mode': input.enum(['auto', 'image', 'host', 'none']),
    'qemu-image': input.string(),
    'qemu-platforms': input.list(),
    'buildx-version': input.string({ pattern: /^(v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?)?$/, hint: 'a version such as v0.16.2' }),
    'buildx-url': input.string(),
    'buildx-sha256': input.string({ pattern: /^([a-fA-F0-9]{64})?$/, hint: '64 hex digits' }),
    driver: input.enum(['docker-container', 'kubernetes', 'remote']),
    endpoint: input.string({ pattern: /^((tcp|unix|ssh|docker-container|kube-pod):\/\/\S+)?$/, hint: 'tcp://host:port or unix:///path/buildkitd.sock' }),
    'driver-opts': input.list(),
    name: input.string({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, hint: 'letters, digits, "_", "." and "-"' }),
    use: input.boolean(),
    'buildkitd-config-inline': input.text(),
    'registry-mirrors': input.list(),
    'insecure-registries': input.list(),
    cleanup: input.boolean(),
  },
  async main({ inputs, setOutput, saveState }) {
    // inputs first
    const all = inputs.qemuPlatforms.length === 0 || inputs.qemuPlatforms.some((p) => p.toLowerCase() === 'all');
    const requested = all ? [] : forInput('qemu-platforms', () => validatePlatforms(inputs.qemuPlatforms.map((p) => (p.includes('/') ? p : `linux/${p}`))));
    const wanted = all ? ('all' as const) : requested;
    if (inputs.qemuMode !== 'none' && inputs.qemuMode !== 'host') forInput('qemu-image', () => parseReference(inputs.qemuImage));
    forInput('driver-opts', () => validateKeyValues(inputs.driverOpts, /^[a-z][a-z0-9-]*$/));
    const insecure = forInput('insecure-registries', () => registryHosts(inputs.insecureRegistries));
    const mirrors = inputs.registryMirrors.map((m) => {
      if (/^https?:\/\/[^/\s]+\/?$/.test(m)) return m;
      forInput('registry-mirrors', () => registryHosts([m]));
      return m;
    });
    if (inputs.driver === 'remote' && !inputs.endpoint)
      throw new UserError('input "endpoint" is required with driver remote: where the buildkitd listens (tcp://host:port or unix:///path)');
    if (inputs.driver !== 'remote' && inputs.endpoint) throw new UserError(`input "endpoint" is for driver remote; driver ${inputs.driver} starts its own buildkitd`);
    if (inputs.driver === 'remote') {
      const local = (['registry-mirrors', 'insecure-registries', 'buildkitd-config-inline'] as const).filter((k) =>
        k === 'buildkitd-config-inline' ? inputs.buildkitdConfigInline.trim() : k === 'registry-mirrors' ? inputs.registryMirrors.length : inputs.insecureRegistries.length,
      );
      if (local.length)
        throw new UserError(`input "${local[0]}" does not apply to driver remote: a remote buildkitd reads its own buildkitd.toml; configure ${local.join(', ')} there`);
    }
    if (inputs.buildxUrl && !inputs.buildxVersion)
      throw new UserError('input "buildx-version" is required with buildx-url: it keys the tool cache and is checked against the installed binary');
    // the buildkitd.toml is written (and its inline part checked) before anything is installed
    const toml = forInput('buildkitd-config-inline', () => buildkitdToml({ mirrors, insecure, inline: inputs.buildkitdConfigInline }));

    // QEMU: handlers already registered, else the installer image, else the host's qemu-user-static
    let mode: 'image' | 'host' | 'none' = 'none';
    const already = await runnablePlatforms();
    const foreign = (ps: string[]) => ps.filter((p) => p !== hostPlatform());
    const satisfied = all ? foreign(already).length > 0 : requested.every((p) => p === hostPlatform() || already.includes(p));
    const useHost = async () => {
      await ensureBinfmtMounted();
      const added = await forInputs({ platforms: 'qemu-platforms' }, () => registerHostHandlers(wanted));
      info(`QEMU (host qemu-user-static): ${added.length ? `registered ${added.join(', ')}` : 'handlers already registered'}`);
      mode = 'host';
    };
    if (inputs.qemuMode === 'host') await useHost();
    else if (inputs.qemuMode === 'image') {
      await installWithImage(inputs.qemuImage, wanted);
      mode = 'image';
    } else if (inputs.qemuMode === 'auto' && satisfied) info(`QEMU: handlers already registered (${foreign(already).join(', ')})`);
    else if (inputs.qemuMode === 'auto') {
      const viaImage = (await which('docker'))
        ? await installWithImage(inputs.qemuImage, wanted).then(
            () => true,
            (err: unknown) => (notice(`QEMU: the installer image ${inputs.qemuImage} could not be used (${errorMessage(err)}); using the host's qemu-user-static`), false),
          )
        : false;
      if (viaImage) mode = 'image';
      else await useHost();
    }
    const platforms = await runnablePlatforms();
    if (inputs.qemuMode !== 'none') {
      for (const p of requested)
        if (p !== hostPlatform() && !platforms.some((r) => r === p || r.startsWith(`${p}/`)))
          throw new UserError(`QEMU for ${p} is not registered after setup (qemu-mode ${mode}); runnable: ${platforms.join(', ')}`);
      if (all && foreign(platforms).length === 0)
        throw new UserError(
          `no QEMU handler is registered after setup (qemu-mode ${mode}): install qemu-user-static (apt-get install ${packageFor('qemu-aarch64-static')}) or use the installer image`,
        );
    }
    setOutput('qemu-mode', mode);
    setOutput('platforms', platforms.join(','));

    let version = await buildxVersion();
    if (inputs.buildxUrl) {
      const where = shownUrl(inputs.buildxUrl);
      const verify = async (binary: string) => {
        const reported = await binaryVersion(binary);
        if (!reported) throw new UserError(`input "buildx-url": the binary from ${where} does not answer \`docker-buildx version\`; it was not installed`);
        if (reported.replace(/^v/, '') !== inputs.buildxVersion.replace(/^v/, ''))
          throw new UserError(`input "buildx-version": ${inputs.buildxVersion} was asked for, but the binary from buildx-url reports ${reported}; it was not installed`);
      };
      const installed = await forInputs({ source: 'buildx-url', sha256: 'buildx-sha256' }, () =>
        installBuildx({
          source: inputs.buildxUrl,
          version: inputs.buildxVersion,
          sha256: inputs.buildxSha256 || undefined,
          toolCache: runnerCore() !== undefined,
          verify,
        }),
      );
      version = await buildxVersion();
      if (!version) throw new UserError(`docker does not find the buildx plugin installed at ${installed.path}`);
      info(
        `buildx ${inputs.buildxVersion}: ${installed.fromCache ? 'from the tool cache' : `installed from ${where}${inputs.buildxSha256 ? ' (sha256 verified)' : ''}`} → ${installed.path}`,
      );
    }
    setOutput('buildx-version', version ?? '');
    if (!version) {
      warning('docker buildx is not available: single-platform builds fall back to the classic builder; multi-platform builds need buildx (set buildx-url to install one)');
      setOutput('builder', '');
    } else {
      const name =
        inputs.name ||
        ['airlift', process.env.GITHUB_RUN_ID, process.env.GITHUB_JOB, process.env.GITHUB_RUN_ATTEMPT, process.pid]
          .filter(Boolean)
          .join('-')
          .replace(/[^a-zA-Z0-9_.-]/g, '-');
      saveState('builder', name); // first: a builder that fails to bootstrap is still removed
      await createBuilder({
        name,
        driver: inputs.driver,
        driverOpts: inputs.driverOpts,
        endpoint: inputs.endpoint || undefined,
        use: inputs.use,
        toml,
        stateDir: join(runnerTemp(), 'airlift-buildx'),
      });
      setOutput('builder', name);
    }
    summary.heading('setup-buildx-qemu');
    summary.table(['qemu mode', 'platforms', 'buildx', 'builder'], [[mode, platforms.join(', '), version ?? 'not available', version ? inputs.name || '(generated)' : '']]);
  },
  async post({ inputs, getState }) {
    const builder = getState('builder');
    if (builder && inputs.cleanup) {
      await removeBuilder(builder);
      info(`removed builder ${builder}`);
    }
  },
});
