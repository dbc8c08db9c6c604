// bundle.yaml checks made before anything is fetched, .helmignore as helm reads it, and the
// component checks (links, Chart.yaml, values.yaml) that keep a bundle importable.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec } from '../../src/lib/offline/spec.js';
import { checkLinks, helmIgnore, packageChart, readChart } from '../../src/lib/offline/components.js';
import { splitFile } from '../../src/lib/archive/split.js';

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'spec-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

describe('bundle.yaml', () => {
  const withSpec = (yaml: string, files: Record<string, string> = {}) => {
    const dir = scratch({ 'bundle.yaml': yaml, 'a/installer/x.sh': '', 'b/installer/y.sh': '', 'c1/web/compose.yml': '', 'c2/web/compose.yml': '', ...files });
    return { dir, run: () => loadSpec(join(dir, 'bundle.yaml')), done: () => rmSync(dir, { recursive: true, force: true }) };
  };

  test('files[].to must stay inside files/', () => {
    for (const to of ['../../escaped', '/etc', 'a/../../b', '.', '']) {
      const s = withSpec(`name: p\nversion: 1.0.0\nfiles:\n  - path: a/installer\n    to: "${to}"\n`);
      try {
        assert.throws(s.run, /files\[0\]\.to: ".*" must be a relative path inside files\//, to);
      } finally {
        s.done();
      }
    }
    const ok = withSpec('name: p\nversion: 1.0.0\nfiles:\n  - path: a/installer\n    to: tools/installer/\n');
    try {
      assert.equal(ok.run().files[0].to, 'tools/installer');
    } finally {
      ok.done();
    }
  });

  test('components landing on one name are refused, naming both', () => {
    const cases: [string, RegExp][] = [
      ['files:\n  - a/installer\n  - b/installer\n', /files\[0\] and files\[1\] would both be files\/installer; give one of them a different "to"/],
      ['compose:\n  - c1/web\n  - c2/web\n', /compose\[0\] and compose\[1\] would both be compose\/p-web-docker-compose\.tar\.gz/],
      [
        'files:\n  - path: a/installer\n    to: tools/installer\n  - path: b/installer\n    to: tools\n',
        /files\[0\] \(files\/tools\/installer\) would land inside files\[1\] \(files\/tools\)/,
      ],
      [
        'layout: plugin\nplugin:\n  yaml: a/installer/x.sh\nimages:\n  - r.example/release/app:1\n  - r.example/other/app:1\n',
        /images\[0\] and images\[1\] would both be compass-plugins-p-app-1\.0\.0-image\.tar\.gz/,
      ],
    ];
    for (const [body, re] of cases) {
      const s = withSpec(`name: p\nversion: 1.0.0\n${body}`);
      try {
        assert.throws(s.run, re);
      } finally {
        s.done();
      }
    }
  });

  test('an image listed twice is packed once; a spec with nothing in it is refused', () => {
    const twice = withSpec('name: p\nversion: 1.0.0\nimages:\n  - r.example/app:1\n  - r.example/app:1\n  - r.example/db:1\n');
    try {
      assert.deepEqual(
        twice.run().images.map((r) => r.repository),
        ['app', 'db'],
      );
    } finally {
      twice.done();
    }
    const empty = withSpec('name: p\nversion: 1.0.0\n');
    try {
      assert.throws(empty.run, /names no components \(images, charts, compose, files\): the bundle would be empty/);
    } finally {
      empty.done();
    }
  });
});

describe('.helmignore, as helm package reads it', () => {
  test('root-anchored and structural rules, file-name rules, classes, directory-only rules, templates/ dotfiles', () => {
    const ig = helmIgnore('# comment\n/docs\nsub/*.md\n*.bak\nfoo[.]yaml\n[b-d]x\ntmp/\n', '.helmignore');
    const cases: [string, boolean, boolean][] = [
      ['docs', true, true],
      ['a/docs', true, false],
      ['sub/r.md', false, true],
      ['x/sub/r.md', false, false],
      ['deep/notes.bak', false, true],
      ['foo.yaml', false, true],
      ['fooxyaml', false, false],
      ['cx', false, true],
      ['ax', false, false],
      ['tmp', true, true],
      ['tmp', false, false],
      ['templates/.hidden', false, true],
      ['templates/deploy.yaml', false, false],
      ['.helmignore', false, false],
      ['Chart.yaml', false, false],
    ];
    for (const [rel, dir, want] of cases) assert.equal(ig(rel, dir), want, `${rel}${dir ? '/' : ''}`);
  });

  test('a "!" rule ignores every path it does not match (helm\'s reading); a chart left without Chart.yaml is refused; ** is refused', async () => {
    const ig = helmIgnore('*.txt\n!keep.txt\n', 'h');
    assert.equal(ig('a.txt', false), true);
    assert.equal(ig('keep.txt', false), true, 'the first rule decides: *.txt');
    assert.equal(ig('values.yaml', false), true, 'not keep.txt: ignored by the "!" rule');
    assert.throws(() => helmIgnore('docs/**\n', 'h'), /"docs\/\*\*": the \*\* syntax is not supported/);
    assert.throws(() => helmIgnore('a[bc\n', 'h'), /"a\[bc" is not a valid pattern/);
    const dir = scratch({ 'Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0.0\n', '.helmignore': '!keep.txt\n' });
    try {
      await assert.rejects(packageChart(dir, dir), /\.helmignore: its rules exclude Chart\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('components', () => {
  test('links out of a folder are refused at pack time (the bundle would not import); links inside are fine', async () => {
    const dir = scratch({ 'inst/bin/tool': '#!/bin/sh\n' });
    try {
      symlinkSync('bin/tool', join(dir, 'inst', 'tool'));
      await checkLinks(join(dir, 'inst'), 'files[0]');
      symlinkSync('/usr/bin/env', join(dir, 'inst', 'env'));
      await assert.rejects(checkLinks(join(dir, 'inst'), 'files[0]'), /files\[0\]: env is a symlink to "\/usr\/bin\/env", outside inst\//);
      rmSync(join(dir, 'inst', 'env'));
      symlinkSync('../../etc/passwd', join(dir, 'inst', 'bin', 'up'));
      await assert.rejects(checkLinks(join(dir, 'inst'), 'files[0]'), /bin\/up is a symlink to "\.\.\/\.\.\/etc\/passwd"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Chart.yaml versions are read as written; values.yaml problems name the file', async () => {
    const dir = scratch({ 'Chart.yaml': 'apiVersion: v2\nname: c\nversion: 1.0\n', 'values.yaml': 'global: ""\n' });
    try {
      await assert.rejects(readChart(dir), /version "1\.0" is not SemVer 2/);
      writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: c\nversion: 1.0.0\n');
      await assert.rejects(packageChart(dir, dir, 'r.example'), /values\.yaml: global is not a map, so imageRegistry/);
      writeFileSync(join(dir, 'values.yaml'), 'a: [1\n');
      await assert.rejects(packageChart(dir, dir, 'r.example'), /values\.yaml: not valid YAML/);
      writeFileSync(join(dir, 'values.yaml'), 'global:\nreplicas: 2\n');
      await packageChart(dir, dir, 'r.example');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('split', () => {
  test('more than 1000 parts still sort in order (wider numbers), and a new split removes the old parts', async () => {
    const dir = scratch({});
    try {
      const file = join(dir, 'b.tar');
      const data = randomBytes(1001);
      writeFileSync(file, data);
      const parts = await splitFile(file, 1);
      assert.equal(parts.length, 1001);
      assert.equal(parts[1000].path, `${file}.part-1000`);
      const names = readdirSync(dir)
        .filter((f) => f.includes('.part-'))
        .sort();
      assert.equal(names[0], 'b.tar.part-0000');
      assert.deepEqual(Buffer.concat(names.map((n) => readFileSync(join(dir, n)))), data, 'cat b.tar.part-* gives the file back');
      await splitFile(file, 600);
      assert.deepEqual(readdirSync(dir).sort(), ['b.tar', 'b.tar.part-000', 'b.tar.part-001']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
