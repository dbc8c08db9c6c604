// A local stand-in for the GitHub Actions cache service, v1 REST protocol (what @actions/cache
// speaks when ACTIONS_CACHE_URL is set and ACTIONS_CACHE_SERVICE_V2 is not, as on GHES):
// lookup by key / restore-key prefix and version, reserve, chunked PATCH upload with
// Content-Range, commit with size check, archive download. Bearer token checked.
//   node --import tsx actions-cache.ts --port N --dir D --token T
import { createServer, type IncomingMessage } from 'node:http';
import { mkdirSync, openSync, writeSync, closeSync, statSync, createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (n: string) => args[args.indexOf(`--${n}`) + 1];
const port = Number(opt('port'));
const dir = opt('dir');
const token = opt('token');
mkdirSync(dir, { recursive: true });

interface Entry {
  id: number;
  key: string;
  version: string;
  committed: boolean;
  size?: number;
  created: number;
}
const entries: Entry[] = [];
const stats = { lookups: 0, hits: 0, saves: 0 };

const body = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  const json = (status: number, value?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(value === undefined ? '' : JSON.stringify(value));
  };
  if (url.pathname === '/__stats') return json(200, { ...stats, entries: entries.map((e) => ({ key: e.key, committed: e.committed, size: e.size })) });
  if (url.pathname.startsWith('/__archive/')) {
    const e = entries.find((x) => x.id === Number(url.pathname.split('/')[2]) && x.committed);
    if (!e) return json(404, { message: 'no such archive' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(e.size) });
    return createReadStream(join(dir, String(e.id))).pipe(res);
  }
  if (req.headers.authorization !== `Bearer ${token}`) return json(401, { message: 'bad runtime token' });
  const base = '/_apis/artifactcache/';
  if (!url.pathname.startsWith(base)) return json(404, { message: 'not found' });
  const rest = url.pathname.slice(base.length);
  if (req.method === 'GET' && rest === 'cache') {
    stats.lookups++;
    const version = url.searchParams.get('version');
    const wanted = (url.searchParams.get('keys') ?? '').split(',');
    const ok = entries.filter((e) => e.committed && e.version === version).sort((a, b) => b.created - a.created);
    // the first key exactly, then each key as a prefix (newest first): the documented semantics
    const hit = ok.find((e) => e.key === wanted[0]) ?? wanted.map((k) => ok.find((e) => e.key.startsWith(k))).find(Boolean);
    if (!hit) return json(204);
    stats.hits++;
    return json(200, { cacheKey: hit.key, scope: 'refs/heads/main', archiveLocation: `http://127.0.0.1:${port}/__archive/${hit.id}` });
  }
  if (req.method === 'POST' && rest === 'caches') {
    const r = JSON.parse((await body(req)).toString('utf8')) as { key: string; version: string };
    if (entries.some((e) => e.key === r.key && e.version === r.version))
      return json(409, { message: `Cache already exists. Scope: refs/heads/main, Key: ${r.key}, Version: ${r.version}` });
    const e: Entry = { id: entries.length + 1, key: r.key, version: r.version, committed: false, created: Date.now() };
    entries.push(e);
    closeSync(openSync(join(dir, String(e.id)), 'w'));
    return json(201, { cacheId: e.id });
  }
  const m = /^caches\/(\d+)$/.exec(rest);
  const e = m ? entries.find((x) => x.id === Number(m[1])) : undefined;
  if (!e || e.committed) return json(404, { message: 'no such cache being uploaded' });
  if (req.method === 'PATCH') {
    const range = /^bytes (\d+)-(\d+)\/\*$/.exec(req.headers['content-range'] ?? '');
    const data = await body(req);
    if (!range || Number(range[2]) - Number(range[1]) + 1 !== data.length) return json(400, { message: 'bad Content-Range' });
    const fd = openSync(join(dir, String(e.id)), 'r+');
    writeSync(fd, data, 0, data.length, Number(range[1]));
    closeSync(fd);
    return json(204);
  }
  if (req.method === 'POST') {
    const { size } = JSON.parse((await body(req)).toString('utf8')) as { size: number };
    const file = join(dir, String(e.id));
    if (!existsSync(file) || statSync(file).size !== size) return json(400, { message: `size ${size} does not match the ${statSync(file).size} bytes uploaded` });
    e.committed = true;
    e.size = size;
    stats.saves++;
    return json(204);
  }
  return json(405, { message: 'method not allowed' });
}).listen(port, '127.0.0.1', () => process.stdout.write(`actions cache on ${port}\n`));
