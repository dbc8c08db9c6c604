// A real registry (Debian docker-registry, distribution v2) on a free loopback port:
// no auth, htpasswd basic auth, or token auth with a small token issuer beside it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ServerProcess, waitFor, workDir } from './proc.js';

export type AuthMode = 'none' | 'htpasswd' | 'token';

export interface Registry {
  /** host:port, as used in image references */
  host: string;
  url: string;
  auth: AuthMode;
  users: Record<string, string>;
  dataDir: string;
  process: ServerProcess;
  tokenServer?: ServerProcess;
  tokenUrl?: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: AuthMode;
  users?: Record<string, string>;
  /** token mode: anonymous clients get pull access */
  anonymousPull?: boolean;
  /** answer with relative Location headers (http.relativeurls) */
  relativeUrls?: boolean;
  /** token lifetime in seconds (token mode) */
  tokenExpiresIn?: number;
}

const SERVICE = 'airlift-test-registry';
const ISSUER = 'airlift-test-issuer';

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? (auth === 'none' ? {} : { airlift: 'airlift-pass-1' });
  const dir = workDir(`registry-${auth}`);
  const port = await freePort();
  let authYaml = '';
  let tokenServer: ServerProcess | undefined;
  let tokenUrl: string | undefined;

  if (auth === 'htpasswd') {
    const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-nbB', u, p], { encoding: 'utf8' }).trim());
    writeFileSync(join(dir, 'htpasswd'), lines.join('\n') + '\n');
    authYaml = `auth:\n  htpasswd:\n    realm: airlift-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=airlift-test-token-issuer'],
      { stdio: 'ignore' },
    );
    writeFileSync(join(dir, 'users.json'), JSON.stringify(users));
    const tport = await freePort();
    tokenUrl = `http://127.0.0.1:${tport}/token`;
    const script = fileURLToPath(new URL('./servers/token-server.mjs', import.meta.url));
    tokenServer = new ServerProcess(
      'token-server',
      process.execPath,
      [
        script,
        '--port',
        String(tport),
        '--key',
        join(dir, 'key.pem'),
        '--cert',
        join(dir, 'cert.pem'),
        '--issuer',
        ISSUER,
        '--service',
        SERVICE,
        '--users',
        join(dir, 'users.json'),
        ...(opts.anonymousPull ? ['--anonymous-pull'] : []),
        ...(opts.tokenExpiresIn ? ['--expires-in', String(opts.tokenExpiresIn)] : []),
      ],
      { logDir: dir },
    );
    await waitFor('token server', async () => (await fetch(`http://127.0.0.1:${tport}/stats`)).ok, { alive: () => tokenServer!.alive });
    authYaml = `auth:\n  token:\n    realm: ${tokenUrl}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${join(dir, 'cert.pem')}\n`;
  }

  const config = `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: airlift-test-${port}
  relativeurls: ${opts.relativeUrls ? 'true' : 'false'}
${authYaml}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const proc = new ServerProcess('registry', 'docker-registry', ['serve', join(dir, 'config.yml')], { logDir: dir });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'docker-registry',
      async () => {
        const r = await fetch(`${url}/v2/`);
        return r.status === 200 || r.status === 401;
      },
      { alive: () => proc.alive },
    );
  } catch (err) {
    await tokenServer?.stop();
    throw new Error(`${(err as Error).message}\n${proc.log().slice(-2000)}`, { cause: err });
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    auth,
    users,
    dataDir: join(dir, 'data'),
    process: proc,
    tokenServer,
    tokenUrl,
    async stop() {
      await proc.stop();
      await tokenServer?.stop();
    },
  };
}

/** The repositories a registry holds (its /v2/_catalog). */
export async function catalog(reg: Registry): Promise<string[]> {
  return ((await (await fetch(`${reg.url}/v2/_catalog`)).json()) as { repositories: string[] }).repositories;
}

/** A registry holding a fresh multi-arch fixture, pushed with skopeo under `namespace`. */
export async function startRegistryWithFixture(fixture: import('./fixtures.js').FixtureOptions, namespace = 'release') {
  const { buildOciFixture, pushFixture } = await import('./fixtures.js');
  const fx = await buildOciFixture(workDir('fx'), fixture);
  const reg = await startRegistry();
  pushFixture(fx, { host: reg.host }, { namespace });
  return { fx, reg };
}
