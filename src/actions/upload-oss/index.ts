// upload-oss: release files to Aliyun OSS, S3(-compatible) stores, an HTTP endpoint or a directory:
// multipart, parallel, resumable, checksum-verified.
import { rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { runnerTempOr } from '../../lib/temp.js';
import { UserError } from '../../lib/errors.js';
import { formatBytes } from '../../lib/format.js';
import { checkInputDirectory, forInput, forInputs, input, inputDirectory, Problems, type Inputs } from '../../lib/inputs.js';
import { listEntries } from '../../lib/list.js';
import type { OidcRole } from '../../lib/storage/aliyun-sts.js';
import { info, summary } from '../../lib/log.js';
import { isLoopback } from '../../lib/registry/reference.js';
import { listCheckpoints } from '../../lib/storage/checkpoint.js';
import { restoreCheckpoints, saveCheckpoints } from '../../lib/storage/checkpoint-cache.js';
import { defineAction } from '../../lib/run.js';
import { tagFromRef } from '../../lib/placeholders.js';
import { expandDestination, openStorage, shownDestination } from '../../lib/storage/open.js';
import { selectFiles } from '../../lib/storage/select.js';
import { uploadAll } from '../../lib/storage/upload.js';

const ACLS: Record<string, string[]> = {
  oss: ['private', 'public-read', 'public-read-write', 'default'],
  s3: ['private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control'],
};

/** A canned ACL the destination's store knows (a typo would otherwise surface per object, or not at all). */
function checkAcl(acl: string, destination: string): void {
  const scheme = destination.split(':')[0];
  const known = ACLS[scheme];
  if (!known) throw new UserError(`input "acl" applies to oss:// and s3:// destinations, not ${scheme}://`);
  if (!known.includes(acl)) throw new UserError(`input "acl": "${acl}" is not one of ${known.join(', ')}`);
}

/** An STS endpoint: https, or plain http only on loopback (a test server), since it carries the OIDC token. */
function stsUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new UserError(`"${s}" is not a URL (e.g. https://sts.cn-hangzhou.aliyuncs.com)`);
  }
  if (u.protocol === 'http:' && !isLoopback(u.host)) throw new UserError(`"${s}": use https; plain http is only accepted on loopback`);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UserError(`"${s}" is not an https URL`);
  return u.toString();
}

/**
 * What main and post both derive from the inputs and the environment, one way: where multipart
 * checkpoints are kept (state-dir, else $RUNNER_TEMP/airlift-upload, else ./.airlift/upload), and
 * the destination with its placeholders filled (a function: it throws a user error when a
 * placeholder has no value, which main collects with the other input problems).
 */
function resolveUpload(inputs: { stateDir: string; destination: string; version: string; tag: string }, env: NodeJS.ProcessEnv = process.env) {
  return {
    stateDir: resolve(inputs.stateDir || runnerTempOr('airlift-upload', '.airlift/upload', env)),
    destination: () => forInput('destination', () => expandDestination(inputs.destination, { version: inputs.version, tag: inputs.tag || tagFromRef(env.GITHUB_REF ?? '') })),
  };
}

const spec = {
  source: input.text(),
  destination: input.string({ pattern: /^[a-z0-9+]+:\/\/\S+$/, hint: 'oss://bucket/prefix, s3://bucket/prefix, https://url or file://dir' }),
  version: input.string(),
  tag: input.string(),
  endpoint: input.string(),
  region: input.string(),
  concurrency: input.integer({ min: 1, max: 64 }),
  'part-size': input.size({ min: 100 * 1024, max: 5 * 1024 ** 3 }),
  'part-concurrency': input.integer({ min: 1, max: 64 }),
  checksum: input.boolean(),
  'skip-unchanged': input.boolean(),
  'content-type': input.string(),
  'cache-control': input.string(),
  acl: input.string(),
  'http-method': input.enum(['PUT', 'POST']),
  'dry-run': input.boolean(),
  resume: input.boolean(),
  'state-dir': input.string(),
  manifest: input.string(),
  'access-key-id': input.string({ secret: true }),
  'access-key-secret': input.string({ secret: true }),
  'security-token': input.string({ secret: true }),
  token: input.string({ secret: true }),
  'role-arn': input.string({ pattern: /^(acs:ram::\d+:role\/.+)?$/, hint: 'acs:ram::<account>:role/<name>' }),
  'oidc-provider-arn': input.string({ pattern: /^(acs:ram::\d+:oidc-provider\/.+)?$/, hint: 'acs:ram::<account>:oidc-provider/<name>' }),
  'role-session-name': input.string({ pattern: /^([\w.@-]{2,64})?$/, hint: '2-64 letters, digits, ".", "@", "-", "_"' }),
  'sts-endpoint': input.string(),
  'sts-duration': input.duration({ min: 900_000, max: 43_200_000 }),
  'oidc-audience': input.string(),
};

type StorageInputs = Pick<
  Inputs<typeof spec>,
  | 'accessKeyId'
  | 'accessKeySecret'
  | 'securityToken'
  | 'token'
  | 'endpoint'
  | 'region'
  | 'httpMethod'
  | 'roleArn'
  | 'oidcProviderArn'
  | 'roleSessionName'
  | 'stsEndpoint'
  | 'stsDuration'
  | 'oidcAudience'
>;

/** The destination's storage, with access keys or an OIDC role (STS, renewed before expiry). */
function storageFor(inputs: StorageInputs, destination: string) {
  let role: OidcRole | undefined;
  if (!inputs.roleArn && !inputs.oidcProviderArn) {
    if (inputs.roleSessionName) throw new UserError('input "role-session-name" only applies with role-arn and oidc-provider-arn');
  }
  if (inputs.roleArn || inputs.oidcProviderArn) {
    if (!inputs.roleArn || !inputs.oidcProviderArn)
      throw new UserError(`input "${inputs.roleArn ? 'oidc-provider-arn' : 'role-arn'}" is needed too: STS AssumeRoleWithOIDC takes both role-arn and oidc-provider-arn`);
    if (inputs.accessKeyId || inputs.accessKeySecret || inputs.securityToken)
      throw new UserError(`input "role-arn": give either access keys${inputs.securityToken ? ' (with security-token)' : ''} or an OIDC role, not both`);
    const endpoint = forInput('sts-endpoint', () => stsUrl(inputs.stsEndpoint));
    const sessionName = inputs.roleSessionName || `airlift-${process.env.GITHUB_RUN_ID ?? process.pid}`.slice(0, 64);
    role = {
      roleArn: inputs.roleArn,
      providerArn: inputs.oidcProviderArn,
      sessionName,
      durationSeconds: Math.round(inputs.stsDuration / 1000),
      endpoint,
      audience: inputs.oidcAudience,
    };
  }
  return forInputs({ destination: 'destination', endpoint: 'endpoint', role: 'role-arn', accessKeySecret: 'access-key-secret' }, () =>
    openStorage(
      destination,
      { accessKeyId: inputs.accessKeyId, accessKeySecret: inputs.accessKeySecret, securityToken: inputs.securityToken, token: inputs.token },
      { endpoint: inputs.endpoint || undefined, region: inputs.region || undefined, method: inputs.httpMethod, role },
    ),
  );
}

export default defineAction({
  name: 'upload-oss',
  inputs: spec,
  async main({ inputs, setOutput }) {
    // every input checked, every problem reported together, before anything is made or sent
    const problems = new Problems();
    const resolved = resolveUpload(inputs);
    const destination = await problems.check(resolved.destination);
    if (destination && inputs.acl) await problems.check(() => checkAcl(inputs.acl, destination));
    const storage = destination ? await problems.check(() => storageFor(inputs, destination)) : undefined;
    const files = await problems.check(async () => {
      const entries = listEntries(inputs.source, { lines: true });
      if (entries.length === 0) throw new UserError('input "source" lists no file (only blank lines or comments)');
      return selectFiles(entries, { from: 'input "source"' });
    });
    const stateDir = resolved.stateDir;
    if (!inputs.dryRun) await problems.check(() => checkInputDirectory(stateDir, 'state-dir'));
    if (inputs.manifest)
      await problems.check(async () => {
        if ((await stat(inputs.manifest).catch(() => undefined))?.isDirectory())
          throw new UserError(`input "manifest": ${inputs.manifest} is a directory; name the JSON file to write`);
        await checkInputDirectory(dirname(resolve(inputs.manifest)), 'manifest');
      });
    problems.done();
    if (!destination || !storage || !files) throw new Error('upload-oss: inputs checked without a destination, storage or files');
    // where results go is made before anything is sent
    if (!inputs.dryRun) await inputDirectory(stateDir, 'state-dir');
    if (inputs.manifest) await inputDirectory(dirname(resolve(inputs.manifest)), 'manifest');
    if (inputs.resume && !inputs.dryRun) await restoreCheckpoints(stateDir, destination);
    info(`upload-oss: ${files.length} files (${formatBytes(files.reduce((n, f) => n + f.size, 0))}) → ${shownDestination(destination)}${inputs.dryRun ? ' (dry run)' : ''}`);
    const objects = await forInputs({ partSize: 'part-size', role: 'role-arn' }, () =>
      uploadAll(files, storage, {
        concurrency: inputs.concurrency,
        partSize: inputs.partSize,
        partConcurrency: inputs.partConcurrency,
        skipUnchanged: inputs.skipUnchanged,
        verify: inputs.checksum,
        dryRun: inputs.dryRun,
        resume: inputs.resume,
        stateDir,
        contentType: inputs.contentType,
        cacheControl: inputs.cacheControl,
        acl: inputs.acl,
      }),
    );
    const uploaded = objects.filter((o) => o.status === 'uploaded');
    if (inputs.manifest) {
      await writeFile(
        inputs.manifest,
        JSON.stringify(
          { destination: shownDestination(destination), objects: objects.map((o) => ({ url: o.url, key: o.key, size: o.size, sha256: o.sha256, status: o.status })) },
          null,
          2,
        ) + '\n',
      );
      setOutput('manifest', resolve(inputs.manifest));
    }
    setOutput('urls', objects.map((o) => o.url).join('\n'));
    setOutput('uploaded', uploaded.length);
    setOutput('skipped', objects.filter((o) => o.status === 'skipped').length);
    setOutput(
      'bytes',
      uploaded.reduce((n, o) => n + o.size, 0),
    );
    summary.heading(`upload-oss: ${uploaded.length} uploaded, ${objects.filter((o) => o.status === 'skipped').length} unchanged → ${shownDestination(destination)}`);
    summary.table(
      ['object', 'size', 'result', 'verified'],
      objects.map((o) => [o.url, formatBytes(o.size), o.status, o.verified ?? '']),
    );
  },
  // With resume on, an unfinished multipart upload is kept for the next run to continue (and its
  // checkpoints saved to the Actions cache on a runner); with it off, whatever a failed or
  // cancelled run left behind is aborted here.
  async post({ inputs }) {
    if (inputs.dryRun) return;
    const { stateDir, destination: expand } = resolveUpload(inputs);
    const left = await listCheckpoints(stateDir);
    if (left.length === 0) return;
    const destination = expand();
    if (inputs.resume) {
      await saveCheckpoints(stateDir, destination);
      return;
    }
    const storage = storageFor(inputs, destination);
    // only this step's destination: a shared state directory may hold other steps' uploads
    const base = storage.url('');
    for (const c of left.filter((x) => x.url.startsWith(base))) {
      await storage.abortRecorded?.(c.url, c.uploadId);
      await rm(c.file, { force: true });
      info(`upload-oss: aborted the unfinished upload of ${c.url}`);
    }
  },
});
