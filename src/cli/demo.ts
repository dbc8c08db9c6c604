// `airlift demo`: the main job on embedded defaults: no network, no Docker, no accounts. The
// sample product (examples/product) goes through the release chain with the engines the actions
// use: its images written as an OCI layout (the stand-in for its registry), synced into a second
// layout (the delivery registry), the release bundle packed from it by bundle.yaml (images,
// chart, compose, installer files, manifest, SHA256SUMS), uploaded to a file:// destination,
// verified with sha256sum -c, then imported at the "site" with every digest checked.
// `--real` runs the same chain against dockerd and docker-registry (demo-real.ts).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { verifySha256Sums } from '../lib/archive/checksums.js';
import { errorMessage, UserError } from '../lib/errors.js';
import { formatBytes, formatDuration } from '../lib/format.js';
import { Copier, copyFailure } from '../lib/image/copy.js';
import { importArchive } from '../lib/offline/import.js';
import { parsePlatform, type Platform } from '../lib/image/manifest.js';
import { OciLayoutSource, OciLayoutTarget } from '../lib/image/oci-layout.js';
import { RegistryPool } from '../lib/image/open.js';
import { writeSyntheticImage } from '../lib/image/synthetic.js';
import { listEntries } from '../lib/list.js';
import { info, summary } from '../lib/log.js';
import { buildBundle } from '../lib/offline/bundle.js';
import { loadSpec, VERSION } from '../lib/offline/spec.js';
import { fillPlaceholders } from '../lib/placeholders.js';
import { openStorage } from '../lib/storage/open.js';
import { selectFiles } from '../lib/storage/select.js';
import { uploadAll } from '../lib/storage/upload.js';
import { airliftVersion } from '../generated/actions.js';
import type { CliIO } from './io.js';

/** The registries the sample product names, and the site it is installed at. */
export const SAMPLE = { registry: 'registry.example.com', delivery: 'delivery.example.com', site: 'registry.site.internal:5000', release: 'product/hello' };

/** examples/product, found from this module (dist/cli.js, or src/cli/demo.ts under tsx). */
export function sampleProduct(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const p = join(dir, 'examples', 'product');
    if (existsSync(join(p, 'bundle.yaml'))) return p;
  }
  throw new UserError('the sample product (examples/product) was not found beside this airlift; give it with --product <dir>');
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UserError(`demo: ${name} needs a value`);
  return v;
}

/** Times each step and keeps the rows of the closing table. */
class Steps {
  readonly rows: string[][] = [];
  async run<T>(name: string, fn: () => Promise<T>, row: (r: T) => [string, string, string][]): Promise<T> {
    const t0 = performance.now();
    info(`${name} …`);
    const r = await fn();
    const took = formatDuration(performance.now() - t0);
    row(r).forEach(([what, check, size], i) => this.rows.push([i === 0 ? name : '', i === 0 ? took : '', what, check, size]));
    return r;
  }
}

const DEMO_FLAGS = ['--real', '--output-dir', '--version', '--product'];

export async function runDemo(argv: string[], io: CliIO): Promise<number> {
  for (let i = 0; i < argv.length; i++) {
    if (!DEMO_FLAGS.includes(argv[i])) throw new UserError(`demo: unknown argument "${argv[i]}" (use ${DEMO_FLAGS.join(', ')})`);
    if (argv[i] !== '--real') option(argv, argv[i++]);
  }
  if (argv.includes('--real')) {
    const { runRealDemo } = await import('./demo-real.js');
    return runRealDemo(argv, io);
  }
  const out = option(argv, '--output-dir');
  const dir = out ? resolve(out) : await mkdtemp(join(tmpdir(), 'airlift-demo-'));
  const product = option(argv, '--product') ? resolve(option(argv, '--product')!) : sampleProduct();
  const version = option(argv, '--version') ?? '1.0.0';
  if (!VERSION.test(version)) throw new UserError(`demo: --version "${version}" is not a version (letters, digits, ".", "_", "+", "-")`);
  info(`airlift demo ${airliftVersion}: the sample product ${product}, version ${version}, working in ${dir}`);
  const steps = new Steps();
  const copier = new Copier({ blobConcurrency: 4 });
  const platforms = [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')];
  const productImages = listEntries(await readFile(join(product, 'images.txt'), 'utf8')).map((e) => e.value);
  const releaseImage = `${SAMPLE.release}:${version}`;

  // 1. the images, as build-release-image would push them: the release image is the Dockerfile's
  // (the platform's static program and release.txt, entrypoint /hello), the others small stand-ins
  const registry = join(dir, 'registry');
  const built = await steps.run(
    'build',
    async () => {
      const arch = (p: Platform) => `linux-${p.architecture}`;
      const release = await writeSyntheticImage(new OciLayoutTarget(registry, `${SAMPLE.registry}/${releaseImage}`, `${SAMPLE.registry}/${releaseImage}`), {
        platforms,
        entrypoint: ['/hello'],
        files: async (p: Platform) => ({
          hello: { data: await readFile(join(product, 'bin', arch(p), 'hello')), mode: 0o755 },
          'etc/product-release': await readFile(join(product, 'release.txt'), 'utf8'),
        }),
      });
      for (const img of productImages) {
        const name = `${SAMPLE.registry}/${img}`;
        await writeSyntheticImage(new OciLayoutTarget(registry, name, name), { platforms, files: { [`etc/${basename(img.split(':')[0])}-release`]: `${img}\n` } });
      }
      return release;
    },
    (r) => [
      [`oci:${registry}:${SAMPLE.registry}/${releaseImage}`, r.index.digest, `${platforms.length} platforms`],
      ...productImages.map((i): [string, string, string] => [`  and ${SAMPLE.registry}/${i}`, '', '']),
    ],
  );

  // 2. sync-images: the release image and the image list to the delivery registry, digests kept
  const delivery = join(dir, 'delivery');
  const all = [releaseImage, ...productImages];
  const synced = await steps.run(
    'sync',
    async () => {
      const rows: { name: string; digest: string; bytes: number; status: string }[] = [];
      for (const img of all) {
        const from = `${SAMPLE.registry}/${img}`;
        const to = `${SAMPLE.delivery}/${img}`;
        const r = await copier.copy(new OciLayoutSource(registry, from), [new OciLayoutTarget(delivery, to, to)]);
        const failed = copyFailure(r);
        if (failed) throw new UserError(`demo: sync of ${img} failed: ${errorMessage(failed.error)}`);
        const written = await new OciLayoutSource(delivery, to).top();
        if (written.digest !== (await new OciLayoutSource(registry, from).top()).digest) throw new UserError(`demo: ${to} holds ${written.digest}, not the source's digest`);
        rows.push({ name: to, digest: written.digest, bytes: r.bytes, status: r.targets[0].status });
      }
      const again = await copier.copy(new OciLayoutSource(registry, `${SAMPLE.registry}/${releaseImage}`), [new OciLayoutTarget(delivery, `${SAMPLE.delivery}/${releaseImage}`)]);
      return { rows, again: again.targets[0].status };
    },
    (r) => [...r.rows.map((x): [string, string, string] => [`${x.name} (${x.status})`, x.digest, formatBytes(x.bytes)]), ['again: up to date', r.again, '0 B']],
  );
  if (synced.rows[0].digest !== built.index.digest) throw new UserError('demo: the synced release image is not the built one');

  // 3. pack-offline: the release bundle from bundle.yaml, its images read from the delivery layout
  const spec = loadSpec(join(product, 'bundle.yaml'), version);
  const packed = await steps.run(
    'pack',
    () => buildBundle(spec, { outputDir: join(dir, 'out'), pool: new RegistryPool(), fromLayout: delivery }),
    (r) => [[r.file, `sha256:${r.sha256}`, formatBytes(r.size)], ...r.components.map((c): [string, string, string] => [`  ${c.path} (${c.kind})`, '', formatBytes(c.size)])],
  );

  // 4. upload-oss: the bundle, its .sha256 and manifest to a file:// destination; then sha256sum -c there
  const destination = fillPlaceholders(`file://${join(dir, 'bucket')}/releases/{version}`, { version }, 'destination');
  const bucket = fileURLToPath(destination);
  await steps.run(
    'upload',
    async () => {
      const files = await selectFiles(listEntries([packed.file, `${packed.file}.sha256`, packed.manifest].join('\n')));
      const opts = {
        concurrency: 2,
        partSize: 64 * 1024 * 1024,
        partConcurrency: 2,
        skipUnchanged: true,
        verify: true,
        dryRun: false,
        resume: true,
        stateDir: join(dir, '.upload-state'),
      };
      const storage = openStorage(destination, {});
      const up = await uploadAll(files, storage, opts);
      const again = await uploadAll(files, storage, opts);
      const check = await sha256sumCheck(bucket, `${basename(packed.file)}.sha256`);
      return { up, again, check };
    },
    (r) => [
      ...r.up.map((o): [string, string, string] => [o.url, o.verified ?? o.status, formatBytes(o.size)]),
      ['again: unchanged', r.again.map((o) => o.status).join(', '), '0 B'],
      [`sha256sum -c ${basename(packed.file)}.sha256`, r.check, ''],
    ],
  );

  // 5. at the site: the downloaded bundle imported (pack-offline import), SHA256SUMS verified first
  const site = join(dir, 'site');
  const imported = await steps.run(
    'import',
    async () => {
      const res = await importArchive({ file: join(bucket, basename(packed.file)), target: SAMPLE.site, pool: new RegistryPool(), layout: site });
      for (const r of res) {
        if (r.result.targets[0].status === 'failed') throw new UserError(`demo: import of ${r.name} failed: ${errorMessage(r.result.targets[0].error)}`);
        const want = packed.images.find((i) => i.name === r.name)?.digest;
        const have = (await new OciLayoutSource(site, r.target).top()).digest;
        if (have !== want) throw new UserError(`demo: ${r.target} at the site is ${have}; the bundle recorded ${want}`);
      }
      return res;
    },
    (res) => res.map((r): [string, string, string] => [`oci:${site}:${r.target}`, r.result.digest ?? '', formatBytes(r.result.bytes)]),
  );

  summary.heading(`Airlift demo: the sample product ${version} through build → sync → pack → upload → import (offline, embedded defaults)`);
  summary.table(['step', 'time', 'what', 'digest / check', 'size'], steps.rows);
  summary.text(
    [
      'Check it with independent tools:',
      `  skopeo inspect --raw oci:${delivery}:${SAMPLE.delivery}/${releaseImage}`,
      `  (cd ${bucket} && sha256sum -c ${basename(packed.file)}.sha256)`,
      `  tar -xf ${join(bucket, basename(packed.file))} -C /tmp && (cd /tmp/${spec.name}-${version} && sha256sum -c SHA256SUMS)`,
      `  skopeo inspect --raw oci:${site}:${imported[0]?.target ?? ''}`,
    ].join('\n'),
  );
  await summary.flush();
  return 0;
}

/** `sha256sum -c` in the folder when it is installed (the independent check), else our own reader. */
async function sha256sumCheck(folder: string, list: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('sha256sum', ['-c', list], { cwd: folder, timeout: 120_000 });
    return `sha256sum: ${stdout.trim().split('\n').join('; ')}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`demo: sha256sum -c ${list} failed in ${folder}: ${errorMessage(err)}`);
    const r = await verifySha256Sums(join(folder, list));
    return `verified ${r.count} (sha256sum is not installed)`;
  }
}
