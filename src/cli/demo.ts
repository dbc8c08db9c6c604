// `airlift demo`: the main job on embedded defaults: no network, no accounts. An embedded
// two-platform release image is written to an OCI layout, then synced by the same engine
// sync-images uses: every platform byte for byte, and an amd64-only copy; every digest is
// checked. (Later issues extend it into the whole chain: image → offline bundle → upload.)
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../lib/errors.js';
import { formatBytes } from '../lib/format.js';
import { Copier } from '../lib/image/copy.js';
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
    if (t.status === 'failed') throw new UserError(`demo: copy to ${r.target} failed: ${String(t.error)}`);
    const written = await new OciLayoutSource(r.target, tag).top();
    if (written.digest !== result.digest) throw new UserError(`demo: ${r.target} holds ${written.digest}, expected ${result.digest}`);
    if (!r.platforms && written.digest !== image.index.digest) throw new UserError('demo: the mirror is not byte for byte the source');
    rows.push([r.name, `oci:${r.target}:${tag}`, result.platforms.join(', '), written.digest.slice(0, 19), formatBytes(result.bytes)]);
  }
  const again = await copier.copy(new OciLayoutSource(release, tag), [new OciLayoutTarget(runs[0].target, tag)]);
  rows.push(['mirror again (up to date)', `oci:${runs[0].target}:${tag}`, '', again.targets[0].status, '0 B']);

  summary.heading('Airlift demo: sync on embedded data');
  summary.table(['step', 'target', 'platforms', 'digest', 'copied'], rows);
  summary.text(`Inspect with: skopeo inspect --raw oci:${runs[0].target}:${tag}`);
  await summary.flush();
  return 0;
}
