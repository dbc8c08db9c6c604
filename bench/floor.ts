// bench/floor: the fastest client we can write for a sync's work, to measure the registries'
// floor on loopback. It knows the work up front (the fixture's OCI layout gives every manifest
// and blob), so it asks nothing: no HEADs, no manifest GETs, no checks of what arrived (the
// registry verifies digests). Each blob is streamed once from the source into the first target
// repository that needs it (GET piped into a monolithic PUT), mounted into the others, 32 at a
// time on kept-alive connections; then the manifests, children before each index.
//   node --import tsx bench/floor.ts --src host:port --dst host:port --layout DIR --plan '[{"name":"app","tag":"1.0","ref":"<ref name in the layout>"}]' [--from release] [--to mirror/release]
import { readFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Semaphore } from '../src/lib/concurrency.js';
import { arg } from './common.js';

const src = arg('src', '');
const dst = arg('dst', '');
const layout = arg('layout', '');
const from = arg('from', 'release');
const to = arg('to', 'mirror/release');
const plan = JSON.parse(arg('plan', '[]')) as { name: string; tag: string; ref: string }[];
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

const blobFile = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));
const json = (digest: string) => JSON.parse(readFileSync(blobFile(digest), 'utf8'));

function call(host: string, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer | IncomingMessage): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: host.split(':')[0], port: Number(host.split(':')[1]), method, path, headers, agent }, resolve);
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else if (body) body.pipe(req);
    else req.end();
  });
}

async function ok(res: IncomingMessage, what: string, codes: number[]): Promise<IncomingMessage> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  if (!codes.includes(res.statusCode!)) throw new Error(`${what}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`);
  return res;
}

const blobs = new Semaphore(32);
const limited = <T>(fn: () => Promise<T>) => blobs.run(fn);

/** blob digest → the transfer into the first repository that needed it */
const first = new Map<string, { repo: string; done: Promise<void> }>();

function blob(srcRepo: string, repo: string, d: Desc): Promise<void> {
  const f = first.get(d.digest);
  if (!f) {
    const done = limited(async () => {
      const get = await call(src, 'GET', `/v2/${srcRepo}/blobs/${d.digest}`);
      if (get.statusCode !== 200) throw new Error(`GET ${d.digest}: ${get.statusCode}`);
      const start = await ok(await call(dst, 'POST', `/v2/${repo}/blobs/uploads/`, { 'content-length': 0 }), 'POST upload', [202]);
      const loc = new URL(start.headers.location!, `http://${dst}`);
      loc.searchParams.set('digest', d.digest);
      await ok(await call(dst, 'PUT', loc.pathname + loc.search, { 'content-length': d.size, 'content-type': 'application/octet-stream' }, get), `PUT ${d.digest}`, [201]);
    });
    first.set(d.digest, { repo, done });
    return done;
  }
  if (f.repo === repo) return f.done;
  return f.done.then(() =>
    limited(
      async () => void (await ok(await call(dst, 'POST', `/v2/${repo}/blobs/uploads/?mount=${d.digest}&from=${f.repo}`, { 'content-length': 0 }), `mount ${d.digest}`, [201])),
    ),
  );
}

async function image({ name, tag, ref }: { name: string; tag: string; ref: string }): Promise<void> {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')).manifests.find(
    (m: { annotations?: Record<string, string> }) => m.annotations?.['org.opencontainers.image.ref.name'] === ref,
  ) as Desc;
  const srcRepo = `${from}/${name}`;
  const repo = `${to}/${name}`;
  const children = json(index.digest).manifests as Desc[];
  await Promise.all(
    children.map(async (c) => {
      const m = json(c.digest) as { config: Desc; layers: Desc[] };
      await Promise.all([m.config, ...m.layers].map((d) => blob(srcRepo, repo, d)));
      await ok(await call(dst, 'PUT', `/v2/${repo}/manifests/${c.digest}`, { 'content-type': c.mediaType }, readFileSync(blobFile(c.digest))), `PUT ${c.digest}`, [201]);
    }),
  );
  await ok(await call(dst, 'PUT', `/v2/${repo}/manifests/${tag}`, { 'content-type': index.mediaType }, readFileSync(blobFile(index.digest))), `PUT ${name}:${tag}`, [201]);
}

await Promise.all(plan.map(image));
agent.destroy();
