// Release tags, tag rules, destinations (registry.yaml), buildx/classic arguments, checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../support/proc.js';
import { deriveTags, isPrerelease, parseTagRules, releaseTag, versionTag, dockerTag } from '../../src/lib/release/tags.js';
import { loadDestinations } from '../../src/lib/release/registries.js';
import { buildxArgs, buildxLoadArgs, classicArgs, parseCache, validatePlatforms, type BuildSpec } from '../../src/lib/docker/build.js';
import { checkRunArgs, parseCheck } from '../../src/lib/docker/check.js';
import { loadMeta, ociLabels } from '../../src/lib/release/labels.js';
import { parseArchiveLines } from '../../src/lib/release/archives.js';

const noEvent = {} as NodeJS.ProcessEnv;

test('version tags: from the first digit, lower-cased; docker-invalid characters replaced', () => {
  assert.equal(versionTag('openEuler-22.03-LTS-SP1'), '22.03-lts-sp1');
  assert.equal(versionTag('v1.2.0'), '1.2.0');
  assert.equal(versionTag('2024.1'), '2024.1');
  assert.equal(versionTag('Nightly'), 'nightly');
  assert.equal(dockerTag('release/1.0', 'tag'), 'release-1.0');
  assert.throws(() => dockerTag('///', 'tag'), /tag "\/\/\/" cannot be made into a docker tag/);
});

test('release tag: the input, else GITHUB_REF refs/tags/…; a branch ref is an error', () => {
  assert.equal(releaseTag(' v1 ', {}), 'v1');
  assert.equal(releaseTag('', { GITHUB_REF: 'refs/tags/openEuler-22.03-LTS-SP1' }), 'openEuler-22.03-LTS-SP1');
  assert.throws(() => releaseTag('', { GITHUB_REF: 'refs/heads/main' }), /^UserError: no tag given and GITHUB_REF \(refs\/heads\/main\) is not a tag/);
});

test('prereleases: semver pre-release parts and rc/beta/alpha/dev words; LTS and SP are not', () => {
  for (const t of ['v1.2.3-rc.1', '1.0.0-1', 'v2.0-beta', 'v3-alpha2', 'release-2024.1-dev', '1.0.0-SNAPSHOT']) assert.equal(isPrerelease(t, noEvent), true, t);
  for (const t of ['v1.2.3', 'openEuler-22.03-LTS-SP1', 'v1.2', 'v1.2.3+build.5', 'prelude-1.0', 'devops-2.0']) assert.equal(isPrerelease(t, noEvent), false, t);
});

test('a GitHub release event decides: its prerelease flag wins over the tag shape', () => {
  const ev = join(workDir('event'), 'event.json');
  writeFileSync(ev, JSON.stringify({ release: { prerelease: true } }));
  assert.equal(isPrerelease('v1.2.3', { GITHUB_EVENT_NAME: 'release', GITHUB_EVENT_PATH: ev }), true);
  assert.equal(isPrerelease('v1.2.3', { GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: ev }), false);
});

test('tag rules: YAML and key=value; special patterns; latest only for non-prereleases under auto', () => {
  const yaml = parseTagRules('special:\n  "openEuler-22.03-*": [22.03, lts]\n  v9*: nine\nlatest: auto\n');
  assert.deepEqual(deriveTags('openEuler-22.03-LTS-SP1', 'openEuler-22.03-LTS-SP1', yaml, noEvent).tags, ['openEuler-22.03-LTS-SP1', '22.03-lts-sp1', '22.03', 'lts', 'latest']);
  assert.deepEqual(deriveTags('v2.0.0-rc.1', '', yaml, noEvent).tags, ['v2.0.0-rc.1']);
  const kv = parseTagRules('tag=false\nversion=true\nlatest=false\nspecial.openeuler-22.03-lts*=22.03');
  assert.deepEqual(deriveTags('x', 'openEuler-22.03-LTS-SP1', kv, noEvent).tags, ['22.03-lts-sp1', '22.03'], 'patterns match in any case');
  assert.deepEqual(deriveTags('v1-rc1', '', parseTagRules('latest: true'), noEvent).tags, ['v1-rc1', 'latest']);
  assert.throws(() => deriveTags('v1', '', parseTagRules('tag: false\nlatest: false'), noEvent), /leave no tag to push/);
  assert.throws(() => parseTagRules('latests: auto'), /^UserError: unknown rule "latests"/);
  assert.throws(() => parseTagRules('special:\n  v1*: "bad tag"'), /^UserError: special "v1\*": "bad tag" is not a valid docker tag/);
  assert.throws(() => parseTagRules('tag: maybe'), /^UserError: tag must be true or false/);
});

test('destinations: image + inline list, registry.yaml with env credentials, every mistake named', () => {
  const dir = workDir('dest');
  const yaml = join(dir, 'registry.yaml');
  writeFileSync(yaml, '- repository: harbor.example/release/app\n  username-env: H_USER\n  password-env: H_PASS\n- repository: cargo.example/caicloud/app\n  insecure: true\n');
  const env = { H_USER: 'u', H_PASS: 'p' };
  const d = loadDestinations('ghcr.io/acme/app', 'registry.yaml', { cwd: dir, env });
  assert.deepEqual(
    d.map((x) => `${x.repository.registry}/${x.repository.repository}`),
    ['ghcr.io/acme/app', 'harbor.example/release/app', 'cargo.example/caicloud/app'],
  );
  assert.deepEqual(d[1].credentials, { username: 'u', password: 'p' });
  assert.equal(d[2].insecure, true);
  assert.equal(loadDestinations('', 'a.example/x/app\nb.example/y/app # mirror', { env }).length, 2);
  // comma-separated on one line: each named by its own line; a comment may hold a comma
  assert.throws(
    () => loadDestinations('', 'a.example/x/app, b.example/y/app # mirrors, both\nc.example/z/app, Bad/Repo', { env }),
    /^UserError: registries, line 2: "Bad\/Repo" is not a valid/,
  );
  assert.equal(loadDestinations('', 'a.example/x/app, b.example/y/app # mirrors, both', { env }).length, 2);
  assert.throws(() => loadDestinations('', '', { env }), /^UserError: image \(or registries\) is required/);
  assert.throws(() => loadDestinations('', 'missing.yaml', { cwd: dir, env }), /^UserError: registries: file missing.yaml was not found/);
  assert.throws(() => loadDestinations('', 'registry.yaml', { cwd: dir, env: {} }), /entry 1: environment variable H_USER \(username-env\) is not set/);
  writeFileSync(yaml, 'registries:\n  harbor:\n    repository: harbor.example/release/app\n    password: inline\n');
  assert.throws(() => loadDestinations('', 'registry.yaml', { cwd: dir, env }), /harbor: unknown key "password"/);
  writeFileSync(yaml, 'registries:\n  harbor:\n    username-env: H_USER\n');
  assert.throws(() => loadDestinations('', 'registry.yaml', { cwd: dir, env }), /harbor: "repository" \(the full repository path/);
  assert.throws(() => loadDestinations('a.example/x/app', 'a.example/x/app', { env }), /a.example\/x\/app is named twice/);
  assert.throws(() => loadDestinations('Bad/Repo', '', { env }), /^UserError: image: "Bad\/Repo" is not a valid image reference/);
  writeFileSync(yaml, '- repository: a.example/x/app\n  insecure: "yes"\n');
  assert.throws(() => loadDestinations('', 'registry.yaml', { cwd: dir, env }), /entry 1: insecure must be true or false, not "yes"/);
});

test('platforms: normalised, unknown ones refused with the reason', () => {
  assert.deepEqual(validatePlatforms(['linux/x86_64', 'linux/arm64', 'linux/arm/v7']), ['linux/amd64', 'linux/arm64', 'linux/arm/v7']);
  assert.throws(() => validatePlatforms(['amd64']), /^UserError: "amd64" is not a platform/);
  assert.throws(() => validatePlatforms(['plan9/amd64']), /os "plan9" is not one of/);
  assert.throws(() => validatePlatforms(['linux/arm/v9']), /arm has the variants v5, v6, v7, not "v9"/);
  assert.deepEqual(validatePlatforms(['linux/amd64/v3', 'linux/arm64/v8']), ['linux/amd64/v3', 'linux/arm64/v8']);
  assert.throws(() => validatePlatforms(['linux/amd64/v7']), /amd64 has the variants v1, v2, v3, v4, not "v7"/);
  assert.throws(() => validatePlatforms(['linux/s390x/v1']), /s390x has no variants/);
  assert.throws(() => validatePlatforms(['linux/amd64', 'linux/x86_64']), /linux\/amd64 is listed twice/);
});

const spec: BuildSpec = {
  context: '/src',
  dockerfile: '/src/Dockerfile',
  platforms: ['linux/amd64', 'linux/arm64'],
  buildArgs: ['A=1'],
  labels: { 'org.opencontainers.image.version': '1.0' },
  tags: ['r.example/app:1.0', 'r.example/app:latest'],
  cache: { kind: 'gha', scope: 'r.example-app' },
};

test('buildx arguments: platforms, labels, gha or registry cache, OCI archive output (no names: one index entry); no credentials involved', () => {
  assert.deepEqual(buildxArgs(spec, '/tmp/x/image.oci.tar'), [
    'buildx',
    'build',
    '--platform',
    'linux/amd64,linux/arm64',
    '--file',
    '/src/Dockerfile',
    '--build-arg',
    'A=1',
    '--label',
    'org.opencontainers.image.version=1.0',
    '--cache-from',
    'type=gha,scope=r.example-app',
    '--cache-to',
    'type=gha,mode=max,scope=r.example-app',
    '--output',
    'type=oci,dest=/tmp/x/image.oci.tar',
    '/src',
  ]);
  const none = buildxArgs({ ...spec, platforms: [], cache: parseCache('none', 's') }, '/o.tar');
  assert.equal(none.includes('--platform'), false);
  assert.equal(none.includes('--cache-from'), false);
  assert.deepEqual(parseCache('r.example/cache:buildx', 's'), { kind: 'registry', ref: 'r.example/cache:buildx' });
  assert.throws(() => parseCache('Not A Ref', 's'), /^UserError: "Not A Ref" is neither none, gha nor a registry cache reference/);
});

test('buildx --load arguments (docker driver): one platform, names and image ID file', () => {
  assert.deepEqual(buildxLoadArgs({ ...spec, platforms: ['linux/arm64'], cache: { kind: 'none' } }, '/w/iid'), [
    'buildx',
    'build',
    '--load',
    '--platform',
    'linux/arm64',
    '--file',
    '/src/Dockerfile',
    '--build-arg',
    'A=1',
    '--label',
    'org.opencontainers.image.version=1.0',
    '--tag',
    'r.example/app:1.0',
    '--tag',
    'r.example/app:latest',
    '--iidfile',
    '/w/iid',
    '/src',
  ]);
});

test('classic arguments: one platform, --platform only when foreign, image ID file', () => {
  const host = [
    'build',
    '--file',
    '/src/Dockerfile',
    '--build-arg',
    'A=1',
    '--label',
    'org.opencontainers.image.version=1.0',
    '--tag',
    'r.example/app:1.0',
    '--tag',
    'r.example/app:latest',
    '--iidfile',
    '/w/iid',
  ];
  assert.deepEqual(classicArgs({ ...spec, platforms: ['linux/amd64'] }, '/w/iid'), process.arch === 'x64' ? [...host, '/src'] : [...host, '--platform', 'linux/amd64', '/src']);
  assert.deepEqual(classicArgs({ ...spec, platforms: ['linux/s390x'] }, '/w/iid').slice(-3), ['--platform', 'linux/s390x', '/src']);
});

test('check: shell form through /bin/sh -c, JSON array as exec form; run without network', () => {
  assert.deepEqual(parseCheck('app --version && echo ok'), { shell: true, argv: ['/bin/sh', '-c', 'app --version && echo ok'] });
  assert.deepEqual(parseCheck('["/app", "--version"]'), { shell: false, argv: ['/app', '--version'] });
  assert.equal(parseCheck('  '), undefined);
  assert.throws(() => parseCheck('[not json'), /^UserError: starts with "\[" but is not a JSON array/);
  assert.throws(() => parseCheck('[]'), /non-empty JSON array of strings/);
  assert.deepEqual(checkRunArgs('img', parseCheck('["/app"]')!, 'linux/arm64'), ['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', '--entrypoint', '/app', 'img']);
});

test('meta.yml: tags with {tag}/{version}, file order kept, mistakes named', () => {
  const dir = workDir('meta');
  const meta = join(dir, 'meta.yml');
  writeFileSync(meta, 'cuda12-{version}: ai/Dockerfile.cuda12\n"{tag}-pytorch": ai/Dockerfile.pytorch\n');
  assert.deepEqual(loadMeta(meta, { tag: 'v1.0', version: '22.03-lts' }), [
    { tag: 'cuda12-22.03-lts', dockerfile: 'ai/Dockerfile.cuda12' },
    { tag: 'v1.0-pytorch', dockerfile: 'ai/Dockerfile.pytorch' },
  ]);
  writeFileSync(meta, 'x-{arch}: Dockerfile\n');
  assert.throws(() => loadMeta(meta, { tag: 'v1', version: '' }), /tag "x-\{arch\}" uses \{arch\}; the placeholders are \{tag\} and \{version\}/);
  writeFileSync(meta, 'x: 3\n');
  assert.throws(() => loadMeta(meta, { tag: 'v1', version: '' }), /tag "x" must map to a Dockerfile path/);
  assert.throws(() => loadMeta(join(dir, 'none.yml'), { tag: 'v1', version: '' }), /^OptionError: \S+none.yml was not found/);
  writeFileSync(meta, 'cuda12-{version}: Dockerfile\n');
  assert.throws(() => loadMeta(meta, { tag: 'v1', version: '' }), /^OptionError: \S+meta.yml: tag "cuda12-\{version\}" uses \{version\}, and no version is given/);
});

test("labels: source from GITHUB_*, SOURCE_DATE_EPOCH for created, the user's labels win", async () => {
  const l = await ociLabels({
    dir: workDir('nogit'),
    version: '1.0',
    extra: ['org.opencontainers.image.version=override', 'team=a=b'],
    env: { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/app', GITHUB_SHA: 'abc123', SOURCE_DATE_EPOCH: '1700000000' },
  });
  assert.deepEqual(l, {
    'org.opencontainers.image.source': 'https://github.com/acme/app',
    'org.opencontainers.image.revision': 'abc123',
    'org.opencontainers.image.version': 'override',
    'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
    team: 'a=b',
  });
});

test('from-archives lines: platforms, {version} {arch} {index}, sha256; mistakes named by line', () => {
  const lines = (text: string) =>
    text
      .split('\n')
      .map((value, i) => ({ value, line: i + 1 }))
      .filter((l) => l.value.trim());
  const url = 'https://repo.example.com/openEuler-{version}/{index}/{arch}/openEuler-docker.{arch}.tar.xz';
  assert.deepEqual(parseArchiveLines(lines(`linux/amd64=${url}\nlinux/arm64=${url} sha256:${'a'.repeat(64)}`), { version: '22.03-LTS-SP1' }), [
    { platform: 'linux/amd64', location: 'https://repo.example.com/openEuler-22.03-LTS-SP1/docker_img/x86_64/openEuler-docker.x86_64.tar.xz', sha256: undefined },
    { platform: 'linux/arm64', location: 'https://repo.example.com/openEuler-22.03-LTS-SP1/docker_img/aarch64/openEuler-docker.aarch64.tar.xz', sha256: 'a'.repeat(64) },
  ]);
  assert.equal(
    parseArchiveLines(lines(`arm64=${url}`), { version: '22.03-LTS-SP1', updateDate: '2023-08-02' })[0].location,
    'https://repo.example.com/openEuler-22.03-LTS-SP1/docker_img/update/2023-08-02/aarch64/openEuler-docker.aarch64.tar.xz',
  );
  assert.throws(() => parseArchiveLines(lines(`linux/amd64=${url}`), { version: '../../x' }), /line 1: \{version\} cannot be "\.\.\/\.\.\/x"/);
  assert.throws(() => parseArchiveLines(lines(`linux/amd64=${url}`), {}), /line 1 uses \{version\}, but no version is set/);
  assert.throws(() => parseArchiveLines(lines(`\nlinux/amd64 ${url}`), { version: '1' }), /line 2: "linux\/amd64 .*" is not <platform>=<path or URL> \[sha256\]/);
  assert.throws(() => parseArchiveLines(lines(`linux/amd64=a.tar\namd64=b.tar`), {}), /line 2: linux\/amd64 is listed twice/);
  assert.throws(() => parseArchiveLines(lines(`linux/amd64/v2/x=a.tar`), {}), /line 1: "linux\/amd64\/v2\/x" is not a platform/);
  assert.throws(() => parseArchiveLines([], {}), /lists no archive/);
});
