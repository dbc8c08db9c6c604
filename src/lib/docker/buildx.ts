// docker buildx: detection, optional install of a pinned binary (from a URL such as an
// internal mirror, or a local file), builder creation with a generated buildkitd.toml for
// registry mirrors and insecure registries, and removal.
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { OptionError, UserError } from '../errors.js';
import { exec, ExecError } from '../exec.js';
import { retry, RetryableError } from '../retry.js';
import { idleTimeoutMs, networkReason, shownUrl } from '../http.js';
import { sha256File } from '../archive/checksums.js';
import { addSecret } from '../log.js';
import { tempDir } from '../temp.js';

function parseVersion(stdout: string): string | undefined {
  return /\bv?\d+\.\d+\.\d+[^\s]*/.exec(stdout)?.[0] ?? (stdout.trim().split(/\s+/)[1] || undefined);
}

/** `docker buildx version` → "v0.16.2", or undefined when buildx is not there. */
export async function buildxVersion(docker = 'docker'): Promise<string | undefined> {
  const r = await exec(docker, ['buildx', 'version'], { stream: false, allowFailure: true }).catch(() => undefined);
  return r?.code === 0 ? parseVersion(r.stdout) : undefined;
}

/** The version a docker-buildx binary reports when run by itself (`docker-buildx version`). */
export async function binaryVersion(binary: string): Promise<string | undefined> {
  await chmod(binary, 0o755).catch(() => undefined);
  const r = await exec(binary, ['version'], { stream: false, allowFailure: true }).catch(() => undefined);
  return r?.code === 0 ? parseVersion(r.stdout) : undefined;
}

export interface InstallOptions {
  /** http(s) URL (e.g. an internal mirror) or a local file */
  source: string;
  /** the version: the cache key, and what `docker buildx version` must then report */
  version: string;
  /** expected sha256 of the binary (hex); checked before it is cached or used */
  sha256?: string;
  /** on a runner: @actions/tool-cache; elsewhere a cache under ~/.cache/airlift */
  toolCache?: boolean;
  pluginDir?: string;
  /** checks the binary (e.g. the version it reports) before it is placed or cached */
  verify?: (binary: string) => Promise<void>;
}

async function fetchBinary(source: string, dest: string): Promise<void> {
  if (/^https?:\/\//.test(source)) {
    const url = new URL(source);
    const where = `${url.origin}${url.pathname}`;
    // credentials in the URL (a mirror behind basic auth) go in a header, never into a log line
    const headers: Record<string, string> = {};
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      addSecret(pass);
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    await retry(async () => {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(idleTimeoutMs(300_000)) });
      if (!res.ok || !res.body) {
        const err = new OptionError('source', `${where} answered ${res.status}`);
        if (res.status >= 500 || res.status === 429) throw new RetryableError(err.message);
        throw err;
      }
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(dest));
    }).catch((err: unknown) => {
      const why = networkReason(err);
      if (why) throw new OptionError('source', `${where} got no answer: ${why}`, { cause: err });
      // a 5xx or 429 until the retries ran out: still a problem with the URL given
      if (err instanceof RetryableError) throw new OptionError('source', err.message, { cause: err });
      throw err;
    });
  } else
    await copyFile(source, dest).catch((err: Error) => {
      throw new OptionError('source', `${source} cannot be read (${err.message})`);
    });
}

/**
 * Installs a pinned docker-buildx as a CLI plugin: from the cache when this version is there,
 * else fetched (checksum verified) and cached. Returns the plugin path and whether it was cached.
 */
export async function installBuildx(o: InstallOptions): Promise<{ path: string; fromCache: boolean }> {
  const version = o.version.replace(/^v/, '');
  const arch = process.arch;
  let cached: string | undefined;
  let store: (file: string) => Promise<string>;
  if (o.toolCache) {
    const tc = await import('@actions/tool-cache');
    const dir = tc.find('docker-buildx', version, arch);
    cached = dir ? join(dir, 'docker-buildx') : undefined;
    store = async (file) => join(await tc.cacheFile(file, 'docker-buildx', 'docker-buildx', version, arch), 'docker-buildx');
  } else {
    const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlift', 'tool-cache', 'docker-buildx', version, arch);
    cached = existsSync(join(dir, 'docker-buildx')) ? join(dir, 'docker-buildx') : undefined;
    store = async (file) => {
      await mkdir(dir, { recursive: true });
      await copyFile(file, join(dir, 'docker-buildx.partial'));
      await rename(join(dir, 'docker-buildx.partial'), join(dir, 'docker-buildx'));
      return join(dir, 'docker-buildx');
    };
  }
  if (cached && o.sha256 && (await sha256File(cached)) !== o.sha256.toLowerCase()) cached = undefined; // a stale or damaged cache entry is replaced
  const pluginDir = o.pluginDir ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'cli-plugins');
  const dest = join(pluginDir, 'docker-buildx');
  /** checked first, then moved into place in one rename: a failed check leaves any buildx already there untouched */
  const place = async (file: string) => {
    await o.verify?.(file);
    await mkdir(pluginDir, { recursive: true });
    await copyFile(file, `${dest}.partial`);
    await chmod(`${dest}.partial`, 0o755);
    await rename(`${dest}.partial`, dest);
  };
  if (cached) await place(cached);
  else {
    const tmpDir = await tempDir('airlift-buildx-');
    try {
      const file = join(tmpDir, 'docker-buildx');
      await fetchBinary(o.source, file);
      if (o.sha256) {
        const got = await sha256File(file);
        if (got !== o.sha256.toLowerCase())
          throw new OptionError('sha256', `the binary from ${shownUrl(o.source)} has sha256 ${got}, not ${o.sha256.toLowerCase()}; nothing was installed`);
      }
      await place(file);
      await store(file); // only a binary that passed every check is cached
    } finally {
      await rm(tmpDir, { recursive: true, force: true });
    }
  }
  return { path: dest, fromCache: cached !== undefined };
}

/** buildkitd.toml for registry mirrors (of docker.io) and insecure registries, then inline extras. */
export function buildkitdToml(opts: { mirrors: string[]; insecure: string[]; inline?: string }): string {
  const q = (s: string) => JSON.stringify(s);
  const out: string[] = ['# generated by airlift setup-buildx-qemu'];
  if (opts.mirrors.length) out.push('[registry."docker.io"]', `  mirrors = [${opts.mirrors.map((m) => q(m.replace(/^https?:\/\//, '').replace(/\/+$/, ''))).join(', ')}]`);
  for (const r of opts.insecure) out.push(`[registry.${q(r)}]`, '  http = true', '  insecure = true');
  // mirrors given as http:// are reached over plain HTTP too
  for (const m of opts.mirrors.filter((m) => m.startsWith('http://'))) {
    const host = m.slice(7).replace(/\/+$/, '');
    if (!opts.insecure.includes(host)) out.push(`[registry.${q(host)}]`, '  http = true', '  insecure = true');
  }
  const generated = out.length;
  if (opts.inline?.trim()) {
    const inline = opts.inline.trim();
    tomlProblem(inline, (msg, line) => `the inline config is not valid TOML (line ${line}: ${msg})`);
    out.push('', inline);
    // the inline part may not set again a table written above (a mirror or insecure registry)
    tomlProblem(
      out.join('\n'),
      (msg, line) =>
        `the inline config sets again what registry-mirrors or insecure-registries write (${msg}, at "${out.join('\n').split('\n')[line - 1]?.trim() ?? ''}", line ${line - generated - 1} of the inline config); put those registry settings in one place`,
    );
  }
  return out.join('\n') + '\n';
}

/** Throws a UserError (worded by `say`) when `text` is not valid TOML. */
function tomlProblem(text: string, say: (msg: string, line: number) => string): void {
  try {
    parseToml(text);
  } catch (err) {
    const e = err as Error & { line?: number };
    throw new UserError(say(e.message.replace(/^Invalid TOML document: /, '').split('\n')[0], e.line ?? 1));
  }
}

export interface BuilderOptions {
  name: string;
  driver: string;
  driverOpts: string[];
  /** driver remote: where the buildkitd listens */
  endpoint?: string;
  use: boolean;
  configFile?: string;
}

export function buildxCreateArgs(o: BuilderOptions): string[] {
  // a remote buildkitd has its own configuration: no --config for it
  const config = o.configFile && o.driver !== 'docker' && o.driver !== 'remote' ? ['--config', o.configFile] : [];
  return [
    'buildx',
    'create',
    '--name',
    o.name,
    '--driver',
    o.driver,
    ...o.driverOpts.flatMap((d) => ['--driver-opt', d]),
    ...config,
    ...(o.use ? ['--use'] : []),
    ...(o.endpoint ? [o.endpoint] : []),
  ];
}

export async function createBuilder(o: BuilderOptions & { toml: string; stateDir: string }, docker = 'docker'): Promise<void> {
  await mkdir(o.stateDir, { recursive: true });
  const configFile = join(o.stateDir, `buildkitd-${o.name}.toml`);
  await writeFile(configFile, o.toml);
  await exec(docker, buildxCreateArgs({ ...o, configFile }));
  await exec(docker, ['buildx', 'inspect', '--bootstrap', o.name]).catch((err: unknown) => {
    if (!(err instanceof ExecError)) throw err;
    const said = [
      ...new Set(
        (err.stderr || err.stdout)
          .trim()
          .split('\n')
          .filter((l) => /error/i.test(l))
          .map((l) => l.replace(/^(#\d+\s+)?ERROR:\s*/i, '').trim()),
      ),
    ]
      .slice(-2)
      .join('; ');
    const hint =
      o.driver === 'remote'
        ? `is a buildkitd running and listening at ${o.endpoint}, and reachable from here?`
        : o.driver === 'docker-container'
          ? `can the engine pull the BuildKit image${o.driverOpts.find((d) => d.startsWith('image=')) ? ` (${o.driverOpts.find((d) => d.startsWith('image='))!.slice(6)})` : ' (moby/buildkit from Docker Hub: set driver-opts image=<your mirror>/moby/buildkit:<version> where Docker Hub is out of reach)'} and run it --privileged?`
          : 'check the driver and its options.';
    throw new UserError(
      `the buildx builder ${o.name} (driver ${o.driver}${o.endpoint ? ` at ${o.endpoint}` : ''}) did not start: ${said || `exit ${err.code}`}. ${hint[0].toUpperCase()}${hint.slice(1)}`,
      { cause: err },
    );
  });
}

export async function removeBuilder(name: string, docker = 'docker'): Promise<void> {
  await exec(docker, ['buildx', 'rm', name], { allowFailure: true });
}
