// setup-buildx-qemu: QEMU binfmt handlers (image, host qemu-user-static, or none) and a buildx
// builder with registry mirrors and insecure registries written into buildkitd.toml for you.
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { exec, which } from '../../lib/exec.js';
import { buildkitdToml, buildxVersion, createBuilder, installBuildx, removeBuilder } from '../../lib/docker/buildx.js';
import { ensureBinfmtMounted, hostPlatform, installWithImage, registerHostHandlers, runnablePlatforms } from '../../lib/docker/qemu.js';
import { input } from '../../lib/inputs.js';
import { info, runnerCore, summary, warning } from '../../lib/log.js';
import { defineAction } from '../../lib/run.js';

export default defineAction({
  name: 'setup-buildx-qemu',
  inputs: {
    'qemu-mode': input.enum(['auto', 'image', 'host', 'none']),
    'qemu-image': input.string(),
    'qemu-platforms': input.list(),
    'buildx-version': input.string(),
    'buildx-url': input.string(),
    'buildx-sha256': input.string({ pattern: /^([a-fA-F0-9]{64})?$/, hint: '64 hex digits' }),
    driver: input.enum(['docker-container', 'docker', 'kubernetes', 'remote']),
    'driver-opts': input.list(),
    name: input.string({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, hint: 'letters, digits, "_", "." and "-"' }),
    use: input.boolean(),
    'buildkitd-config-inline': input.text(),
    'registry-mirrors': input.list(),
    'insecure-registries': input.list(),
    cleanup: input.boolean(),
  },
  async main({ inputs, setOutput, saveState }) {
    const all = inputs.qemuPlatforms.length === 0 || inputs.qemuPlatforms.some((p) => p.toLowerCase() === 'all');
    const wanted = all ? ('all' as const) : inputs.qemuPlatforms;
    let mode: 'image' | 'host' | 'none' = 'none';
    const already = await runnablePlatforms();
    const satisfied = !all && inputs.qemuPlatforms.every((p) => p === hostPlatform() || already.includes(p));
    if (inputs.qemuMode === 'host' || (inputs.qemuMode === 'auto' && !satisfied && !(await imageWorks(inputs.qemuImage)))) {
      await ensureBinfmtMounted();
      const added = await registerHostHandlers(wanted);
      info(`QEMU (host qemu-user-static): ${added.length ? `registered ${added.join(', ')}` : 'handlers already registered'}`);
      mode = 'host';
    } else if (inputs.qemuMode === 'image' || (inputs.qemuMode === 'auto' && !satisfied)) {
      await installWithImage(inputs.qemuImage, wanted);
      mode = 'image';
    }
    const platforms = await runnablePlatforms();
    if (!all) for (const p of inputs.qemuPlatforms) if (p !== hostPlatform() && !platforms.includes(p) && inputs.qemuMode !== 'none') throw new UserError(`QEMU for ${p} is not registered after setup (qemu-mode ${mode}); runnable: ${platforms.join(', ')}`);
    setOutput('qemu-mode', mode);
    setOutput('platforms', platforms.join(','));

    let version = await buildxVersion();
    if (inputs.buildxUrl) {
      if (!inputs.buildxVersion) throw new UserError('input "buildx-version" is required with buildx-url: it keys the tool cache and is checked against the installed binary');
      const where = /^https?:\/\//.test(inputs.buildxUrl) ? inputs.buildxUrl.replace(/\?.*$/, '') : inputs.buildxUrl;
      const verify = async () => {
        version = await buildxVersion();
        if (!version) throw new UserError('input "buildx-url": the installed binary does not answer `docker buildx version`');
        if (version.replace(/^v/, '') !== inputs.buildxVersion.replace(/^v/, '')) throw new UserError(`input "buildx-version": ${inputs.buildxVersion} was asked for, but the binary from buildx-url reports ${version}; it was not installed`);
      };
      const installed = await installBuildx({ source: inputs.buildxUrl, version: inputs.buildxVersion, sha256: inputs.buildxSha256 || undefined, toolCache: runnerCore() !== undefined, verify });
      info(`buildx ${inputs.buildxVersion}: ${installed.fromCache ? 'from the tool cache' : `installed from ${where}${inputs.buildxSha256 ? ' (sha256 verified)' : ''}`} → ${installed.path}`);
    }
    setOutput('buildx-version', version ?? '');
    if (!version) {
      warning('docker buildx is not available: single-platform builds fall back to the classic builder; multi-platform builds need buildx (set buildx-url to install one)');
      setOutput('builder', '');
    } else {
      const name = inputs.name || `airlift-${process.env.GITHUB_RUN_ID ?? process.pid}`;
      const toml = buildkitdToml({ mirrors: inputs.registryMirrors, insecure: inputs.insecureRegistries, inline: inputs.buildkitdConfigInline });
      await createBuilder({ name, driver: inputs.driver, driverOpts: inputs.driverOpts, use: inputs.use, toml, stateDir: join(process.env.RUNNER_TEMP ?? '.airlift', 'buildx') });
      saveState('builder', name);
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

/** Whether the binfmt installer image can be used: docker present and the image runnable. */
async function imageWorks(image: string): Promise<boolean> {
  if (!(await which('docker'))) return false;
  const r = await exec('docker', ['image', 'inspect', image], { stream: false, allowFailure: true }).catch(() => undefined);
  return r?.code === 0;
}
