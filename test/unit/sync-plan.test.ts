import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan, loadImageList, parseShard, shardOf } from '../../src/lib/sync/plan.js';
import { formatReference, parseReference } from '../../src/lib/registry/reference.js';

const fmt = (items: ReturnType<typeof buildPlan>) => items.map((i) => [formatReference(i.source), i.targets.map(formatReference)]);

describe('references', () => {
  test('normalisation: docker.io/library, ports, tag@digest', () => {
    const d = 'sha256:' + 'a'.repeat(64);
    assert.deepEqual(parseReference('nginx:1.25'), { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' });
    assert.deepEqual(parseReference('127.0.0.1:5000/app'), { registry: '127.0.0.1:5000', repository: 'app' });
    assert.deepEqual(parseReference(`localhost/a/b:v1@${d}`), { registry: 'localhost', repository: 'a/b', tag: 'v1', digest: d });
    assert.deepEqual(parseReference('index.docker.io/bitnami/redis:7'), { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' });
    assert.deepEqual(parseReference('release/app:1', { defaultRegistry: 'harbor.example' }), { registry: 'harbor.example', repository: 'release/app', tag: '1' });
  });

  test('invalid references say why', () => {
    assert.throws(() => parseReference('harbor.x/Rel/app:1'), /"harbor.x\/Rel\/app:1" is not a valid image reference \(repository names are lower-case\)/);
    assert.throws(() => parseReference('a/b@sha256:abc'), /is not a digest/);
    assert.throws(() => parseReference('a/b:-x'), /is not a valid tag/);
    assert.throws(() => parseReference('a//b'), /empty component/);
    assert.throws(() => parseReference('a b'), /white space/);
  });
});

describe('sync plan', () => {
  test('plain list, source-registry for bare lines, target prefix keeps the path', () => {
    const text = '# release images\nrelease/app:1\nharbor.example/release/db:2   # db\n\n';
    assert.deepEqual(fmt(buildPlan({ text }, { sourceRegistry: 'harbor.example', targets: ['cargo.example/caicloud', '127.0.0.1:5000'] })), [
      ['harbor.example/release/app:1', ['cargo.example/caicloud/release/app:1', '127.0.0.1:5000/release/app:1']],
      ['harbor.example/release/db:2', ['cargo.example/caicloud/release/db:2', '127.0.0.1:5000/release/db:2']],
    ]);
  });

  test('strip-prefix', () => {
    assert.deepEqual(fmt(buildPlan({ text: 'harbor.example/release/app:1' }, { targets: ['cargo.example/caicloud'], stripPrefix: 'harbor.example/release' })), [
      ['harbor.example/release/app:1', ['cargo.example/caicloud/app:1']],
    ]);
    assert.throws(
      () => buildPlan({ text: 'x\nharbor.example/other/app:1' }, { targets: ['c.example'], stripPrefix: 'harbor.example/release' }),
      /images line 1: docker.io\/library\/x does not start with strip-prefix/,
    );
  });

  test('YAML mapping: explicit targets, tag renames, null → target prefixes', () => {
    const text =
      'harbor.example/release/app:1.0:\n  - cargo.example/x/app:1.0\n  - ":stable"\nharbor.example/release/db:2: cargo.example/x/db:2\nharbor.example/release/web:3: ~\n';
    assert.deepEqual(fmt(buildPlan({ text }, { targets: ['mirror.example/m'] })), [
      ['harbor.example/release/app:1.0', ['cargo.example/x/app:1.0', 'mirror.example/m/release/app:stable']],
      ['harbor.example/release/db:2', ['cargo.example/x/db:2']],
      ['harbor.example/release/web:3', ['mirror.example/m/release/web:3']],
    ]);
  });

  test('YAML list of entries with tags', () => {
    const text = '- source: harbor.example/release/app:1.0\n  tags: [1.0, latest]\n- source: harbor.example/release/db:2\n  targets: cargo.example/db:2\n';
    assert.deepEqual(fmt(buildPlan({ text }, { targets: ['m.example'] })), [
      ['harbor.example/release/app:1.0', ['m.example/release/app:1.0', 'm.example/release/app:latest']],
      ['harbor.example/release/db:2', ['cargo.example/db:2']],
    ]);
  });

  test('errors name the input, the file and the line', () => {
    assert.throws(
      () => buildPlan({ text: 'a/b:1\n\nharbor.x/Rel/app:1\n' }, { targets: ['c.example'] }),
      /^UserError: images line 3: "harbor.x\/Rel\/app:1" is not a valid image reference \(repository names are lower-case\)$/m,
    );
    assert.throws(() => buildPlan({ text: 'a/b:1\nb/c:Bad Tag\n', file: 'oem-images-lists' }, { targets: ['c.example'] }), /images file oem-images-lists line 2:/);
    assert.throws(() => buildPlan({ text: 'a:1:\n  - q/Bad:1\n' }, { targets: [] }), /images line 2: "q\/Bad:1"/);
    assert.throws(() => buildPlan({ text: '# nothing\n' }, { targets: ['c.example'] }), /^OptionError: lists no images/);
    assert.throws(() => buildPlan({ text: 'a/b:1' }, { targets: [] }), /images line 1: no target for docker.io\/a\/b:1: set the "target" input/);
    assert.throws(() => buildPlan({ text: 'a/b:1' }, { targets: ['notahost/ns'] }), /^OptionError: "notahost\/ns" must start with a registry host/);
    assert.throws(
      () => buildPlan({ text: 'a.example/x:1: c.example/y:1\nb.example/x:1: c.example/y:1\n' }, { targets: [] }),
      /images line 2: c.example\/y:1 is also the target of a.example\/x:1/,
    );
  });

  test('lists as people write them: "app" is "app:latest", explicit targets keep the source tag, a YAML list of references, YAML mistakes shown as such', () => {
    const d = 'sha256:' + 'b'.repeat(64);
    assert.deepEqual(fmt(buildPlan({ text: 'r.example/app\nr.example/app:latest\n' }, { targets: ['t.example'] })), [['r.example/app:latest', ['t.example/app:latest']]]);
    assert.throws(
      () => buildPlan({ text: 'a.example/app\nb.example/app:latest\n' }, { targets: ['t.example'] }),
      /images line 2: t\.example\/app:latest is also the target of a\.example\/app:latest/,
    );
    assert.deepEqual(fmt(buildPlan({ text: `r.example/app:1.0: t.example/mirror/app\nr.example/db@${d}: [t.example/db]\n` }, { targets: [] })), [
      ['r.example/app:1.0', ['t.example/mirror/app:1.0']],
      [`r.example/db@${d}`, [`t.example/db@${d}`]],
    ]);
    assert.deepEqual(fmt(buildPlan({ text: '- r.example/app:1\n- r.example/db:2\n' }, { targets: ['t.example'] })), [
      ['r.example/app:1', ['t.example/app:1']],
      ['r.example/db:2', ['t.example/db:2']],
    ]);
    assert.throws(
      () => buildPlan({ text: '- source: r.example/app:1\n  targets: t.example/app:1\n  tags: [x]\n' }, { targets: [] }),
      /images line 1: "tags" renames under the target prefixes; with "targets", write the tag in each target/,
    );
    assert.throws(() => buildPlan({ text: 'r.example/app:1:\n  - t.example/a:1\n - ":stable"\n' }, { targets: [] }), /images line \d: not valid YAML/);
    // a plain list that YAML can't read stays a plain list
    assert.deepEqual(
      fmt(buildPlan({ text: '  nginx:1.25\n  # db\n  postgres:16\n' }, { targets: ['t.example'] })).map(([s]) => s),
      ['docker.io/library/nginx:1.25', 'docker.io/library/postgres:16'],
    );
  });

  test('source-registry is a host; strip-prefix must leave a name; target is not a URL', () => {
    for (const bad of ['harbor.example/release', 'not a host', 'http://h.example/x'])
      assert.throws(() => buildPlan({ text: 'release/app:1' }, { sourceRegistry: bad, targets: ['t.example'] }), /^OptionError: ".*" must be a registry host\[:port\]/, bad);
    assert.deepEqual(fmt(buildPlan({ text: 'release/app:1' }, { sourceRegistry: 'https://harbor.example:8443/', targets: ['t.example'] })), [
      ['harbor.example:8443/release/app:1', ['t.example/release/app:1']],
    ]);
    assert.throws(
      () => buildPlan({ text: 'h.example/release/app:1' }, { targets: ['t.example'], stripPrefix: 'h.example/release/app' }),
      /strip-prefix "h\.example\/release\/app" is the whole of h\.example\/release\/app, leaving no repository name/,
    );
    assert.throws(
      () => buildPlan({ text: 'h.example/app:1' }, { targets: ['https://t.example/ns'] }),
      /^OptionError: "https:\/\/t\.example\/ns" is a URL; write the registry and namespace without a scheme/,
    );
  });

  test('shards split the list stably and completely', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    assert.throws(() => parseShard('5/4'), /^UserError: "5\/4" is out of range/);
    assert.throws(() => parseShard('0/4'), /out of range/);
    const text = Array.from({ length: 40 }, (_, i) => `r.example/img${i}:1`).join('\n');
    const all = buildPlan({ text }, { targets: ['t.example'] }).map((i) => formatReference(i.source));
    const parts = [1, 2, 3].map((index) => buildPlan({ text }, { targets: ['t.example'], shard: { index, count: 3 } }).map((i) => formatReference(i.source)));
    assert.deepEqual(parts.flat().sort(), [...all].sort());
    assert.ok(parts.every((p) => p.length > 0));
    assert.equal(shardOf(parseReference('r.example/img7:1'), 3), shardOf(parseReference('r.example/img7:1'), 3));
  });

  test('images: inline text or a file; a missing file is an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plan-'));
    writeFileSync(join(dir, 'oem-images-lists'), 'a/b:1\n');
    assert.deepEqual(loadImageList('oem-images-lists', dir), { text: 'a/b:1\n', file: 'oem-images-lists' });
    assert.deepEqual(loadImageList('a/b:1', dir), { text: 'a/b:1' });
    assert.throws(() => loadImageList('images.txt', dir), /^UserError: file images.txt was not found/);
    assert.throws(() => loadImageList('oem-list', dir), /there is no file named oem-list/);
    assert.throws(() => loadImageList('  \n ', dir), /^UserError: no image references: give them one per line/);
    assert.throws(() => loadImageList('# only a comment', dir), /^UserError: lists no images \(only a comment\)/);
    assert.throws(
      () => loadImageList('release/oem-images-lists', dir),
      /there is no file named release\/oem-images-lists \(for the image release\/oem-images-lists:latest, write the tag\)/,
    );
    assert.deepEqual(loadImageList('127.0.0.1:5000/app:1', dir), { text: '127.0.0.1:5000/app:1' });
    assert.deepEqual(loadImageList('nginx:1.25, ghcr.io/org/app', dir), { text: 'nginx:1.25, ghcr.io/org/app' });
  });
});
