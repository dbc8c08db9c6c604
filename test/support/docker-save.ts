// A per-architecture `docker save` archive, as a distribution publishes one: one image, its
// layer an uncompressed tar of `files`, written with GNU tar (deterministic: mtime 0, root-owned).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { workDir } from './proc.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes the archive to `out` (uncompressed); returns the layer tar's path (the rootfs). */
export function dockerSaveArchive(out: string, arch: string, files: Record<string, Buffer>, repoTag = `openeuler:${arch}`): { rootfs: string } {
  const root = workDir(`save-${arch}`);
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'fs', path)), { recursive: true });
    writeFileSync(join(root, 'fs', path), data, { mode: 0o755 });
  }
  const rootfs = join(root, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', rootfs, '-C', join(root, 'fs'), '.']);
  const layer = readFileSync(rootfs);
  const img = join(root, 'img');
  mkdirSync(img);
  writeFileSync(join(img, `${sha(layer)}.tar`), layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
      history: [{ created: '2023-08-02T01:03:24Z' }],
    }),
  );
  writeFileSync(join(img, `${sha(config)}.json`), config);
  writeFileSync(join(img, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: [repoTag], Layers: [`${sha(layer)}.tar`] }]));
  execFileSync('tar', ['--sort=name', '--mtime=@0', '-cf', out, '-C', img, '.']);
  return { rootfs };
}
