// `airlift demo --real`: the demo's chain against real parts: dockerd builds the sample product,
// three docker-registry servers on free loopback ports stand for the product's registry, the
// delivery registry and the site's, and each step is the action itself (build-release-image,
// sync-images, pack-offline, upload-oss, pack-offline import) run as the CLI runs it. At the end
// the site's release image is `docker pull`ed by digest and run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadAction } from '../actions/index.js';
import { errorMessage, UserError } from '../lib/errors.js';
import { formatDuration } from '../lib/format.js';
import { parsePlatform } from '../lib/image/manifest.js';
import { openTarget, RegistryPool } from '../lib/image/open.js';
import { writeSyntheticImage } from '../lib/image/synthetic.js';
import { parseImageRef } from '../lib/image/transport.js';
import { listEntries } from '../lib/list.js';
import { info, summary } from '../lib/log.js';
import { MemoryHost, runAction } from '../lib/run.js';
import { inputEnvName } from './args.js';
import { SAMPLE, sampleProduct } from './demo.js';
import type { CliIO } from './io.js';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** A docker-registry on a free loopback port, its storage under `dir`; stopped by its PID. */
async function startRegistry(dir: string): Promise<{ host: string; stop: () => Promise<void> }> {
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const failed = new Promise<never>((_, fail) =>
    child.once('error', (err) => fail(new UserError(`demo --real: docker-registry cannot start: ${errorMessage(err)} (apt-get install docker-registry)`))),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await Promise.race([
      fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      ),
      failed,
    ]);
    if (up) return { host: `127.0.0.1:${port}`, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new UserError(`demo --real: docker-registry did not answer on 127.0.0.1:${port} within 20 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs one action's main (and post) phase with these inputs, as `airlift <action>` does. */
async function action(name: string, inputs: Record<string, string>): Promise<Record<string, string>> {
  const def = await loadAction(name);
  const set = Object.keys(inputs).map(inputEnvName);
  for (const [k, v] of Object.entries(inputs)) process.env[inputEnvName(k)] = v;
  try {
    const host = new MemoryHost();
    let code = await runAction(def, 'main', host);
    if (def.post) code = (await runAction(def, 'post', host)) || code;
    if (code !== 0) throw new UserError(`demo --real: ${name} failed (see the error above)`);
    return host.outputs;
  } finally {
    for (const k of set) delete process.env[k];
  }
}

/** The sample product copied into `to`, its example registry names replaced by the running ones. */
export async function placeProduct(from: string, to: string, hosts: Record<string, string>): Promise<void> {
  await cp(from, to, { recursive: true });
  for (const e of await readdir(to, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !/\.(ya?ml|txt)$/.test(e.name)) continue;
    const file = join(e.parentPath, e.name);
    let text = await readFile(file, 'utf8');
    for (const [name, host] of Object.entries(hosts)) text = text.replaceAll(name, host);
    await writeFile(file, text);
  }
}

export async function runRealDemo(argv: string[], _io: CliIO): Promise<number> {
  const opt = (name: string) => (argv.indexOf(name) >= 0 ? argv[argv.indexOf(name) + 1] : undefined);
  const dir = opt('--output-dir') ? resolve(opt('--output-dir')!) : await mkdtemp(join(tmpdir(), 'airlift-demo-real-'));
  const version = opt('--version') ?? '1.0.0';
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 20_000 });
  } catch (err) {
    throw new UserError(`demo --real needs a running Docker engine (docker version failed: ${errorMessage(err).split('\n')[0]}); without one, run the demo without --real`);
  }
  info(`demo --real: the sample product ${version} against dockerd and docker-registry, in ${dir}`);
  const registries = await Promise.all(['registry', 'delivery', 'site'].map((n) => startRegistry(join(dir, 'registries', n))));
  const [src, delivery, site] = registries.map((r) => r.host);
  const rows: string[][] = [];
  const step = async <T>(name: string, fn: () => Promise<T>, show: (r: T) => string): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    rows.push([name, formatDuration(performance.now() - t0), show(r)]);
    return r;
  };
  try {
    const product = join(dir, 'product');
    await placeProduct(opt('--product') ? resolve(opt('--product')!) : sampleProduct(), product, { [SAMPLE.registry]: src, [SAMPLE.delivery]: delivery });
    // the product's other images, already in its registry (as they would be)
    const pool = new RegistryPool();
    for (const img of listEntries(await readFile(join(product, 'images.txt'), 'utf8')).map((e) => e.value))
      await writeSyntheticImage(openTarget(parseImageRef(`${src}/${img}`), pool), {
        platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')],
        files: { [`etc/${basename(img.split(':')[0])}-release`]: `${img}\n` },
      });

    const built = await step(
      'build-release-image',
      () =>
        action('build-release-image', {
          context: product,
          image: `${src}/${SAMPLE.release}`,
          registries: join(product, 'registry.yaml'),
          tag: `v${version}`,
          version,
          'verify-describe': 'false',
          platforms: 'linux/amd64',
          'build-args': 'TARGETARCH=amd64',
          check: '["/hello"]',
        }),
      (o) => `${o.digest} → ${o['image-refs'].split('\n').length} refs`,
    );
    await step(
      'sync-images',
      () => action('sync-images', { images: join(product, 'images.txt'), 'source-registry': src, target: delivery, 'output-dir': join(dir, 'sync') }),
      (o) => `synced ${o.synced || 0}, failed ${o.failed || 0}`,
    );
    const packed = await step(
      'pack-offline',
      () => action('pack-offline', { spec: join(product, 'bundle.yaml'), version, 'output-dir': join(dir, 'out') }),
      (o) => `${o.bundle} sha256:${o.sha256}`,
    );
    const destination = `file://${join(dir, 'bucket')}/releases/{version}`;
    await step(
      'upload-oss',
      () => action('upload-oss', { source: [packed.bundle, `${packed.bundle}.sha256`, packed.manifest].join('\n'), destination, version, 'state-dir': join(dir, '.upload-state') }),
      (o) => o.urls.split('\n').join(', '),
    );
    const bucket = join(dir, 'bucket', 'releases', version);
    await step(
      'sha256sum -c',
      async () => (await run('sha256sum', ['-c', `${basename(packed.bundle)}.sha256`], { cwd: bucket, timeout: 120_000 })).stdout.trim(),
      (s) => s,
    );
    await step(
      'pack-offline import',
      () => action('pack-offline', { mode: 'import', archive: join(bucket, basename(packed.bundle)), target: site }),
      (o) => o.imported.split('\n').join(', '),
    );

    // at the site: docker pulls the release image by the digest the bundle recorded, and runs it
    const manifest = JSON.parse(await readFile(packed.manifest, 'utf8')) as { images: { name: string; digest: string }[] };
    const recorded = manifest.images.find((i) => i.name === `${delivery}/${SAMPLE.release}:${version}`);
    if (!recorded) throw new UserError(`demo --real: the bundle does not hold ${delivery}/${SAMPLE.release}:${version}`);
    const pulled = `${site}/${SAMPLE.release}@${recorded.digest}`;
    await step(
      'docker pull + run',
      async () => {
        await run('docker', ['pull', '--quiet', pulled], { timeout: 120_000 });
        return (await run('docker', ['run', '--rm', '--network', 'none', pulled], { timeout: 60_000 })).stdout.trim();
      },
      (s) => `${pulled}: "${s}"`,
    );
    summary.heading(`Airlift demo --real: the sample product ${version} (image ${built.digest})`);
    summary.table(['step', 'time', 'result'], rows);
    summary.text(`Registries: product ${src}, delivery ${delivery}, site ${site} (stopped now). Files in ${dir}.`);
    await summary.flush();
    return 0;
  } finally {
    await Promise.all(registries.map((r) => r.stop()));
  }
}
