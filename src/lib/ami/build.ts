// From a disk image to registered AMIs: pre-flight checks (before any upload), qcow2 → raw, the
// upload through the storage layer (multipart, resumable, skipped when already there),
// ImportSnapshot with a ClientToken derived from the object (a re-run attaches to the same task),
// polling until the task ends, RegisterImage with every setting a current instance needs,
// then copies to other regions and launch/volume permissions for other accounts or everyone.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import type * as EC2 from '@aws-sdk/client-ec2';
import { UserError } from '../errors.js';
import { info, notice, warning } from '../log.js';
import { openStorage } from '../storage/open.js';
import { PART_CONCURRENCY, PART_SIZE, uploadAll } from '../storage/upload.js';
import { tempDir } from '../temp.js';
import { awsCode, Ec2Calls, type AwsAccess } from './ec2.js';
import { checkDisk, convertToRaw, type CheckedDisk } from './disk.js';
import { EbsDirectWriter } from './ebs-direct.js';

export const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;

export interface AmiOptions {
  disk: string;
  diskFormat: 'auto' | 'raw' | 'qcow2' | 'vmdk' | 'vhd';
  /** import-snapshot: S3 and VM Import; ebs-direct: blocks written straight into a snapshot */
  method: 'import-snapshot' | 'ebs-direct';
  /** s3://bucket/prefix */
  s3Uri: string;
  region: string;
  access: AwsAccess;
  name: string;
  description: string;
  architecture: 'x86_64' | 'arm64';
  bootMode: 'legacy-bios' | 'uefi' | 'uefi-preferred';
  enaSupport: boolean;
  imdsSupport: 'v2.0' | 'none';
  tpmSupport: boolean;
  volumeType: string;
  volumeSize?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  roleName: string;
  tags: Record<string, string>;
  copyToRegions: string[];
  shareWithAccounts: string[];
  public: boolean;
  ifExists: 'fail' | 'reuse';
  timeoutMs: number;
  pollIntervalMs: number;
  keepUpload: boolean;
  dryRun: boolean;
  stateDir: string;
  /** the import task, as soon as it is known (saved as state for the post step) */
  onImportTask?: (id: string) => void;
}

export interface AmiResult {
  amiId: string;
  snapshotId: string;
  importTaskId: string;
  s3Key: string;
  /** region → AMI id, the home region included */
  regionAmis: Record<string, string>;
  reused: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tagList(tags: Record<string, string>): EC2.Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** The trust and bucket policy VM Import's service role needs, for the message when it is missing. */
function vmimportHelp(role: string, bucket: string): string {
  return `create it as https://docs.aws.amazon.com/vm-import/latest/userguide/required-permissions.html says: trust policy {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vmie.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:Externalid":"vmimport"}}}]}, and a role policy allowing s3:GetBucketLocation, s3:GetObject, s3:ListBucket on arn:aws:s3:::${bucket} and arn:aws:s3:::${bucket}/*, plus ec2:ModifySnapshotAttribute, ec2:CopySnapshot, ec2:RegisterImage, ec2:Describe* (aws iam create-role --role-name ${role} …)`;
}

/** The import task ended without a snapshot (its upload is no longer needed). */
class ImportEnded extends UserError {}

export class AmiBuilder {
  readonly calls: Ec2Calls;
  constructor(private readonly o: AmiOptions) {
    this.calls = new Ec2Calls(o.access, o.dryRun);
  }

  private ec2(region: string) {
    return this.calls.ec2(region);
  }

  private async sdk() {
    return import('@aws-sdk/client-ec2');
  }

  /** An AMI of this name owned by this account in `region`, if any. */
  async existing(region: string): Promise<EC2.Image | undefined> {
    const { DescribeImagesCommand } = await this.sdk();
    const res = await this.calls.call<EC2.DescribeImagesCommandOutput>(
      region,
      this.ec2(region),
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [this.o.name] }] }),
      { Images: [], $metadata: {} },
    );
    return res.Images?.find((i) => i.State !== 'deregistered');
  }

  /** Everything that can be known before the upload; every problem at once. */
  async preflight(): Promise<{ disk: CheckedDisk; existing?: EC2.Image }> {
    const o = this.o;
    const problems: string[] = [];
    const note = (p: Promise<unknown> | unknown) => Promise.resolve(p).catch((err: unknown) => (err instanceof UserError ? void problems.push(err.message) : Promise.reject(err)));
    let disk: CheckedDisk | undefined;
    await note(checkDisk(o.disk, o.diskFormat).then((d) => (disk = d)));
    if (!REGION.test(o.region)) problems.push(`region "${o.region}" is not an AWS region (e.g. us-east-1, cn-north-1)`);
    for (const r of o.copyToRegions) {
      if (!REGION.test(r)) problems.push(`copy-to-regions: "${r}" is not an AWS region`);
      else if (r === o.region) problems.push(`copy-to-regions: ${r} is the region the AMI is registered in`);
    }
    if (o.architecture === 'arm64' && o.bootMode === 'legacy-bios') problems.push('boot-mode legacy-bios does not boot arm64 instances (Graviton boots UEFI only): use uefi');
    if (o.tpmSupport && o.bootMode !== 'uefi') problems.push('tpm-support needs boot-mode uefi (NitroTPM is UEFI only)');
    if (o.kmsKeyId && !o.encrypted) problems.push('kms-key-id is set but encrypted is false: set encrypted true to use the key');
    for (const a of o.shareWithAccounts) if (!/^\d{12}$/.test(a)) problems.push(`share-with-accounts: "${a}" is not a 12-digit AWS account id`);
    if (o.method === 'import-snapshot' && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(o.s3Uri))
      problems.push(
        o.s3Uri
          ? `s3-uri "${o.s3Uri}" is not s3://bucket[/prefix]`
          : 's3-uri is needed with method import-snapshot (the bucket VM Import reads the image from); method ebs-direct needs none',
      );
    if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(o.name)) problems.push(`the AMI name "${o.name}" must be 3-128 characters of letters, digits, ( ) . - / _`);
    if (problems.length) throw new UserError(problems.join('\n'));
    if (!o.dryRun && !o.access.credentials) {
      // the default chain (environment, profile, web identity): nothing found is said plainly
      const client = await this.ec2(o.region);
      await client.config.credentials().catch((err: Error) => {
        throw new UserError(
          `no AWS credentials: set access-key-id and secret-access-key, or configure the default chain (aws-actions/configure-aws-credentials with OIDC): ${err.message.split('\n')[0]}`,
        );
      });
    }
    const existing = await this.existing(o.region).catch((err: unknown) => {
      throw this.explain(err, `looking for an AMI named ${o.name} in ${o.region}`);
    });
    if (o.ifExists === 'fail') {
      // every region the AMI goes to: a name taken anywhere fails before anything is uploaded
      const taken: string[] = existing ? [`${o.region} (${existing.ImageId})`] : [];
      for (const r of o.copyToRegions) {
        const there = await this.existing(r);
        if (there) taken.push(`${r} (${there.ImageId})`);
      }
      if (taken.length)
        throw new UserError(`an AMI named ${o.name} already exists in ${taken.join(', ')}; set if-exists: reuse to go on with it (copy, share), or choose another ami-name`);
    }
    if (!existing && o.method === 'import-snapshot') await this.checkRole();
    return { disk: disk!, existing };
  }

  /** The VM Import service role: missing is an error saying how to create it; unaskable, a warning. */
  private async checkRole(): Promise<void> {
    const { GetRoleCommand } = await import('@aws-sdk/client-iam');
    const bucket = this.o.s3Uri.slice(5).split('/')[0];
    try {
      await this.calls.call(this.o.region, this.calls.iamClient(this.o.region), new GetRoleCommand({ RoleName: this.o.roleName }), {});
    } catch (err) {
      if (awsCode(err, 'NoSuchEntity', 'NoSuchEntityException'))
        throw new UserError(`the VM Import service role "${this.o.roleName}" does not exist (role-name); ${vmimportHelp(this.o.roleName, bucket)}`);
      warning(
        `could not check the VM Import service role "${this.o.roleName}" (${(err as Error).name}: ${(err as Error).message.split('\n')[0]}); if it is missing, the import will fail: ${vmimportHelp(this.o.roleName, bucket)}`,
      );
    }
  }

  private explain(err: unknown, doing: string): unknown {
    if (err instanceof UserError) return err;
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    if (awsCode(err, 'AuthFailure', 'UnauthorizedOperation', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'AccessDenied'))
      return new UserError(`${doing}: refused (${e.name}): check the credentials and their EC2/IAM permissions: ${e.message.split('\n')[0]}`, { cause: err });
    if (e?.name && e.message) return new UserError(`${doing}: ${e.name}: ${e.message.split('\n')[0]}`, { cause: err });
    return err;
  }

  async run(): Promise<AmiResult> {
    const o = this.o;
    const { disk, existing } = await this.preflight();
    const bucket = o.s3Uri.slice(5).split('/')[0];
    const prefix = o.s3Uri.slice(5 + bucket.length).replace(/^\/+|\/+$/g, '');
    let result: AmiResult;
    if (existing) {
      notice(`an AMI named ${o.name} exists in ${o.region} (${existing.ImageId}); reused (if-exists: reuse)`);
      const snapshotId = existing.BlockDeviceMappings?.find((m) => m.Ebs?.SnapshotId)?.Ebs?.SnapshotId ?? '';
      result = { amiId: existing.ImageId!, snapshotId, importTaskId: '', s3Key: '', regionAmis: { [o.region]: existing.ImageId! }, reused: true };
    } else {
      // VM Import reads raw, vmdk and vhd; the EBS direct APIs take raw blocks only
      const convert = disk.format === 'qcow2' || (o.method === 'ebs-direct' && disk.format !== 'raw');
      const work = convert ? await tempDir('airlift-ami-') : undefined;
      try {
        const raw = work ? await this.convert(disk, work) : disk;
        if (o.method === 'ebs-direct') {
          const snapshotId = await new EbsDirectWriter(this.o, this.calls).write(raw);
          const amiId = await this.register(snapshotId);
          result = { amiId, snapshotId, importTaskId: '', s3Key: '', regionAmis: { [o.region]: amiId }, reused: false };
        } else {
          const key = `${prefix ? `${prefix}/` : ''}${basename(o.disk).replace(/\.qcow2$/i, '')}${work ? '.raw' : ''}`;
          const sha256 = await this.upload(raw, bucket, prefix, key);
          // the object stays while the task runs (a timeout leaves it running); once the task
          // has ended, completed or failed, it goes unless keep-upload
          const { taskId, snapshotId } = await this.importSnapshot(raw, bucket, key, sha256).catch(async (err: unknown) => {
            if (err instanceof ImportEnded && !o.keepUpload) await this.removeUpload(bucket, prefix, key);
            throw err;
          });
          if (!o.keepUpload) await this.removeUpload(bucket, prefix, key);
          const amiId = await this.register(snapshotId);
          result = { amiId, snapshotId, importTaskId: taskId, s3Key: key, regionAmis: { [o.region]: amiId }, reused: false };
        }
      } finally {
        if (work) await rm(work, { recursive: true, force: true });
      }
    }
    for (const r of o.copyToRegions) result.regionAmis[r] = await this.copyTo(r, result.amiId);
    if (o.shareWithAccounts.length || o.public) for (const [r, id] of Object.entries(result.regionAmis)) await this.share(r, id);
    return result;
  }

  private async convert(disk: CheckedDisk, dir: string): Promise<CheckedDisk> {
    if (this.o.dryRun) {
      info(`dry run: would convert ${disk.path} (${disk.format}) to raw with qemu-img convert`);
      return { ...disk, format: 'raw' };
    }
    info(`${disk.path}: ${disk.format} → raw (qemu-img convert)`);
    return convertToRaw(disk, dir);
  }

  private storage() {
    const c = this.o.access.credentials;
    return openStorage(
      `s3://${this.o.s3Uri.slice(5).replace(/\/+$/, '')}`,
      { accessKeyId: c?.accessKeyId ?? '', accessKeySecret: c?.secretAccessKey ?? '', securityToken: c?.sessionToken ?? '' },
      { endpoint: this.o.access.endpoint, region: this.o.region },
    );
  }

  /** Uploads (multipart, resumable; skipped when the object is there with the same size and sha256); the sha256. */
  private async upload(disk: CheckedDisk, bucket: string, prefix: string, key: string): Promise<string> {
    const storage = this.storage();
    const rel = prefix ? key.slice(prefix.length + 1) : key;
    if (this.o.dryRun) {
      info(`dry run: would upload ${disk.path} (${disk.size} bytes) to s3://${bucket}/${key}`);
      return '0'.repeat(64);
    }
    const [res] = await uploadAll([{ path: disk.path, key: rel, size: disk.size }], storage, {
      concurrency: 1,
      partSize: PART_SIZE,
      partConcurrency: PART_CONCURRENCY,
      skipUnchanged: true,
      verify: true,
      dryRun: false,
      resume: true,
      stateDir: this.o.stateDir,
      contentType: 'application/octet-stream',
    });
    info(`s3://${bucket}/${key}: ${res.status === 'skipped' ? 'already there (same size and sha256)' : 'uploaded and verified'}`);
    return res.sha256;
  }

  private async removeUpload(bucket: string, prefix: string, key: string): Promise<void> {
    if (this.o.dryRun) {
      info(`dry run: would delete s3://${bucket}/${key} after the import`);
      return;
    }
    const rel = prefix ? key.slice(prefix.length + 1) : key;
    await this.storage()
      .remove?.(rel)
      .then(() => info(`s3://${bucket}/${key}: deleted, the import task has ended (keep-upload: false)`))
      .catch((err: Error) => warning(`s3://${bucket}/${key} could not be deleted after the import: ${err.message}`));
  }

  /** ImportSnapshot (attached to the same task on a re-run) and its wait; the snapshot. */
  private async importSnapshot(disk: CheckedDisk, bucket: string, key: string, sha256: string): Promise<{ taskId: string; snapshotId: string }> {
    const o = this.o;
    const { ImportSnapshotCommand, DescribeImportSnapshotTasksCommand, CreateTagsCommand } = await this.sdk();
    // the same object with the same content is the same import: a re-run attaches to its task
    const clientToken = createHash('sha256')
      .update(`airlift-ami:${bucket}/${key}:${sha256}:${o.encrypted}:${o.kmsKeyId ?? ''}`)
      .digest('hex')
      .slice(0, 64);
    const format = disk.format === 'vhdx' ? 'VHDX' : disk.format.toUpperCase();
    const started = await this.calls
      .call<EC2.ImportSnapshotCommandOutput>(
        o.region,
        this.ec2(o.region),
        new ImportSnapshotCommand({
          ClientToken: clientToken,
          Description: `${o.name} (airlift)`,
          DiskContainer: { Format: format, UserBucket: { S3Bucket: bucket, S3Key: key }, Description: basename(disk.path) },
          RoleName: o.roleName,
          ...(o.encrypted ? { Encrypted: true, ...(o.kmsKeyId ? { KmsKeyId: o.kmsKeyId } : {}) } : {}),
          ...(Object.keys(o.tags).length ? { TagSpecifications: [{ ResourceType: 'import-snapshot-task', Tags: tagList(o.tags) }] } : {}),
        }),
        { ImportTaskId: 'import-snap-dryrun', $metadata: {} },
      )
      .catch((err: unknown) => {
        throw this.explain(err, `ImportSnapshot of s3://${bucket}/${key}`);
      });
    const taskId = started.ImportTaskId!;
    o.onImportTask?.(taskId);
    info(`import-snapshot task ${taskId} (ClientToken ${clientToken.slice(0, 12)}…)`);
    if (o.dryRun) return { taskId, snapshotId: 'snap-dryrun' };
    const deadline = Date.now() + o.timeoutMs;
    let interval = o.pollIntervalMs;
    let shown = '';
    for (;;) {
      let detail: EC2.SnapshotTaskDetail | undefined;
      try {
        const res = await this.calls.call<EC2.DescribeImportSnapshotTasksCommandOutput>(
          o.region,
          this.ec2(o.region),
          new DescribeImportSnapshotTasksCommand({ ImportTaskIds: [taskId] }),
          { $metadata: {} },
        );
        detail = res.ImportSnapshotTasks?.[0]?.SnapshotTaskDetail;
        interval = o.pollIntervalMs;
      } catch (err) {
        // throttled (beyond the SDK's own retries): wait longer, up to a minute between polls
        if (!awsCode(err, 'RequestLimitExceeded', 'Throttling', 'ThrottlingException')) throw this.explain(err, `DescribeImportSnapshotTasks ${taskId}`);
        interval = Math.min(60_000, interval * 2);
        warning(`DescribeImportSnapshotTasks was throttled; asking again in ${Math.round(interval / 1000)} s`);
      }
      const status = detail?.Status ?? 'unknown';
      const line = `${status}${detail?.Progress ? ` ${detail.Progress}%` : ''}${detail?.StatusMessage ? ` (${detail.StatusMessage})` : ''}`;
      if (detail && line !== shown) info(`import-snapshot ${taskId}: ${(shown = line)}`);
      if (status === 'completed') {
        if (!detail?.SnapshotId) throw new UserError(`import-snapshot task ${taskId} completed without a snapshot id`);
        if (Object.keys(o.tags).length) await this.calls.call(o.region, this.ec2(o.region), new CreateTagsCommand({ Resources: [detail.SnapshotId], Tags: tagList(o.tags) }), {});
        return { taskId, snapshotId: detail.SnapshotId };
      }
      // a failed import ends in deleting → deleted (not "error"), with AWS's reason in StatusMessage
      if (status === 'deleting' || status === 'deleted' || status === 'error')
        throw new ImportEnded(
          `import-snapshot task ${taskId} failed (${status}): ${detail?.StatusMessage ?? 'no reason given'}${o.keepUpload ? `; s3://${bucket}/${key} is kept (keep-upload)` : ''}`,
        );
      if (Date.now() + interval > deadline)
        throw new UserError(
          `import-snapshot task ${taskId} did not finish within ${o.timeoutMs >= 60_000 ? `${Math.round(o.timeoutMs / 60_000)} min` : `${Math.round(o.timeoutMs / 1000)} s`} (${line}); it keeps running in ${o.region}: run this step again with the same inputs to wait for it (it attaches to the same task), or raise timeout`,
        );
      await sleep(interval);
    }
  }

  /** Polls DescribeImages until the AMI is available; `failed` is an error with its reason. */
  private async waitAvailable(region: string, amiId: string): Promise<EC2.Image> {
    const { DescribeImagesCommand } = await this.sdk();
    const deadline = Date.now() + this.o.timeoutMs;
    for (;;) {
      const res = await this.calls.call<EC2.DescribeImagesCommandOutput>(region, this.ec2(region), new DescribeImagesCommand({ ImageIds: [amiId] }), {
        Images: [{ ImageId: amiId, State: 'available' }],
        $metadata: {},
      });
      const img = res.Images?.[0];
      if (img?.State === 'available') return img;
      if (img?.State === 'failed' || img?.State === 'error' || img?.State === 'invalid')
        throw new UserError(`${amiId} in ${region} is ${img.State}: ${img.StateReason?.Message ?? 'no reason given'}`);
      if (Date.now() > deadline) throw new UserError(`${amiId} in ${region} was not available within ${Math.round(this.o.timeoutMs / 60_000)} min (${img?.State ?? 'not found'})`);
      await sleep(this.o.pollIntervalMs);
    }
  }

  private async register(snapshotId: string): Promise<string> {
    const o = this.o;
    const { RegisterImageCommand } = await this.sdk();
    const res = await this.calls
      .call<EC2.RegisterImageCommandOutput>(
        o.region,
        this.ec2(o.region),
        new RegisterImageCommand({
          Name: o.name,
          ...(o.description ? { Description: o.description } : {}),
          Architecture: o.architecture,
          RootDeviceName: '/dev/xvda',
          BlockDeviceMappings: [
            {
              DeviceName: '/dev/xvda',
              Ebs: { SnapshotId: snapshotId, VolumeType: o.volumeType as EC2.VolumeType, DeleteOnTermination: true, ...(o.volumeSize ? { VolumeSize: o.volumeSize } : {}) },
            },
          ],
          VirtualizationType: 'hvm',
          EnaSupport: o.enaSupport,
          BootMode: o.bootMode,
          ...(o.imdsSupport === 'v2.0' ? { ImdsSupport: 'v2.0' } : {}),
          ...(o.tpmSupport ? { TpmSupport: 'v2.0' } : {}),
        }),
        { ImageId: 'ami-dryrun', $metadata: {} },
      )
      .catch((err: unknown) => {
        throw this.explain(err, `RegisterImage ${o.name}`);
      });
    const amiId = res.ImageId!;
    await this.waitAvailable(o.region, amiId);
    const { CreateTagsCommand } = await this.sdk();
    if (Object.keys(o.tags).length) await this.calls.call(o.region, this.ec2(o.region), new CreateTagsCommand({ Resources: [amiId], Tags: tagList(o.tags) }), {});
    info(`registered ${amiId} (${o.name}) in ${o.region}`);
    return amiId;
  }

  private async copyTo(region: string, sourceId: string): Promise<string> {
    const o = this.o;
    const { CopyImageCommand, CreateTagsCommand } = await this.sdk();
    const there = await this.existing(region);
    if (there) {
      info(`${region}: ${there.ImageId} (${o.name}) is there already`);
      return there.ImageId!;
    }
    const res = await this.calls
      .call<EC2.CopyImageCommandOutput>(
        region,
        this.ec2(region),
        new CopyImageCommand({
          SourceRegion: o.region,
          SourceImageId: sourceId,
          Name: o.name,
          ...(o.description ? { Description: o.description } : {}),
          ClientToken: createHash('sha256').update(`airlift-copy:${sourceId}:${region}`).digest('hex').slice(0, 64),
          ...(o.encrypted ? { Encrypted: true } : {}),
        }),
        { ImageId: `ami-dryrun-${region}`, $metadata: {} },
      )
      .catch((err: unknown) => {
        throw this.explain(err, `CopyImage ${sourceId} to ${region}`);
      });
    const id = res.ImageId!;
    const img = await this.waitAvailable(region, id);
    const snaps = (img.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((s): s is string => !!s);
    if (Object.keys(o.tags).length) await this.calls.call(region, this.ec2(region), new CreateTagsCommand({ Resources: [id, ...snaps], Tags: tagList(o.tags) }), {});
    info(`${region}: copied as ${id}`);
    return id;
  }

  /** Launch permission on the AMI and createVolumePermission on its snapshots, in one region. */
  private async share(region: string, amiId: string): Promise<void> {
    const o = this.o;
    const { ModifyImageAttributeCommand, ModifySnapshotAttributeCommand, DescribeImagesCommand } = await this.sdk();
    const who = [...o.shareWithAccounts.map((UserId) => ({ UserId })), ...(o.public ? [{ Group: 'all' as const }] : [])];
    await this.calls.call(region, this.ec2(region), new ModifyImageAttributeCommand({ ImageId: amiId, LaunchPermission: { Add: who } }), {}).catch((err: unknown) => {
      throw this.explain(err, `sharing ${amiId} in ${region}${o.public ? ' (public: the account\'s "block public access for AMIs" setting may forbid it)' : ''}`);
    });
    const img = await this.calls.call<EC2.DescribeImagesCommandOutput>(region, this.ec2(region), new DescribeImagesCommand({ ImageIds: [amiId] }), { Images: [], $metadata: {} });
    for (const m of img.Images?.[0]?.BlockDeviceMappings ?? []) {
      if (!m.Ebs?.SnapshotId) continue;
      await this.calls
        .call(
          region,
          this.ec2(region),
          new ModifySnapshotAttributeCommand({
            SnapshotId: m.Ebs.SnapshotId,
            Attribute: 'createVolumePermission',
            OperationType: 'add',
            ...(o.shareWithAccounts.length ? { UserIds: o.shareWithAccounts } : {}),
            ...(o.public ? { GroupNames: ['all'] } : {}),
          }),
          {},
        )
        .catch((err: unknown) => {
          throw this.explain(err, `sharing snapshot ${m.Ebs!.SnapshotId} of ${amiId} in ${region}`);
        });
    }
    info(`${region}: ${amiId} shared with ${[...o.shareWithAccounts, ...(o.public ? ['everyone (public)'] : [])].join(', ')}`);
  }
}
