// A protocol-faithful Aliyun OSS test server (there is no OSS server to install): path-style
// buckets; every request's signature is verified, OSS V1 (`OSS ak:sig`, HMAC-SHA1) and V4
// (`OSS4-HMAC-SHA256`); objects (PUT, HEAD, GET), multipart (initiate, upload part, complete,
// abort, list parts); x-oss-hash-crc64ecma on every write and read. Run as a child process:
//   node --import tsx oss-server.ts --port N --dir D --access-key-id K --access-key-secret S --bucket B [--bucket B2]
// GET /__oss/stats gives request counts (parts received per upload, requests per access key).
// POST /__sts/ is STS AssumeRoleWithOIDC (--sts-role-arn, --sts-provider-arn, --sts-oidc-token,
// --sts-lifetime-ms): its temporary keys are accepted with their token until they expire.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Crc64 } from '../../../src/lib/storage/crc64.js';

const args = process.argv.slice(2);
const opt = (n: string) => args[args.indexOf(`--${n}`) + 1];
const port = Number(opt('port'));
const root = opt('dir');
const AK = opt('access-key-id');
const SK = opt('access-key-secret');
const buckets = args.flatMap((a, i) => (a === '--bucket' ? [args[i + 1]] : []));
for (const b of buckets) mkdirSync(join(root, b, 'objects'), { recursive: true });
const stats = { requests: 0, parts: 0, denied: 0, stsIssued: 0, byKey: {} as Record<string, number> };

// STS (a separate service at Aliyun, hosted here for tests): AssumeRoleWithOIDC issues temporary
// keys that this server then accepts, with their security token, until they expire.
const STS = { roleArn: opt('sts-role-arn'), providerArn: opt('sts-provider-arn'), oidcToken: opt('sts-oidc-token'), lifetimeMs: Number(opt('sts-lifetime-ms') ?? 3000) };
const temporary = new Map<string, { secret: string; token: string; expires: number }>();

/** The secret for an access key; undefined when unknown, 'expired'/'token' when its STS token is wrong. */
function secretFor(ak: string, req: IncomingMessage, url: URL): string | undefined | { error: string } {
  if (ak === AK) return SK;
  const t = temporary.get(ak);
  if (!t) return undefined;
  const token = req.headers['x-oss-security-token'] ?? url.searchParams.get('security-token');
  if (token !== t.token) return { error: 'InvalidSecurityToken' };
  if (Date.now() > t.expires) return { error: 'SecurityTokenExpired' };
  return t.secret;
}

function assumeRoleWithOidc(form: URLSearchParams, res: ServerResponse) {
  const fail = (status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ RequestId: randomUUID(), Code: code, Message: message }));
  };
  if (form.get('Action') !== 'AssumeRoleWithOIDC' || form.get('Version') !== '2015-04-01') return fail(400, 'InvalidAction', 'unknown action');
  if (!STS.roleArn) return fail(400, 'NoRole', 'this test server was started without --sts-role-arn');
  if (form.get('RoleArn') !== STS.roleArn) return fail(404, 'EntityNotExist.Role', 'The role does not exist.');
  if (form.get('OIDCProviderArn') !== STS.providerArn) return fail(404, 'EntityNotExist.OIDCProvider', 'The OIDC provider does not exist.');
  if (form.get('OIDCToken') !== STS.oidcToken) return fail(400, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token is invalid.');
  if (!/^[\w.@-]{2,64}$/.test(form.get('RoleSessionName') ?? '')) return fail(400, 'InvalidParameter.RoleSessionName', 'RoleSessionName is invalid.');
  stats.stsIssued++;
  const ak = `STS.${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const t = { secret: randomUUID(), token: `CAIS${randomUUID().replace(/-/g, '')}`, expires: Date.now() + STS.lifetimeMs };
  temporary.set(ak, t);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ RequestId: randomUUID(), Credentials: { AccessKeyId: ak, AccessKeySecret: t.secret, SecurityToken: t.token, Expiration: new Date(t.expires).toISOString() } }),
  );
}

const SUBRESOURCES = new Set([
  'acl',
  'uploads',
  'uploadId',
  'partNumber',
  'security-token',
  'delete',
  'append',
  'position',
  'tagging',
  'objectMeta',
  'symlink',
  'restore',
  'location',
  'cors',
  'lifecycle',
  'website',
  'referer',
  'logging',
  'bucketInfo',
  'stat',
  'versioning',
  'versionId',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
]);

function xml(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/xml', 'x-oss-request-id': randomUUID(), ...headers });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}
function error(res: ServerResponse, status: number, code: string, message: string, extra = '') {
  xml(res, status, `<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>${randomUUID()}</RequestId><HostId>127.0.0.1</HostId></Error>`);
}
const hmac = (key: string | Buffer, data: string, alg = 'sha256') => createHmac(alg, key).update(data).digest();
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Returns undefined when the signature checks out, else the error code. */
function verify(req: IncomingMessage, url: URL, bucket: string, key: string): string | undefined {
  const auth = req.headers.authorization ?? '';
  const h = (n: string) => {
    const v = req.headers[n];
    return Array.isArray(v) ? v.join(',') : (v ?? '');
  };
  if (auth.startsWith('OSS ')) {
    const [ak, sig] = auth.slice(4).split(':');
    const SK = secretFor(ak, req, url);
    if (SK === undefined) return 'InvalidAccessKeyId';
    if (typeof SK === 'object') return SK.error;
    stats.byKey[ak] = (stats.byKey[ak] ?? 0) + 1;
    const ossHeaders = Object.keys(req.headers)
      .filter((k) => k.startsWith('x-oss-'))
      .sort()
      .map((k) => `${k}:${h(k).trim()}\n`)
      .join('');
    const sub = [...url.searchParams.keys()]
      .filter((k) => SUBRESOURCES.has(k))
      .sort()
      .map((k) => (url.searchParams.get(k) ? `${k}=${url.searchParams.get(k)}` : k));
    const resource = `/${bucket}/${key}${sub.length ? `?${sub.join('&')}` : ''}`;
    // clients that cannot set Date (browsers, ali-oss) send x-oss-date, which then takes its place
    const sts = `${req.method}\n${h('content-md5')}\n${h('content-type')}\n${h('date') || h('x-oss-date')}\n${ossHeaders}${resource}`;
    if (hmac(SK, sts, 'sha1').toString('base64') === sig) return undefined;
    process.stdout.write(`V1 mismatch for ${req.method} ${req.url}; string to sign: ${JSON.stringify(sts)}\n`);
    return 'SignatureDoesNotMatch';
  }
  if (auth.startsWith('OSS4-HMAC-SHA256 ')) {
    const fields = Object.fromEntries(
      auth
        .slice(17)
        .split(',')
        .map((p) => p.trim().split('=') as [string, string]),
    );
    const [ak, date, region, service, term] = (fields.Credential ?? '').split('/');
    const SK = secretFor(ak, req, url);
    if (SK === undefined) return 'InvalidAccessKeyId';
    if (typeof SK === 'object') return SK.error;
    stats.byKey[ak] = (stats.byKey[ak] ?? 0) + 1;
    if (service !== 'oss' || term !== 'aliyun_v4_request') return 'InvalidArgument';
    const stamp = h('x-oss-date');
    if (!stamp.startsWith(date)) return 'SignatureDoesNotMatch';
    const payload = h('x-oss-content-sha256');
    if (payload !== 'UNSIGNED-PAYLOAD') return 'InvalidArgument';
    const additional = (fields.AdditionalHeaders ?? '')
      .split(';')
      .filter(Boolean)
      .map((s) => s.toLowerCase())
      .sort();
    const signedHeaders = Object.keys(req.headers)
      .filter((k) => k.startsWith('x-oss-') || k === 'content-type' || k === 'content-md5' || additional.includes(k))
      .sort();
    const canonicalHeaders = signedHeaders.map((k) => `${k}:${h(k).trim()}\n`).join('');
    const query = [...url.searchParams.entries()]
      .map(([k, v]) => [enc(k), v ? enc(v) : ''] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([k, v]) => (v ? `${k}=${v}` : k))
      .join('&');
    const uri = `/${bucket}/${key}`.split('/').map(enc).join('/');
    const canonical = `${req.method}\n${uri}\n${query}\n${canonicalHeaders}\n${additional.join(';')}\n${payload}`;
    const sts = `OSS4-HMAC-SHA256\n${stamp}\n${date}/${region}/oss/aliyun_v4_request\n${createHash('sha256').update(canonical).digest('hex')}`;
    const signingKey = hmac(hmac(hmac(hmac(`aliyun_v4${SK}`, date), region), 'oss'), 'aliyun_v4_request');
    if (hmac(signingKey, sts).toString('hex') === fields.Signature) return undefined;
    process.stdout.write(`V4 mismatch; canonical request: ${JSON.stringify(canonical)}\n`);
    return 'SignatureDoesNotMatch';
  }
  return 'AccessDenied';
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex').toUpperCase();
const objectPath = (bucket: string, key: string) => join(root, bucket, 'objects', encodeURIComponent(key));
const uploadDir = (bucket: string, id: string) => join(root, bucket, 'uploads', id);

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/__oss/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(stats));
  }
  if (url.pathname === '/__sts/' && req.method === 'POST') return assumeRoleWithOidc(new URLSearchParams((await readAll(req)).toString('utf8')), res);
  stats.requests++;
  // path-style (/bucket/key), virtual-hosted (bucket.host), or an IP endpoint bound to one bucket
  const segs = url.pathname.split('/').slice(1);
  const hostBucket = buckets.find((b) => (req.headers.host ?? '').startsWith(`${b}.`));
  let bucket: string;
  let key: string;
  if (buckets.includes(segs[0])) [bucket, key] = [segs[0], decodeURIComponent(segs.slice(1).join('/'))];
  else if (hostBucket) [bucket, key] = [hostBucket, decodeURIComponent(segs.join('/'))];
  else if (buckets.length > 1 || segs.length > 1) [bucket, key] = [segs[0] ?? '', decodeURIComponent(segs.slice(1).join('/'))];
  else [bucket, key] = [buckets[0], decodeURIComponent(segs.join('/'))];
  const body = await readAll(req);
  const bad = verify(req, url, bucket, key);
  if (bad) {
    stats.denied++;
    return error(res, 403, bad, bad === 'SignatureDoesNotMatch' ? 'The request signature we calculated does not match the signature you provided.' : 'Access denied');
  }
  if (!buckets.includes(bucket)) return error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist.', `<BucketName>${bucket}</BucketName>`);
  const contentMd5 = req.headers['content-md5'];
  if (typeof contentMd5 === 'string' && contentMd5 !== createHash('md5').update(body).digest('base64'))
    return error(res, 400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
  const q = url.searchParams;
  const m = req.method;
  if (m === 'POST' && q.has('uploads')) {
    const id = randomUUID().replace(/-/g, '').toUpperCase();
    mkdirSync(uploadDir(bucket, id), { recursive: true });
    writeFileSync(join(uploadDir(bucket, id), 'key'), key);
    return xml(res, 200, `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
  }
  if (q.has('uploadId')) {
    const id = q.get('uploadId')!;
    const dir = uploadDir(bucket, id);
    if (!existsSync(dir)) return error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.', `<UploadId>${id}</UploadId>`);
    if (m === 'PUT' && q.has('partNumber')) {
      stats.parts++;
      const n = Number(q.get('partNumber'));
      writeFileSync(join(dir, `part-${String(n).padStart(5, '0')}`), body);
      res.writeHead(200, { etag: `"${md5(body)}"`, 'x-oss-hash-crc64ecma': new Crc64().update(body).digest(), 'x-oss-request-id': randomUUID(), 'content-length': '0' });
      return res.end();
    }
    if (m === 'GET') {
      const parts = readdirSync(dir)
        .filter((f) => f.startsWith('part-'))
        .sort();
      const xmlParts = parts.map((f) => {
        const b = readFileSync(join(dir, f));
        return `<Part><PartNumber>${Number(f.slice(5))}</PartNumber><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5(b)}"</ETag><HashCrc64ecma>${new Crc64().update(b).digest()}</HashCrc64ecma><Size>${b.length}</Size></Part>`;
      });
      return xml(
        res,
        200,
        `<ListPartsResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>${parts.length}</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>${xmlParts.join('')}</ListPartsResult>`,
      );
    }
    if (m === 'DELETE') {
      rmSync(dir, { recursive: true, force: true });
      res.writeHead(204, { 'x-oss-request-id': randomUUID() });
      return res.end();
    }
    if (m === 'POST') {
      // XML text as any XML reader sees it: Go's encoder (ossutil) writes the ETag's quotes as &#34;
      const text = (x: string) =>
        x.replace(/&(#34|quot|#x22|amp|lt|gt|apos|#39);/g, (_, e: string) => ({ '#34': '"', quot: '"', '#x22': '"', amp: '&', lt: '<', gt: '>', apos: "'", '#39': "'" })[e]!);
      const wanted = [...body.toString('utf8').matchAll(/<Part>\s*<PartNumber>(\d+)<\/PartNumber>\s*<ETag>([^<]+)<\/ETag>\s*<\/Part>/g)].map((x) => ({
        n: Number(x[1]),
        etag: text(x[2]).replace(/^"|"$/g, '').toUpperCase(),
      }));
      const crc = new Crc64();
      const chunks: Buffer[] = [];
      const partMd5s: Buffer[] = [];
      for (const p of wanted) {
        const f = join(dir, `part-${String(p.n).padStart(5, '0')}`);
        if (!existsSync(f)) return error(res, 400, 'InvalidPart', `part ${p.n} was not uploaded`);
        const b = readFileSync(f);
        if (md5(b) !== p.etag) return error(res, 400, 'InvalidPart', `part ${p.n} has another ETag`);
        crc.update(b);
        chunks.push(b);
        partMd5s.push(Buffer.from(md5(b), 'hex'));
      }
      const out = objectPath(bucket, key);
      mkdirSync(dirname(out), { recursive: true });
      const all = Buffer.concat(chunks);
      const etag = `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex').toUpperCase()}-${wanted.length}`;
      writeFileSync(out, all);
      writeFileSync(`${out}.meta`, JSON.stringify({ etag, crc: crc.digest(), type: readFileSync(join(dir, 'key')) && 'application/octet-stream' }));
      rmSync(dir, { recursive: true, force: true });
      return xml(res, 200, `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>"${etag}"</ETag></CompleteMultipartUploadResult>`, {
        'x-oss-hash-crc64ecma': crc.digest(),
      });
    }
  }
  if (m === 'PUT') {
    const out = objectPath(bucket, key);
    mkdirSync(dirname(out), { recursive: true });
    const crc = new Crc64().update(body).digest();
    const meta = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-oss-meta-')));
    writeFileSync(out, body);
    writeFileSync(`${out}.meta`, JSON.stringify({ etag: md5(body), crc, type: req.headers['content-type'] ?? 'application/octet-stream', meta }));
    res.writeHead(200, { etag: `"${md5(body)}"`, 'x-oss-hash-crc64ecma': crc, 'x-oss-request-id': randomUUID(), 'content-length': '0' });
    return res.end();
  }
  if (m === 'DELETE') {
    // DeleteObject: 204 whether or not the object was there
    const p = objectPath(bucket, key);
    rmSync(p, { force: true });
    rmSync(`${p}.meta`, { force: true });
    res.writeHead(204, { 'x-oss-request-id': randomUUID() });
    return res.end();
  }
  if (m === 'HEAD' || m === 'GET') {
    const p = objectPath(bucket, key);
    if (!existsSync(p)) {
      if (m === 'HEAD') {
        res.writeHead(404, { 'x-oss-request-id': randomUUID() });
        return res.end();
      }
      return error(res, 404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${key}</Key>`);
    }
    const meta = JSON.parse(readFileSync(`${p}.meta`, 'utf8')) as { etag: string; crc: string; type: string; meta?: Record<string, string> };
    const st = statSync(p);
    const common = {
      etag: `"${meta.etag}"`,
      'last-modified': st.mtime.toUTCString(),
      'x-oss-object-type': meta.etag.includes('-') ? 'Multipart' : 'Normal',
      'content-type': meta.type,
      'accept-ranges': 'bytes',
      'x-oss-request-id': randomUUID(),
      ...(meta.meta ?? {}),
    };
    // one range (bytes=a-b, bytes=a-), as ranged downloads ask; the whole-object CRC only on whole reads
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range && Number(range[1]) < st.size) {
      const from = Number(range[1]);
      const to = Math.min(range[2] ? Number(range[2]) : st.size - 1, st.size - 1);
      res.writeHead(206, { ...common, 'content-range': `bytes ${from}-${to}/${st.size}`, 'content-length': String(to - from + 1) });
      return m === 'GET' ? createReadStream(p, { start: from, end: to }).pipe(res) : res.end();
    }
    res.writeHead(200, { ...common, 'x-oss-hash-crc64ecma': meta.crc, 'content-length': String(st.size) });
    return m === 'GET' ? createReadStream(p).pipe(res) : res.end();
  }
  error(res, 405, 'MethodNotAllowed', `${m} is not supported here`);
}).listen(port, '127.0.0.1', () => process.stdout.write(`oss test server on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
