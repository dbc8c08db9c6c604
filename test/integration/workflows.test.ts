// The workflows a person dispatches, run by a real workflow runner (act, self-hosted mode,
// offline) with `tag` and `version` inputs, against real servers. actions/checkout is replaced
// by a local stand-in (test/support/act/checkout) through act's local-repository option,
// because it cannot be fetched here.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatch, needsAct, startArtifactShim, type ArtifactShim } from '../support/act.js';
import { needsMoto, startAws } from '../support/ec2.js';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { startRegistry, startRegistryWithFixture, type Registry } from '../support/registry.js';
import { dockerSaveArchive } from '../support/docker-save.js';
import { runCli } from '../support/cli.js';
import { SAMPLE, sampleProduct } from '../../src/cli/demo.js';
import { placeProduct } from '../../src/cli/demo-real.js';
import { builtTool, needsBuiltTools, startBuildkitd, TOOL_VERSIONS } from '../support/buildkitd.js';
import { BINFMT, ensureBinfmtMounted, registerHostHandlers, unregisterHandler } from '../../src/lib/docker/qemu.js';
import { inspectRaw, sha256, type Fixture } from '../support/fixtures.js';

describe('workflows under act', { skip: needsAct() || needsMoto() || needs('docker-registry') }, () => {
  let aws: Awaited<ReturnType<typeof startAws>>;
  let src: Registry;
  let fx: Fixture;
  before(async () => {
    [aws, { fx, reg: src }] = await Promise.all([startAws(), startRegistryWithFixture({ images: ['app', 'db'] })]);
  });
  after(async () => {
    await aws?.stop();
    await src?.stop();
  });

  test('build-ami.yml, dispatched with tag, version and a disk image: an AMI in two regions, tagged with the release tag', async () => {
    const disk = join(workDir('act-disk'), 'product-1.2.0.raw');
    writeFileSync(disk, Buffer.alloc(2 * 1024 * 1024, 7));
    const r = await dispatch('build-ami.yml', {
      inputs: { tag: 'v1.2.0', version: '1.2.0', 'disk-image': disk },
      vars: { AMI_S3_URI: 's3://images/workflow', AWS_ENDPOINT: aws.front.url, AMI_COPY_TO_REGIONS: 'eu-west-1', AMI_NAME: 'product-{version}-{arch}', AMI_POLL_INTERVAL: '200ms' },
      secrets: { AWS_ACCESS_KEY_ID: aws.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.s3.secretAccessKey },
    });
    assert.equal(r.code, 0, r.output.slice(-4000));
    assert.match(r.output, /Job succeeded/);
    const amis = JSON.parse(r.outputs['region-amis']) as Record<string, string>;
    assert.deepEqual(Object.keys(amis), ['us-east-1', 'eu-west-1']);
    // the AMIs are in moto, named from the dispatch's version, tagged with its tag
    const { EC2Client, DescribeImagesCommand } = await import('@aws-sdk/client-ec2');
    for (const [region, id] of Object.entries(amis)) {
      const ec2 = new EC2Client({ region, endpoint: aws.moto.url, credentials: { accessKeyId: aws.s3.accessKeyId, secretAccessKey: aws.s3.secretAccessKey } });
      const img = (await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
      assert.equal(img.Name, 'product-1.2.0-x86_64', region);
      assert.ok(
        img.Tags?.some((t) => t.Key === 'release-tag' && t.Value === 'v1.2.0'),
        `${region}: tagged with the release tag`,
      );
    }
    assert.equal(aws.front.badSignatures, 0);
    assert.match(r.output, /### AMI product-1\.2\.0-x86_64/, 'the job summary lists the AMIs');
  });

  test('plugin-release.yml, dispatched with tag, version and a plugin spec: the plugin package and its .sha256 under plugins/<name>/, verified', async () => {
    const dir = workDir('act-plugin');
    writeFileSync(join(dir, 'demo.yaml'), `apiVersion: compass/v1\nkind: Plugin\nspec:\n  version: 1.2.0\n  containers:\n    - image: ${src.host}/release/app:1.0.0\n`);
    writeFileSync(join(dir, 'bundle.yaml'), `name: demo\nversion: 0.0.0\nlayout: plugin\nimages:\n  list:\n    - ${src.host}/release/app:1.0.0\nplugin:\n  yaml: demo.yaml\n`);
    const r = await dispatch('plugin-release.yml', {
      inputs: { tag: 'plugin-v1.2.0', version: '1.2.0', spec: join(dir, 'bundle.yaml') },
      vars: { PLUGIN_DESTINATION: 's3://images/plugins', UPLOAD_ENDPOINT: aws.s3.endpoint, UPLOAD_REGION: 'us-east-1' },
      secrets: { UPLOAD_ACCESS_KEY_ID: aws.s3.accessKeyId, UPLOAD_ACCESS_KEY_SECRET: aws.s3.secretAccessKey },
    });
    assert.equal(r.code, 0, r.output.slice(-4000));
    const stored = join(aws.s3.dataDir, 'images', 'plugins', 'demo');
    const bundle = readFileSync(join(stored, 'compass-plugins-demo-1.2.0.tar.gz._S3rver_object'));
    const sums = readFileSync(join(stored, 'compass-plugins-demo-1.2.0.tar.gz.sha256._S3rver_object'), 'utf8');
    assert.equal(sums.trim(), `${sha256(bundle).slice(7)}  compass-plugins-demo-1.2.0.tar.gz`, 'the .sha256 beside it verifies the uploaded package');
    // the package holds the image the plugin yaml names, with its digest
    const x = workDir('act-plugin-x');
    writeFileSync(join(x, 'p.tar.gz'), bundle);
    execFileSync('tar', ['-xzf', join(x, 'p.tar.gz'), '-C', x]);
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: x, stdio: 'pipe' });
    const m = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8')) as { images: { digest: string }[] };
    assert.equal(m.images[0].digest, fx.images[0].manifests[0].digest);
    assert.match(r.output, /### Plugin plugin-v1\.2\.0/);
  });

  test('publish-container.yml, dispatched with tag, version and per-architecture archives: one index pushed to every registry of the registry.yaml under the derived tags', async () => {
    const mirror = await startRegistry();
    try {
      const dir = workDir('act-publish');
      // as a distribution publishes them: docker save archives, each with its .sha256 beside it
      for (const [file, arch] of [
        ['product.x86_64.tar', 'amd64'],
        ['product.aarch64.tar', 'arm64'],
      ]) {
        dockerSaveArchive(join(dir, file), arch, { 'etc/release': Buffer.from(`product 1.2.0 ${arch}\n`) });
        writeFileSync(join(dir, `${file}.sha256`), `${sha256(readFileSync(join(dir, file))).slice(7)}  ${file}\n`);
      }
      writeFileSync(join(dir, 'registry.yaml'), `registries:\n  - repository: ${mirror.host}/mirror/product\n`);
      const r = await dispatch('publish-container.yml', {
        inputs: { tag: 'v1.2.0', version: '1.2.0', archives: `linux/amd64=${join(dir, 'product.x86_64.tar')}\nlinux/arm64=${join(dir, 'product.aarch64.tar')}` },
        vars: { IMAGE: `${src.host}/release/product`, REGISTRIES_FILE: join(dir, 'registry.yaml'), VERIFY_DESCRIBE: 'false' },
      });
      assert.equal(r.code, 0, r.output.slice(-4000));
      const digest = r.outputs.digest;
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      // skopeo reads the same index from both registries, both platforms, under the tag and the version
      for (const ref of [`${src.host}/release/product:v1.2.0`, `${src.host}/release/product:1.2.0`, `${mirror.host}/mirror/product:v1.2.0`]) {
        const raw = inspectRaw(ref);
        assert.equal(sha256(raw), digest, ref);
        assert.deepEqual(
          (JSON.parse(raw) as { manifests: { platform: { architecture: string } }[] }).manifests.map((m) => m.platform.architecture),
          ['amd64', 'arm64'],
        );
      }
      assert.match(r.output, /### Published `sha256:[0-9a-f]{64}`/);
    } finally {
      await mirror.stop();
    }
  });

  test('release-offline.yml, dispatched with tag, version and archives: release image published, product images synced, the bundle (with the release image) packed and uploaded with its checksums', async () => {
    const delivery = await startRegistry();
    let artifacts: ArtifactShim | undefined;
    try {
      const dir = workDir('act-release');
      for (const [file, arch] of [
        ['product.x86_64.tar', 'amd64'],
        ['product.aarch64.tar', 'arm64'],
      ]) {
        dockerSaveArchive(join(dir, file), arch, { 'etc/release': Buffer.from(`product 2.0.0 ${arch}\n`) });
        writeFileSync(join(dir, `${file}.sha256`), `${sha256(readFileSync(join(dir, file))).slice(7)}  ${file}\n`);
      }
      writeFileSync(join(dir, 'images.txt'), 'release/app:1.0.0\nrelease/db:1.0.0\n');
      mkdirSync(join(dir, 'installer'));
      writeFileSync(join(dir, 'installer', 'install.sh'), '#!/bin/sh\necho install\n', { mode: 0o755 });
      writeFileSync(
        join(dir, 'bundle.yaml'),
        `name: product\nversion: 0.0.0\nimages:\n  list:\n    - ${src.host}/release/product:{version}\n    - ${src.host}/release/db:1.0.0\n  platform: linux/amd64\nfiles:\n  - path: installer\n`,
      );
      // the bundle kept as a workflow artifact in act's artifact server (through the shim that
      // removes the one field act's server does not know yet; see startArtifactShim)
      artifacts = await startArtifactShim();
      const r = await dispatch('release-offline.yml', {
        artifacts,
        inputs: { tag: 'v2.0.0', version: '2.0.0', archives: `linux/amd64=${join(dir, 'product.x86_64.tar')}\nlinux/arm64=${join(dir, 'product.aarch64.tar')}` },
        vars: {
          IMAGE: `${src.host}/release/product`,
          VERIFY_DESCRIBE: 'false',
          SYNC_IMAGES: join(dir, 'images.txt'),
          SYNC_SOURCE_REGISTRY: src.host,
          SYNC_TARGET: `${delivery.host}/delivery`,
          BUNDLE_SPEC: join(dir, 'bundle.yaml'),
          KEEP_ARTIFACT: 'true',
          RELEASE_DESTINATION: 's3://images/releases/{version}',
          UPLOAD_ENDPOINT: aws.s3.endpoint,
          UPLOAD_REGION: 'us-east-1',
        },
        secrets: { UPLOAD_ACCESS_KEY_ID: aws.s3.accessKeyId, UPLOAD_ACCESS_KEY_SECRET: aws.s3.secretAccessKey },
      });
      assert.equal(r.code, 0, r.output.slice(-5000));
      // the release image, both platforms; the product images in the delivery registry
      assert.equal(sha256(inspectRaw(`${src.host}/release/product:2.0.0`)), r.outputs.digest);
      assert.equal(sha256(inspectRaw(`${delivery.host}/delivery/release/db:1.0.0`)), fx.images[1].index.digest);
      // the uploaded bundle verifies against its .sha256, and holds the release image of this version
      const stored = join(aws.s3.dataDir, 'images', 'releases', '2.0.0');
      const bundle = readFileSync(join(stored, 'product-2.0.0.tar._S3rver_object'));
      assert.equal(readFileSync(join(stored, 'product-2.0.0.tar.sha256._S3rver_object'), 'utf8').trim(), `${sha256(bundle).slice(7)}  product-2.0.0.tar`);
      const x = workDir('act-release-x');
      writeFileSync(join(x, 'b.tar'), bundle);
      execFileSync('tar', ['-xf', join(x, 'b.tar'), '-C', x]);
      execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(x, 'product-2.0.0'), stdio: 'pipe' });
      const m = JSON.parse(readFileSync(join(x, 'product-2.0.0', 'manifest.json'), 'utf8')) as { images: { name: string }[] };
      assert.deepEqual(
        m.images.map((i) => i.name),
        [`${src.host}/release/product:2.0.0`, `${src.host}/release/db:1.0.0`],
      );
      assert.match(r.output, /### Release v2\.0\.0/);
      // the artifact: @actions/artifact's zip in act's store holds the same bundle and checksums
      await artifacts.stop();
      assert.equal(artifacts.stripped, 1, 'the shim removed mime_type from the one CreateArtifact');
      assert.ok(artifacts.restored >= 1, "the upload came back with act's signed parameters re-encoded, and the shim restored them");
      assert.match(r.outputs['artifact-id'] ?? '', /^\d+$/);
      const zips = readdirSync(artifacts.dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.zip'));
      assert.equal(zips.length, 1, zips.join(', '));
      const unz = workDir('act-artifact');
      execFileSync('python3', ['-m', 'zipfile', '-e', join(artifacts.dir, zips[0]), unz]);
      assert.deepEqual(readFileSync(join(unz, 'product-2.0.0.tar')), bundle, 'the artifact holds the uploaded bundle, byte for byte');
      execFileSync('sha256sum', ['-c', 'product-2.0.0.tar.sha256'], { cwd: unz, stdio: 'pipe' });
    } finally {
      await artifacts?.stop();
      await delivery.stop();
    }
  });

  test(
    'publish-container.yml, dispatched with tag and version, building the sample product: setup-buildx-qemu (host QEMU, buildx from a file, a remote BuildKit) then a two-platform build, checked on both (arm64 through QEMU), pushed to both registries',
    { skip: needs('root', 'dockerd', 'docker', 'qemu-aarch64-static') || needsBuiltTools(['buildx', 'buildx'], ['buildkit', 'buildkitd']) },
    async () => {
      await ensureBinfmtMounted();
      const had = existsSync(join(BINFMT, 'qemu-aarch64'));
      const delivery = await startRegistry();
      const bk = await startBuildkitd();
      const { startDockerd } = await import('../support/dockerd.js');
      const d = await startDockerd();
      const dir = workDir('act-build');
      const stepEnv = { DOCKER_HOST: d.host, DOCKER_CONFIG: join(dir, 'docker-config'), XDG_CACHE_HOME: join(dir, 'cache') };
      try {
        const product = join(dir, 'product');
        await placeProduct(sampleProduct(), product, { [SAMPLE.registry]: src.host, [SAMPLE.delivery]: delivery.host });
        const r = await dispatch('publish-container.yml', {
          inputs: { tag: 'v3.1.0', version: '3.1.0' },
          vars: {
            IMAGE: `${src.host}/product/hello`,
            REGISTRIES_FILE: join(product, 'registry.yaml'),
            CONTEXT: product,
            VERIFY_DESCRIBE: 'false',
            PLATFORMS: 'linux/amd64,linux/arm64',
            CHECK: '["/hello"]',
            QEMU_MODE: 'host',
            BUILDX_URL: builtTool('buildx', 'buildx'),
            BUILDX_VERSION: TOOL_VERSIONS.buildx,
            BUILDX_DRIVER: 'remote',
            BUILDKIT_ENDPOINT: bk.endpoint,
          },
          stepEnv,
        });
        assert.equal(r.code, 0, r.output.slice(-6000));
        assert.match(r.output, /setup-buildx-qemu/);
        const digest = r.outputs.digest;
        for (const ref of [`${src.host}/product/hello:v3.1.0`, `${src.host}/product/hello:3.1.0`, `${delivery.host}/product/hello:v3.1.0`])
          assert.equal(sha256(inspectRaw(ref)), digest, ref);
        const index = JSON.parse(inspectRaw(`${delivery.host}/product/hello:3.1.0`)) as { manifests: { platform?: { architecture: string } }[] };
        assert.deepEqual(
          index.manifests
            .map((m) => m.platform?.architecture)
            .filter((a) => a && a !== 'unknown')
            .sort(),
          ['amd64', 'arm64'],
        );
        // each platform holds its own program: the arm64 one, run through QEMU, says hello too
        for (const arch of ['amd64', 'arm64']) {
          const rootfs = join(workDir(`act-build-${arch}`), 'rootfs');
          execFileSync('skopeo', ['copy', '--quiet', '--override-arch', arch, '--src-tls-verify=false', `docker://${delivery.host}/product/hello:3.1.0`, `oci:${rootfs}-oci:x`]);
          execFileSync('umoci', ['raw', 'unpack', '--rootless', '--image', `${rootfs}-oci:x`, rootfs], { stdio: 'pipe' });
          assert.deepEqual(readFileSync(join(rootfs, 'hello')), readFileSync(join(product, 'bin', `linux-${arch}`, 'hello')), arch);
        }
        assert.match(r.output, /### Published `sha256:[0-9a-f]{64}`/);
      } finally {
        spawnSync('docker', ['buildx', 'rm', '--all-inactive', '--force'], { env: { ...process.env, ...stepEnv }, stdio: 'ignore' });
        await d.stop();
        await bk.stop();
        await delivery.stop();
        if (had) await registerHostHandlers(['linux/arm64']);
        else await unregisterHandler('aarch64');
      }
    },
  );

  test(
    'the one-step recipe (actions/release-offline), dispatched on the sample product; then the site: the bundle imported with the CLI into a fresh registry, the release image docker-pulled by digest and run',
    { skip: needs('root', 'dockerd', 'docker', 'skopeo') },
    async () => {
      const [delivery, site] = await Promise.all([startRegistry(), startRegistry()]);
      const { startDockerd } = await import('../support/dockerd.js');
      const d = await startDockerd();
      try {
        const dir = workDir('act-recipe');
        const product = join(dir, 'product');
        await placeProduct(sampleProduct(), product, { [SAMPLE.registry]: src.host, [SAMPLE.delivery]: delivery.host });
        // the product's other images are in its registry, as images.txt names them
        for (const [from, to] of [
          ['release/db:1.0.0', 'product/db:1.0.0'],
          ['release/app:1.0.0', 'product/web:1.0.0'],
        ])
          execFileSync('skopeo', ['copy', '--all', '--quiet', '--dest-tls-verify=false', '--src-tls-verify=false', `docker://${src.host}/${from}`, `docker://${src.host}/${to}`]);
        // the release image from per-architecture archives holding the sample's programs
        const archives: string[] = [];
        for (const [file, arch] of [
          ['hello.x86_64.tar', 'amd64'],
          ['hello.aarch64.tar', 'arm64'],
        ]) {
          dockerSaveArchive(join(dir, file), arch, {
            hello: readFileSync(join(product, 'bin', `linux-${arch}`, 'hello')),
            'etc/product-release': readFileSync(join(product, 'release.txt')),
          });
          archives.push(`linux/${arch}=${join(dir, file)} ${sha256(readFileSync(join(dir, file))).slice(7)}`);
        }
        const r = await dispatch('release-offline-recipe.yml', {
          inputs: { tag: 'v2.0.0', version: '2.0.0', archives: archives.join('\n') },
          vars: {
            IMAGE: `${src.host}/product/hello`,
            REGISTRIES_FILE: join(product, 'registry.yaml'),
            VERIFY_DESCRIBE: 'false',
            SYNC_IMAGES: join(product, 'images.txt'),
            SYNC_SOURCE_REGISTRY: src.host,
            SYNC_TARGET: delivery.host,
            BUNDLE_SPEC: join(product, 'bundle.yaml'),
            RELEASE_DESTINATION: 's3://images/recipe/{version}',
            UPLOAD_ENDPOINT: aws.s3.endpoint,
            UPLOAD_REGION: 'us-east-1',
          },
          secrets: { UPLOAD_ACCESS_KEY_ID: aws.s3.accessKeyId, UPLOAD_ACCESS_KEY_SECRET: aws.s3.secretAccessKey },
        });
        assert.equal(r.code, 0, r.output.slice(-5000));
        assert.match(r.output, /### Release v2\.0\.0 \(one step\)/);
        assert.equal(sha256(inspectRaw(`${delivery.host}/product/hello:2.0.0`)), r.outputs.digest, 'pushed to the delivery registry of registry.yaml');
        assert.equal(sha256(inspectRaw(`${delivery.host}/product/db:1.0.0`)), fx.images[1].index.digest, 'the image list synced');

        // the site: the bundle as downloaded (with its .sha256), imported by the CLI, pulled by docker
        const stored = join(aws.s3.dataDir, 'images', 'recipe', '2.0.0');
        const x = workDir('act-recipe-site');
        for (const f of ['product-2.0.0.tar', 'product-2.0.0.tar.sha256', 'product-2.0.0.tar.manifest.json'])
          writeFileSync(join(x, f), readFileSync(join(stored, `${f}._S3rver_object`)));
        execFileSync('sha256sum', ['-c', 'product-2.0.0.tar.sha256'], { cwd: x, stdio: 'pipe' });
        const imported = await runCli(['pack-offline', '--mode', 'import', '--archive', join(x, 'product-2.0.0.tar'), '--target', site.host]);
        assert.equal(imported.code, 0, imported.stderr);
        const manifest = JSON.parse(readFileSync(join(x, 'product-2.0.0.tar.manifest.json'), 'utf8')) as { images: { name: string; digest: string }[] };
        assert.deepEqual(manifest.images.map((i) => i.name).sort(), [
          `${delivery.host}/product/db:1.0.0`,
          `${delivery.host}/product/hello:2.0.0`,
          `${delivery.host}/product/web:1.0.0`,
        ]);
        const hello = manifest.images.find((i) => i.name.endsWith('/product/hello:2.0.0'))!;
        const pulled = `${site.host}/product/hello@${hello.digest}`;
        d.docker(['pull', '--quiet', pulled]);
        assert.ok(
          (JSON.parse(d.docker(['image', 'inspect', pulled])) as { RepoDigests: string[] }[])[0].RepoDigests.includes(pulled),
          'docker has it under the digest the bundle recorded',
        );
        assert.equal(d.docker(['run', '--rm', '--network', 'none', pulled, '/hello']), 'hello from the Airlift sample product\n');
      } finally {
        await d.stop();
        await Promise.all([delivery.stop(), site.stop()]);
      }
    },
  );
});
