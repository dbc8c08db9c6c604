// `airlift demo`: the main job on embedded defaults: no network, no accounts. An embedded
// two-platform release image goes through the release chain with the engines the actions use:
// synced (every platform byte for byte, and an amd64-only copy), packed into an offline
// archive with its checksum file, uploaded (to a directory standing in for the bucket:
// verified, then skipped as unchanged), and imported back at the "site" with the checksums
// verified first. Every digest is checked on the way.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { errorMessage, UserError } from '../lib/errors.js';
import { formatBytes } from '../lib/format.js';
import { Copier } from '../lib/image/copy.js';
import { ArchiveReader } from '../lib/image/archive-reader.js';
import { ArchiveWriter } from '../lib/image/archive-writer.js';
import { formatSha256Sums, verifySha256Sums } from '../lib/archive/checksums.js';
import { listEntries } from '../lib/inputs.js';
import { openStorage } from '../lib/storage/open.js';
import { selectFiles } from '../lib/storage/select.js';
import { uploadAll } from '../lib/storage/upload.js';
import { parsePlatform } from '../lib/image/manifest.js';
import { OciLayoutSource, OciLayoutTarget } from '../lib/image/oci-layout.js';
import { writeSyntheticImage } from '../lib/image/synthetic.js';
import { info, summary } from '../lib/log.js';
import { airliftVersion } from '../generated/actions.js';
import type { CliIO } from './index.js';

export async function runDemo(argv: string[], _io: CliIO): Promise<number> {
  const i = argv.indexOf('--output-dir');
  const dir = i >= 0 && argv[i + 1] ? resolve(argv[i + 1]) : await mkdtemp(join(tmpdir(), 'airlift-demo-'));
  const tag = '1.0.0';
  info(`airlift demo ${airliftVersion}: working in ${dir}`);

  const release = join(dir, 'release');
  const image = await writeSyntheticImage(new OciLayoutTarget(release, tag), {
    platforms: [parsePlatform('linux/amd64'), parsePlatform('linux/arm64')],
    files: { 'etc/airlift-release': `product demo\nversion ${tag}\n`, 'opt/demo/README': 'An embedded image: the demo needs no network.\n' },
  });
  info(`built oci:${release}:${tag} (${image.manifests.length} platforms, ${image.index.digest})`);

  const copier = new Copier({ blobConcurrency: 4 });
  const rows: string[][] = [];
  const runs = [
    { name: 'mirror (every platform)', target: join(dir, 'mirror'), platforms: undefined },
    { name: 'site (linux/amd64 only)', target: join(dir, 'site-amd64'), platforms: [parsePlatform('linux/amd64')] },
  ];
  for (const r of runs) {
    const result = await copier.copy(new OciLayoutSource(release, tag), [new OciLayoutTarget(r.target, tag)], { platforms: r.platforms });
    const t = result.targets[0];
    if (t.status === 'failed') throw new UserError(`demo: copy to ${r.target} failed: ${errorMessage(t.error)}`);
    const written = await new OciLayoutSource(r.target, tag).top();
    if (written.digest !== result.digest) throw new UserError(`demo: ${r.target} holds ${written.digest}, expected ${result.digest}`);
    if (!r.platforms && written.digest !== image.index.digest) throw new UserError('demo: the mirror is not byte for byte the source');
    rows.push([r.name, `oci:${r.target}:${tag}`, result.platforms.join(', '), written.digest.slice(0, 19), formatBytes(result.bytes)]);
  }
  const again = await copier.copy(new OciLayoutSource(release, tag), [new OciLayoutTarget(runs[0].target, tag)]);
  rows.push(['mirror again (up to date)', `oci:${runs[0].target}:${tag}`, '', again.targets[0].status, '0 B']);


  // offline archive (pack-offline's writer), with a checksum file sha256sum -c accepts
  const offline = join(dir, 'offline');
  await mkdir(offline, { recursive: true });
  const archive = join(offline, `demo-${tag}.tar`);
  const writer = new ArchiveWriter(archive, 'oci-archive');
  const packed = await copier.copy(new OciLayoutSource(release, tag), [writer.target(`registry.example/release/demo:${tag}`)]);
  if (packed.targets[0].status === 'failed') {
    await writer.abort();
    throw new UserError(`demo: packing failed: ${errorMessage(packed.targets[0].error)}`);
  }
  const saved = await writer.finish();
  await writeFile(`${archive}.sha256`, formatSha256Sums([{ file: basename(archive), sha256: saved.sha256 }]));
  rows.push(['offline archive', archive, packed.platforms.join(', '), `sha256:${saved.sha256.slice(0, 12)}`, formatBytes(saved.size)]);

  // upload (upload-oss's engine) to a directory standing in for the bucket; then again: unchanged
  const bucket = `file://${join(dir, 'bucket')}/releases/${tag}`;
  const files = await selectFiles(listEntries(`${archive}\n${archive}.sha256`));
  const uploadOpts = { concurrency: 2, partSize: 64 * 1024 * 1024, partConcurrency: 2, skipUnchanged: true, verify: true, dryRun: false, resume: true, stateDir: join(dir, '.upload-state') };
  const storage = openStorage(bucket, {});
  const up = await uploadAll(files, storage, uploadOpts);
  for (const o of up) rows.push([`upload ${o.key}`, o.url, '', o.verified ?? o.status, formatBytes(o.size)]);
  const upAgain = await uploadAll(files, storage, uploadOpts);
  rows.push(['upload again (unchanged)', bucket, '', upAgain.map((o) => o.status).join(', '), '0 B']);

  // at the site: the uploaded archive's checksums verified, then imported (pack-offline import's reader)
  const uploaded = join(dir, 'bucket', 'releases', tag, basename(archive));
  await verifySha256Sums(`${uploaded}.sha256`);
  const reader = await ArchiveReader.open(uploaded);
  try {
    const [img] = await reader.images();
    const siteDir = join(dir, 'site-import');
    const imported = await copier.copy(img.source, [new OciLayoutTarget(siteDir, tag)]);
    if (imported.targets[0].status === 'failed') throw new UserError(`demo: import failed: ${errorMessage(imported.targets[0].error)}`);
    if (imported.digest !== image.index.digest) throw new UserError(`demo: the imported image is ${imported.digest}, the release is ${image.index.digest}`);
    rows.push(['import at the site', `oci:${siteDir}:${tag}`, imported.platforms.join(', '), imported.digest!.slice(0, 19), formatBytes(imported.bytes)]);
  } finally {
    await reader.close();
  }

  summary.heading('Airlift demo: the release chain on embedded data (sync → offline archive → upload → import)');
  summary.table(['step', 'target', 'platforms', 'digest / check', 'bytes'], rows);
  summary.text(`Inspect with: skopeo inspect --raw oci:${runs[0].target}:${tag}; check the upload with: (cd ${join(dir, 'bucket', 'releases', tag)} && sha256sum -c ${basename(archive)}.sha256)`);
  await summary.flush();
  return 0;
}
