import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { forInput, forInputs, input, parseDuration, parseSize, readInputs, specDrift } from '../../src/lib/inputs.js';
import { listEntries } from '../../src/lib/list.js';
import { asOption, OptionError, UserError } from '../../src/lib/errors.js';
import { loaders, loadAction } from '../../src/actions/index.js';
import { manifests } from '../../src/generated/actions.js';
import { configureLog, redact } from '../../src/lib/log.js';

const ROOT = join(import.meta.dirname, '..', '..');

function withEnv(vars: Record<string, string>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

describe('parsers', () => {
  test('sizes: decimal, binary and bare units', () => {
    assert.equal(parseSize('512MiB'), 512 * 1024 * 1024);
    assert.equal(parseSize('5GB'), 5e9);
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('1.5 GiB'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('64m'), 64 * 1024 * 1024);
    assert.equal(parseSize('12XB'), undefined);
    assert.equal(parseSize('-1MB'), undefined);
    assert.equal(parseSize(''), undefined);
  });

  test('durations: units, compounds, bare seconds', () => {
    assert.equal(parseDuration('30m'), 30 * 60_000);
    assert.equal(parseDuration('1h30m'), 90 * 60_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('2d'), 2 * 86_400_000);
    assert.equal(parseDuration('1x'), undefined);
    assert.equal(parseDuration('m30'), undefined);
  });

  test('lists split on newlines and commas, drop comments and blanks, keep line numbers', () => {
    const text = '# images for 2.0\nharbor.x/app:1, harbor.x/db:2\n\n  harbor.x/web:3   # the front end\n#harbor.x/old:0\n';
    assert.deepEqual(listEntries(text), [
      { value: 'harbor.x/app:1', line: 2 },
      { value: 'harbor.x/db:2', line: 2 },
      { value: 'harbor.x/web:3', line: 4 },
    ]);
  });
});

describe('readInputs', () => {
  let restore: () => void = () => undefined;
  beforeEach(() => configureLog({ mode: 'cli', write: () => undefined }));
  afterEach(() => restore());

  test('applies action.yml defaults when no INPUT_ variable is set', async () => {
    const sync = await loadAction('sync-images');
    restore = withEnv({ INPUT_IMAGES: 'a/b:1' });
    const def = readInputs('sync-images', sync.inputs);
    assert.equal(def.concurrency, 16);
    assert.equal(def.blobConcurrency, 32);
    assert.equal(def.dryRun, false);
    assert.deepEqual(def.platforms, ['all']);
    assert.equal(def.images, 'a/b:1');
  });

  test('reports every bad input at once, naming each', async () => {
    const sync = await loadAction('sync-images');
    restore = withEnv({ INPUT_IMAGES: 'x', INPUT_CONCURRENCY: 'lots', 'INPUT_DRY-RUN': 'maybe', INPUT_SHARD: '3' });
    assert.throws(
      () => readInputs('sync-images', sync.inputs),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /input "concurrency": "lots" is not a whole number/);
        assert.match(err.message, /input "dry-run": "maybe" is not a boolean/);
        assert.match(err.message, /input "shard": "3" is not valid \(i\/n/);
        return true;
      },
    );
  });

  test('a missing required input names it and says what it is', async () => {
    const up = await loadAction('upload-oss');
    restore = withEnv({ INPUT_SOURCE: 'a.tar' });
    assert.throws(() => readInputs('upload-oss', up.inputs), /input "destination" is required: oss:\/\/bucket/);
  });

  test('a secret is registered before validation, so no message can carry it', async () => {
    const up = await loadAction('upload-oss');
    // part-size is not secret, so its bad value is quoted in the message; since it equals a
    // registered secret, the printed line must still not contain it.
    restore = withEnv({ INPUT_SOURCE: 'a', INPUT_DESTINATION: 'file:///tmp/x', 'INPUT_ACCESS-KEY-SECRET': 'hunter2-secret', 'INPUT_PART-SIZE': 'hunter2-secret' });
    const lines: string[] = [];
    configureLog({ mode: 'cli', write: (l) => lines.push(l) });
    assert.throws(() => readInputs('upload-oss', up.inputs), UserError);
    assert.equal(redact('the key is hunter2-secret'), 'the key is ***');
    const { reportError } = await import('../../src/lib/run.js');
    try {
      readInputs('upload-oss', up.inputs);
    } catch (err) {
      reportError(err);
    }
    assert.ok(lines.some((l) => l.includes('input "part-size"')));
    assert.ok(
      lines.every((l) => !l.includes('hunter2')),
      lines.join('\n'),
    );
  });

  test('a secret input with a bad value is described, not quoted', async () => {
    const { parseValue } = await import('../../src/lib/inputs.js');
    assert.throws(
      () => parseValue(input.integer({ secret: true }), 'topsecret'),
      (e: unknown) => e instanceof Error && e.name === 'InputValueError' && e.message === 'the value is not a whole number',
    );
  });

  test('enum values are matched case-insensitively and normalised', async () => {
    const up = await loadAction('upload-oss');
    restore = withEnv({ INPUT_SOURCE: 'a', INPUT_DESTINATION: 'file:///tmp/x', 'INPUT_HTTP-METHOD': 'post' });
    assert.equal(readInputs('upload-oss', up.inputs).httpMethod, 'POST');
  });

  test('empty optional size is undefined, empty required-kind values are errors', async () => {
    const pack = await loadAction('pack-offline');
    restore = withEnv({ 'INPUT_SPLIT-SIZE': '', 'INPUT_RETENTION-DAYS': '' });
    assert.throws(() => readInputs('pack-offline', pack.inputs), /input "retention-days": is empty \(expected a whole number\)/);
    restore();
    restore = withEnv({ 'INPUT_SPLIT-SIZE': '' });
    assert.equal(readInputs('pack-offline', pack.inputs).splitSize, undefined);
  });
});

describe('the entry names the input, the library the value', () => {
  const fails = (err: Error) => () => {
    throw err;
  };
  test('forInput places any user error, sync or async; other errors pass as they are', async () => {
    assert.throws(() => forInput('shard', fails(new UserError('"3" is not i/n'))), /^UserError: input "shard": "3" is not i\/n$/);
    await assert.rejects(
      forInput('shard', async () => {
        await new Promise((r) => setTimeout(r, 1));
        throw new UserError('late');
      }),
      /^UserError: input "shard": late$/,
    );
    assert.throws(() => forInput('shard', fails(new TypeError('a bug'))), /^TypeError: a bug$/);
    assert.equal(
      forInput('shard', () => 42),
      42,
    );
  });
  test('forInputs places an option error by its option; an unmapped or plain user error is left alone', async () => {
    const names = { accessKeySecret: 'access-key-secret', role: 'role-arn' };
    assert.throws(() => forInputs(names, fails(new OptionError('accessKeySecret', 'is missing'))), /^UserError: input "access-key-secret": is missing$/);
    await assert.rejects(
      forInputs(names, async () => {
        throw new OptionError('role', 'needs an OIDC token');
      }),
      /^UserError: input "role-arn": needs an OIDC token$/,
    );
    assert.throws(() => forInputs(names, fails(new OptionError('endpoint', 'bad'))), /^OptionError: bad$/);
    assert.throws(() => forInputs(names, fails(new UserError('line 3: bad'))), /^UserError: line 3: bad$/);
  });
  test('asOption turns a check of one value into an option error, which forInputs then places', () => {
    assert.throws(() => forInputs({ targets: 'target' }, () => asOption('targets', fails(new UserError('"x" is a URL')))), /^UserError: input "target": "x" is a URL$/);
    const own = new OptionError('list', 'lists no images');
    assert.throws(
      () => asOption('targets', fails(own)),
      (err) => err === own,
    );
  });
});

describe('inputs never drift from action.yml', () => {
  const recipes = ['release-offline'];
  const actionDirs = readdirSync(join(ROOT, 'actions'))
    .filter((d) => !recipes.includes(d))
    .sort();

  test('there are six actions and each has a loader; the recipe is the one composite', () => {
    assert.deepEqual(actionDirs, ['build-ami', 'build-release-image', 'pack-offline', 'setup-buildx-qemu', 'sync-images', 'upload-oss']);
    assert.deepEqual(
      readdirSync(join(ROOT, 'actions')).filter((d) => !actionDirs.includes(d)),
      recipes,
    );
    assert.deepEqual(Object.keys(loaders).sort(), actionDirs);
  });

  for (const name of actionDirs) {
    test(`${name}: every declared input is read, every read input is declared`, async () => {
      const def = await loadAction(name);
      assert.equal(def.name, name);
      assert.deepEqual(specDrift(name, def.inputs), []);
      // the generated manifest matches the action.yml on disk (catches a stale src/generated)
      const doc = parse(readFileSync(join(ROOT, 'actions', name, 'action.yml'), 'utf8'));
      assert.deepEqual(Object.keys(doc.inputs).sort(), Object.keys(def.inputs).sort());
      assert.equal(doc.runs.using, 'node24');
      assert.equal(doc.runs.main, `../../dist/${name}/index.js`);
      assert.equal(Boolean(doc.runs.post), Boolean(def.post));
      for (const [k, v] of Object.entries(doc.inputs as Record<string, { description?: string; required?: boolean; default?: unknown }>)) {
        assert.ok(v.description && v.description.length > 10, `${name}.${k} needs a description`);
        assert.ok(v.required === true || v.default !== undefined, `${name}.${k}: optional inputs declare a default`);
        assert.match(k, /^[a-z][a-z0-9-]*$/, `${name}.${k} is kebab-case`);
      }
      for (const [k, v] of Object.entries(doc.outputs as Record<string, { description?: string }>)) assert.ok(v.description, `${name} output ${k} needs a description`);
    });
  }

  test('release-offline (composite): each step runs a bundle that exists and sets only inputs that action declares; every input of the recipe is used', () => {
    const doc = parse(readFileSync(join(ROOT, 'actions', 'release-offline', 'action.yml'), 'utf8')) as {
      inputs: Record<string, { required?: boolean; default?: string }>;
      outputs: Record<string, { value: string }>;
      runs: { using: string; steps: { id: string; run: string; env: Record<string, string> }[] };
    };
    assert.equal(doc.runs.using, 'composite');
    const used = new Set<string>();
    for (const step of doc.runs.steps) {
      const ran = [...step.run.matchAll(/\$GITHUB_ACTION_PATH\/\.\.\/\.\.\/dist\/([a-z-]+)\/(index|post)\.js/g)];
      assert.ok(ran.length > 0, `${step.id} runs an Airlift bundle`);
      for (const [, name, phase] of ran) {
        assert.ok(existsSync(join(ROOT, 'dist', name, `${phase}.js`)), `dist/${name}/${phase}.js exists`);
        const declared = Object.keys(manifests[name].inputs);
        for (const key of Object.keys(step.env)) {
          assert.match(key, /^INPUT_[A-Z0-9-]+$/, `${step.id}: ${key}`);
          assert.ok(declared.includes(key.slice(6).toLowerCase()), `${step.id}: ${name} has no input ${key.slice(6).toLowerCase()}`);
        }
      }
      for (const [key, v] of Object.entries(step.env)) {
        for (const m of v.matchAll(/inputs\.([a-z-]+)/g)) used.add(m[1]);
        // an input set to "" is "" to the action (its own default applies only when unset): a
        // recipe input passed straight through defaults to what the action would
        const direct = /^\$\{\{ inputs\.([a-z-]+) \}\}$/.exec(v.trim());
        const own = manifests[ran[0][1]].inputs[key.slice(6).toLowerCase()].default ?? '';
        if (direct && own !== '' && !doc.inputs[direct[1]].required)
          assert.equal(doc.inputs[direct[1]].default, own, `${step.id}: recipe input ${direct[1]} defaults to ${ran[0][1]}'s ${key.slice(6).toLowerCase()}`);
      }
      if ('if' in step) for (const m of String((step as { if: string }).if).matchAll(/inputs\.([a-z-]+)/g)) used.add(m[1]);
    }
    assert.deepEqual(
      Object.keys(doc.inputs).filter((k) => !used.has(k)),
      [],
      'every input reaches a step',
    );
    for (const [k, v] of Object.entries(doc.outputs)) assert.match(v.value, /steps\.(image|sync|pack|upload)\.outputs\./, `output ${k}`);
  });

  test('nothing outside src/lib/inputs.ts calls getInput', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, f.name);
        if (f.isDirectory()) walk(p);
        else if (f.name.endsWith('.ts') && !p.endsWith(join('lib', 'inputs.ts')) && /\bget(Boolean|Multiline)?Input\(|process\.env\[?['"`.]?INPUT_/.test(readFileSync(p, 'utf8')))
          offenders.push(p);
      }
    };
    walk(join(ROOT, 'src', 'actions'));
    walk(join(ROOT, 'src', 'lib'));
    assert.deepEqual(offenders, []);
  });
});
