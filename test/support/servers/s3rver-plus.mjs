// s3rver (a real S3 API server from npm) with the two multipart operations it lacks, added on
// its own filesystem store the way S3 defines them: AbortMultipartUpload (DELETE ?uploadId=)
// removes the upload and its parts, NoSuchUpload for an unknown id; ListParts (GET ?uploadId=)
// lists the parts received with their ETags (md5) and sizes.
//   node s3rver-plus.mjs --dir D --port N --bucket B [--bucket B2]
import S3rver from 's3rver';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const args = process.argv.slice(2);
const opt = (n) => args[args.indexOf(`--${n}`) + 1];
const buckets = args.flatMap((a, i) => (a === '--bucket' ? [args[i + 1]] : []));
const stats = { aborted: 0, listed: 0 };

fs.mkdirSync(opt('dir'), { recursive: true });
const server = new S3rver({
  directory: opt('dir'),
  address: '127.0.0.1',
  port: Number(opt('port')),
  silent: true,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});

const xml = (ctx, status, body) => {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
};
const esc = (s) => String(s).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/__stats') {
    ctx.body = JSON.stringify(stats);
    ctx.type = 'application/json';
    return;
  }
  const id = ctx.query.uploadId;
  const [, bucket, ...keyParts] = ctx.path.split('/');
  if (!id || !buckets.includes(bucket) || keyParts.length === 0 || (ctx.method !== 'DELETE' && ctx.method !== 'GET')) return next();
  const key = decodeURIComponent(keyParts.join('/'));
  const dir = path.join(server.store.getResourcePath(bucket, undefined, 'uploads'), id);
  if (!fs.existsSync(dir)) return xml(ctx, 404, `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${esc(id)}</UploadId></Error>`);
  if (ctx.method === 'DELETE') {
    fs.rmSync(dir, { recursive: true, force: true });
    stats.aborted++;
    ctx.status = 204;
    return;
  }
  stats.listed++;
  const parts = fs
    .readdirSync(dir)
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .sort((a, b) => a - b)
    .map((n) => {
      const data = fs.readFileSync(path.join(dir, String(n)));
      return `<Part><PartNumber>${n}</PartNumber><ETag>"${crypto.createHash('md5').update(data).digest('hex')}"</ETag><Size>${data.length}</Size></Part>`;
    });
  xml(
    ctx,
    200,
    `<ListPartsResult><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${esc(id)}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`,
  );
});

server.run().then(() => process.stdout.write(`s3rver-plus on ${opt('port')}\n`));
