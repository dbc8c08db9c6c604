// EC2 for tests: moto_server (PyPI, built into the tool cache by .ci/setup) for real, with a
// small front of our own for what moto lacks. The front speaks the EC2 query protocol, checks
// every request's SigV4 signature, answers ImportSnapshot and DescribeImportSnapshotTasks itself
// (scripted per test; a completed import makes a real snapshot in moto, from a volume of the
// object's size, so the AMI registered there refers to it), passes every other EC2/IAM action
// to moto, and every S3 request to a real S3 server (s3rver). It records what it was asked.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServerProcess, tcpOpen, waitFor, workDir } from './proc.js';

export const MOTO_VERSION = '5.2.5';

export function motoServerPath(): string {
  return join(process.env.AIRLIFT_TOOLS_DIR ?? join(homedir(), '.cache', 'airlift-tools'), `moto-${MOTO_VERSION}`, 'bin', 'moto_server');
}

export function needsMoto(): string | false {
  if (existsSync(motoServerPath())) return false;
  const reason = `needs moto_server ${MOTO_VERSION} (bash .ci/setup installs it into the tool cache)`;
  if (process.env.CI === 'true') return false;
  process.stderr.write(`\n*** SKIPPED: ${reason} ***\n`);
  return reason;
}

export interface Moto {
  url: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const dir = workDir('moto');
  const proc = new ServerProcess('moto', motoServerPath(), ['-H', '127.0.0.1', '-p', String(port)], { logDir: dir });
  await waitFor('moto_server', () => tcpOpen(port), { alive: () => proc.alive, attempts: 300 });
  return { url: `http://127.0.0.1:${port}`, stop: () => proc.stop() };
}

/** One scripted state of an import task, shown to one DescribeImportSnapshotTasks. */
export interface TaskState {
  status: 'active' | 'completed' | 'deleting' | 'deleted';
  progress?: number;
  message?: string;
}

export interface FrontOptions {
  moto: string;
  s3: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** the states an import task goes through, one per Describe (the last repeats) */
  script?: TaskState[];
  /** DescribeImportSnapshotTasks answers RequestLimitExceeded this many times first */
  throttle?: number;
}

export interface Ec2Call {
  action: string;
  region: string;
  params: Record<string, string>;
}

export interface Ec2Front {
  url: string;
  /** every EC2/IAM query action received (signature checked) */
  calls: Ec2Call[];
  /** import tasks: id → its ClientToken and scripted position */
  tasks: Map<string, { token?: string; step: number; bucket: string; key: string; snapshotId?: string; region: string }>;
  /** requests refused for a bad signature */
  badSignatures: number;
  /** EBS direct snapshots: id → the blocks written (a sparse file), checksums, completion */
  ebs: Map<string, { file: string; digests: Map<number, Buffer>; completed: boolean; volumeSize: number; puts: number }>;
  options: FrontOptions;
  stop(): Promise<void>;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** SigV4, as AWS checks it: the canonical request rebuilt from what arrived, signed with the secret. */
function signatureOk(req: IncomingMessage, body: Buffer, secret: string): { ok: boolean; region: string } {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { ok: false, region: '' };
  const [, , day, region, service, signed, signature] = m;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const url = new URL(req.url ?? '/', 'http://x');
  const query = [...url.searchParams]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signed.split(';');
  const headers = names
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, url.pathname, query, headers, signed, String(req.headers['x-amz-content-sha256'] ?? sha(body))].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${region}/${service}/aws4_request`, sha(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return { ok: createHmac('sha256', key).update(toSign).digest('hex') === signature, region };
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** Forwards a request as it came (headers, body) and pipes the answer back. */
function forward(target: string, req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse): void {
  const u = new URL(req.url ?? '/', target);
  const fwd = httpRequest(u, { method: req.method, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  fwd.on('error', (err) => {
    res.writeHead(502);
    res.end(String(err));
  });
  fwd.end(body);
}

/** A signed EC2 query call to moto (the front's own, to make a snapshot). */
async function motoCall(opts: FrontOptions, region: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      new URL('/', opts.moto),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `AWS4-HMAC-SHA256 Credential=${opts.accessKeyId}/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`moto ${params.Action}: ${res.statusCode} ${text}`))));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

async function s3Head(opts: FrontOptions, bucket: string, key: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const r = httpRequest(new URL(`/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, opts.s3), { method: 'HEAD' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? Number(res.headers['content-length']) : undefined);
    });
    r.on('error', () => resolve(undefined));
    r.end();
  });
}

export async function startEc2Front(options: FrontOptions): Promise<Ec2Front> {
  const port = await freePort();
  const front: Ec2Front = { url: `http://127.0.0.1:${port}`, calls: [], tasks: new Map(), badSignatures: 0, ebs: new Map(), options, stop: async () => undefined };
  const ebsDir = workDir('ebs-direct');
  let throttled = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const isQuery = req.method === 'POST' && (req.url === '/' || req.url === '') && String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
        if ((req.url ?? '').startsWith('/snapshots')) return ebsDirect(req, body, res);
        if (!isQuery) return forward(options.s3, req, body, res);
        const sig = signatureOk(req, body, options.secretAccessKey);
        const fail = (status: number, code: string, message: string) => {
          res.writeHead(status, { 'content-type': 'text/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${randomBytes(8).toString('hex')}</RequestID></Response>`,
          );
        };
        if (!sig.ok) {
          front.badSignatures++;
          return fail(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
        }
        const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
        front.calls.push({ action: params.Action, region: sig.region, params });
        const reply = (xml: string) => {
          res.writeHead(200, { 'content-type': 'text/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
        };
        const detail = (t: { bucket: string; key: string; snapshotId?: string }, s: TaskState) =>
          `<snapshotTaskDetail><diskImageSize>0.0</diskImageSize><format>RAW</format>${s.progress !== undefined ? `<progress>${s.progress}</progress>` : ''}<status>${s.status}</status>${s.message ? `<statusMessage>${xmlEscape(s.message)}</statusMessage>` : ''}${t.snapshotId ? `<snapshotId>${t.snapshotId}</snapshotId>` : ''}<userBucket><s3Bucket>${t.bucket}</s3Bucket><s3Key>${xmlEscape(t.key)}</s3Key></userBucket></snapshotTaskDetail>`;
        if (params.Action === 'ImportSnapshot') {
          const token = params.ClientToken;
          const same = token ? [...front.tasks].find(([, t]) => t.token === token) : undefined;
          let id = same?.[0];
          if (!id) {
            id = `import-snap-${randomBytes(8).toString('hex')}`;
            front.tasks.set(id, { token, step: 0, bucket: params['DiskContainer.UserBucket.S3Bucket'], key: params['DiskContainer.UserBucket.S3Key'], region: sig.region });
          }
          const t = front.tasks.get(id)!;
          return reply(
            `<ImportSnapshotResponse xmlns="${NS}"><requestId>${randomBytes(8).toString('hex')}</requestId><importTaskId>${id}</importTaskId>${detail(t, { status: 'active', progress: 0, message: 'pending' })}</ImportSnapshotResponse>`,
          );
        }
        if (params.Action === 'DescribeImportSnapshotTasks') {
          if (throttled < (options.throttle ?? 0)) {
            throttled++;
            return fail(503, 'RequestLimitExceeded', 'Request limit exceeded.');
          }
          const id = params['ImportTaskId.1'];
          const t = front.tasks.get(id);
          if (!t) return fail(400, 'InvalidConversionTaskId.Malformed', `The import task ID '${id}' is malformed.`);
          const script = options.script ?? [
            { status: 'active', progress: 30, message: 'converting' },
            { status: 'completed', progress: 100 },
          ];
          let s = script[Math.min(t.step, script.length - 1)];
          t.step++;
          if (s.status === 'completed' && !t.snapshotId) {
            // as VM Import does: the object must be there; the snapshot is made from a volume of its size
            const size = await s3Head(options, t.bucket, t.key);
            if (size === undefined) s = { status: 'deleting', message: `ClientError: Unable to read object s3://${t.bucket}/${t.key}` };
            else {
              const gib = Math.max(1, Math.ceil(size / 1024 ** 3));
              const vol = /<volumeId>([^<]+)<\/volumeId>/.exec(
                await motoCall(options, t.region, { Action: 'CreateVolume', AvailabilityZone: `${t.region}a`, Size: String(gib) }),
              )![1];
              t.snapshotId = /<snapshotId>([^<]+)<\/snapshotId>/.exec(
                await motoCall(options, t.region, { Action: 'CreateSnapshot', VolumeId: vol, Description: `Created by AWS-VMImport service for ${id}` }),
              )![1];
            }
          }
          return reply(
            `<DescribeImportSnapshotTasksResponse xmlns="${NS}"><requestId>${randomBytes(8).toString('hex')}</requestId><importSnapshotTaskSet><item><importTaskId>${id}</importTaskId>${detail(t, s)}</item></importSnapshotTaskSet></DescribeImportSnapshotTasksResponse>`,
          );
        }
        return forward(options.moto, req, body, res);
      })().catch((err: Error) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  /** The EBS direct APIs (REST JSON, service "ebs"), checked as EBS checks them, blocks kept in a file. */
  async function ebsDirect(req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse): Promise<void> {
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(value));
    };
    const refuse = (status: number, type: string, message: string, reason?: string) =>
      json(status, { Message: message, ...(reason ? { Reason: reason } : {}) }, { 'x-amzn-errortype': type });
    const sig = signatureOk(req, body, options.secretAccessKey);
    if (!sig.ok) {
      front.badSignatures++;
      return refuse(403, 'AccessDeniedException', 'The request signature we calculated does not match the signature you provided.');
    }
    const path = (req.url ?? '').split('?')[0];
    const h = (n: string) => String(req.headers[n] ?? '');
    let m;
    if (req.method === 'POST' && path === '/snapshots') {
      const p = JSON.parse(body.toString('utf8')) as { VolumeSize: number; Description?: string };
      front.calls.push({ action: 'StartSnapshot', region: sig.region, params: { VolumeSize: String(p.VolumeSize), Description: p.Description ?? '' } });
      // the snapshot EC2 will know: made in moto now, its blocks kept here
      const vol = /<volumeId>([^<]+)<\/volumeId>/.exec(
        await motoCall(options, sig.region, { Action: 'CreateVolume', AvailabilityZone: `${sig.region}a`, Size: String(p.VolumeSize) }),
      )![1];
      const id = /<snapshotId>([^<]+)<\/snapshotId>/.exec(await motoCall(options, sig.region, { Action: 'CreateSnapshot', VolumeId: vol, Description: p.Description ?? '' }))![1];
      const file = join(ebsDir, `${id}.img`);
      writeFileSync(file, '');
      truncateSync(file, p.VolumeSize * 1024 ** 3);
      front.ebs.set(id, { file, digests: new Map(), completed: false, volumeSize: p.VolumeSize, puts: 0 });
      return json(201, { SnapshotId: id, BlockSize: 524288, Status: 'pending', VolumeSize: p.VolumeSize, OwnerId: '123456789012', StartTime: Date.now() / 1000 });
    }
    if (req.method === 'PUT' && (m = /^\/snapshots\/([^/]+)\/blocks\/(\d+)$/.exec(path))) {
      const snap = front.ebs.get(m[1]);
      if (!snap) return refuse(404, 'ResourceNotFoundException', `snapshot ${m[1]} not found`, 'SNAPSHOT_NOT_FOUND');
      if (snap.completed) return refuse(400, 'ValidationException', 'the snapshot is completed', 'INVALID_SNAPSHOT_STATE');
      const index = Number(m[2]);
      if (Number(h('x-amz-data-length')) !== body.length || body.length !== 524288)
        return refuse(400, 'ValidationException', `data length ${h('x-amz-data-length')} / ${body.length} is not the block size`, 'INVALID_BLOCK');
      const digest = createHash('sha256').update(body).digest();
      if (h('x-amz-checksum-algorithm') !== 'SHA256' || digest.toString('base64') !== h('x-amz-checksum'))
        return refuse(400, 'ValidationException', 'the checksum does not match the block data', 'INVALID_CHECKSUM');
      if ((index + 1) * 524288 > snap.volumeSize * 1024 ** 3) return refuse(400, 'ValidationException', `block ${index} is past the end of the volume`, 'INVALID_BLOCK');
      const fd = openSync(snap.file, 'r+');
      writeSync(fd, body, 0, body.length, index * 524288);
      closeSync(fd);
      snap.digests.set(index, digest);
      snap.puts++;
      return json(201, {}, { 'x-amz-checksum': digest.toString('base64'), 'x-amz-checksum-algorithm': 'SHA256' });
    }
    if (req.method === 'POST' && (m = /^\/snapshots\/completion\/([^/]+)$/.exec(path))) {
      const snap = front.ebs.get(m[1]);
      if (!snap) return refuse(404, 'ResourceNotFoundException', `snapshot ${m[1]} not found`, 'SNAPSHOT_NOT_FOUND');
      const linear = createHash('sha256');
      for (const i of [...snap.digests.keys()].sort((a, b) => a - b)) linear.update(snap.digests.get(i)!);
      if (Number(h('x-amz-changedblockscount')) !== snap.digests.size)
        return refuse(
          400,
          'ValidationException',
          `ChangedBlocksCount ${h('x-amz-changedblockscount')} is not the ${snap.digests.size} blocks written`,
          'INVALID_CHANGED_BLOCKS_COUNT',
        );
      if (h('x-amz-checksum-aggregation-method') !== 'LINEAR' || h('x-amz-checksum') !== linear.digest('base64'))
        return refuse(400, 'ValidationException', 'the aggregated checksum does not match the blocks written', 'INVALID_CHECKSUM');
      snap.completed = true;
      front.calls.push({ action: 'CompleteSnapshot', region: sig.region, params: { SnapshotId: m[1], ChangedBlocksCount: String(snap.digests.size) } });
      return json(202, { Status: 'completed' });
    }
    return refuse(404, 'ResourceNotFoundException', `no route ${req.method} ${path}`);
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  front.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return front;
}

/** moto, s3rver (bucket "images") and the front, with the vmimport role made in moto's IAM. */
export async function startAws(): Promise<{ moto: Moto; s3: import('./s3rver.js').S3rver; front: Ec2Front; stop(): Promise<void> }> {
  const { startS3rver } = await import('./s3rver.js');
  const [moto, s3] = await Promise.all([startMoto(), startS3rver({ buckets: ['images'] })]);
  const front = await startEc2Front({ moto: moto.url, s3: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
  const { IAMClient, CreateRoleCommand } = await import('@aws-sdk/client-iam');
  const iam = new IAMClient({ region: 'us-east-1', endpoint: front.url, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'vmimport',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'vmie.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  return {
    moto,
    s3,
    front,
    stop: async () => {
      await front.stop();
      await Promise.all([moto.stop(), s3.stop()]);
    },
  };
}
