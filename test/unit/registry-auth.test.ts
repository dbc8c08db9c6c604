import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialChain, dockerConfigSource, parseChallenges, parseRegistryAuth } from '../../src/lib/registry/auth.js';
import { configureLog, redact } from '../../src/lib/log.js';

configureLog({ mode: 'cli', write: () => undefined });

describe('WWW-Authenticate', () => {
  test('bearer with realm, service, scope; basic; quoted commas', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull,push' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    assert.deepEqual(parseChallenges('Bearer realm="https://x/token",error="insufficient_scope"')[0].params.error, 'insufficient_scope');
    assert.deepEqual(parseChallenges(undefined), []);
  });
});

describe('docker config credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcfg-'));
  const bin = mkdtempSync(join(tmpdir(), 'dhelper-'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub-secret-1').toString('base64') },
        'harbor.example': { identitytoken: 'refresh-token-xyz' },
      },
      credHelpers: { 'ecr.example': 'airlifttest' },
      credsStore: 'airlifttest',
    }),
  );
  // a credential helper speaking the docker-credential protocol: server URL on stdin
  writeFileSync(
    join(bin, 'docker-credential-airlifttest'),
    '#!/bin/sh\nread server\ncase "$server" in\n  ecr.example) echo \'{"ServerURL":"ecr.example","Username":"AWS","Secret":"helper-secret-2"}\' ;;\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n',
  );
  chmodSync(join(bin, 'docker-credential-airlifttest'), 0o755);

  test('auths (base64 and identity tokens), credHelpers, credsStore fallback', async () => {
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      const src = dockerConfigSource(dir);
      assert.deepEqual(await src('docker.io'), { username: 'hubuser', password: 'hub-secret-1', identityToken: undefined });
      assert.deepEqual(await src('harbor.example'), { username: undefined, password: undefined, identityToken: 'refresh-token-xyz' });
      assert.deepEqual(await src('ecr.example'), { username: 'AWS', password: 'helper-secret-2' });
      assert.equal(await src('other.example'), undefined, 'credsStore says not found');
      // everything read became a secret
      assert.equal(redact('hub-secret-1 helper-secret-2 refresh-token-xyz'), '*** *** ***');
    } finally {
      process.env.PATH = saved;
    }
  });

  test('explicit registry-auth entries win over the docker config', async () => {
    const chain = credentialChain(parseRegistryAuth('docker.io: { username: ci, password: ci-pass-3 }'), dockerConfigSource(dir));
    assert.deepEqual(await chain('docker.io'), { username: 'ci', password: 'ci-pass-3' });
  });
});

describe('registry-auth input', () => {
  test('literal values and env var names; https:// and trailing slashes normalised', () => {
    const entries = parseRegistryAuth('https://harbor.example/: { username-env: H_USER, password-env: H_PASS }\nindex.docker.io: { username: me, password: pw-literal-4 }', {
      H_USER: 'robot',
      H_PASS: 'env-pass-5',
    });
    assert.deepEqual(
      entries.map((e) => [e.registry, e.credentials.username, e.credentials.password]),
      [
        ['harbor.example', 'robot', 'env-pass-5'],
        ['docker.io', 'me', 'pw-literal-4'],
      ],
    );
    assert.equal(redact('env-pass-5 pw-literal-4'), '*** ***');
    // unquoted values that look like numbers stay as written
    assert.deepEqual(
      parseRegistryAuth('r.example: { username: 007, password: 0123456 }\nq.example: { username: u, password: 12e3 }').map((e) => e.credentials.password),
      ['0123456', '12e3'],
    );
  });

  test('mistakes name the registry and what to fix, never a value', () => {
    assert.throws(
      () => parseRegistryAuth('r.example: { username-env: NOPE_USER, password: x12 }', {}),
      /^UserError: registry r.example: environment variable NOPE_USER \(username-env\) is not set/,
    );
    assert.throws(() => parseRegistryAuth('r.example: { user: a, password: b }'), /unknown key "user"/);
    assert.throws(() => parseRegistryAuth('r.example: { username: a }'), /both a username and a password are needed/);
    assert.throws(() => parseRegistryAuth('- a\n- b'), /expected a map of registry/);
    assert.throws(() => parseRegistryAuth('r.example: [unclosed'), /^UserError: not valid YAML/);
    assert.deepEqual(parseRegistryAuth('  '), []);
  });
});
