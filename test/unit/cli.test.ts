import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cli, formatOutputs } from '../../src/cli/index.js';
import { parseActionArgs, suggest } from '../../src/cli/args.js';
import { loadAction } from '../../src/actions/index.js';
import { UserError } from '../../src/lib/errors.js';

const sync = await loadAction('sync-images');

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) delete process.env[k];
  process.exitCode = 0;
});

describe('argument parsing', () => {
  test('--name value, --name=value, bare booleans, --no-, repeated list flags', () => {
    const p = parseActionArgs('sync-images', sync.inputs, ['--images', 'a:1', '--target=r1.example/ns', '--target', 'r2.example/ns', '--dry-run', '--no-fail-fast', '--json']);
    assert.deepEqual(p.values, { images: 'a:1', target: 'r1.example/ns\nr2.example/ns', 'dry-run': 'true', 'fail-fast': 'false' });
    assert.equal(p.json, true);
    const q = parseActionArgs('sync-images', sync.inputs, ['--dry-run', 'false', '--images', 'x']);
    assert.equal(q.values['dry-run'], 'false');
  });

  test('mistakes are named', () => {
    assert.throws(() => parseActionArgs('sync-images', sync.inputs, ['--concurency', '4']), /unknown option --concurency for sync-images; did you mean --concurrency\?/);
    // a boolean given a value that is not true or false names the input, not "an unexpected argument"
    assert.throws(
      () => parseActionArgs('sync-images', sync.inputs, ['--dry-run', 'maybe', '--images', 'x']),
      /input "dry-run" is true or false, not "maybe" \(--dry-run, --no-dry-run or --dry-run=false\)/,
    );
    assert.throws(() => parseActionArgs('sync-images', sync.inputs, ['--concurrency']), /option --concurrency needs a value/);
    assert.throws(() => parseActionArgs('sync-images', sync.inputs, ['--concurrency', '1', '--concurrency', '2']), /given twice/);
    assert.throws(() => parseActionArgs('sync-images', sync.inputs, ['images.txt']), UserError);
    assert.equal(suggest('zzzzzz', ['images']), undefined);
  });

  test('outputs print as name=value, multi-line values as heredocs', () => {
    assert.equal(formatOutputs({ synced: '3', urls: 'a\nb' }), 'synced=3\nurls<<AIRLIFT_EOF\na\nb\nAIRLIFT_EOF');
    assert.equal(formatOutputs({ x: 'AIRLIFT_EOF\nq' }), 'x<<AIRLIFT_EOF_\nAIRLIFT_EOF\nq\nAIRLIFT_EOF_');
  });
});

describe('cli', () => {
  test('demo: a mistyped or valueless flag is refused before anything is made', async () => {
    const a = io();
    assert.equal(await cli(['demo', '--verison', '2.0.0'], a.io), 1);
    assert.match(a.err.join('\n'), /demo: unknown argument "--verison" \(use --real, --output-dir, --version, --product\)/);
    const b = io();
    assert.equal(await cli(['demo', '--output-dir'], b.io), 1);
    assert.match(b.err.join('\n'), /demo: --output-dir needs a value/);
  });

  test('--help lists every action; <action> --help lists every input and output', async () => {
    const a = io();
    assert.equal(await cli(['--help'], a.io), 0);
    for (const n of ['setup-buildx-qemu', 'build-release-image', 'sync-images', 'pack-offline', 'build-ami', 'upload-oss']) assert.match(a.out[0], new RegExp(`\\n  ${n} `));
    const b = io();
    assert.equal(await cli(['upload-oss', '--help'], b.io), 0);
    for (const n of Object.keys((await loadAction('upload-oss')).inputs)) assert.match(b.out[0], new RegExp(`--${n} `));
    assert.match(b.out[0], /--part-size <size>\s+Multipart part size[\s\S]*?\(default: 16MiB\)/);
    assert.match(b.out[0], /Outputs:\n\s+urls /);
  });

  test('an unknown action is a usage error with a suggestion', async () => {
    const a = io();
    assert.equal(await cli(['sync-image'], a.io), 2);
    assert.match(a.err.join('\n'), /unknown action "sync-image"; did you mean sync-images\?/);
  });

  test('a bad input value exits 1 and names the input', async () => {
    const a = io();
    assert.equal(await cli(['upload-oss', '--source', 'x', '--destination', 'ftp://host/x'], a.io), 1);
    assert.match(a.err.join('\n'), /error: input "destination": unknown scheme "ftp:\/\/" \(use oss:\/\/, s3:\/\/, https:\/\/, http:\/\/ or file:\/\/\)/);
  });

  test('INPUT_ environment variables are honoured', async () => {
    const a = io();
    process.env['INPUT_PART-SIZE'] = 'huge';
    assert.equal(await cli(['upload-oss', '--source', 'x', '--destination', 'file:///tmp/x'], a.io), 1);
    assert.match(a.err.join('\n'), /input "part-size": "huge" is not a size/);
  });
});
