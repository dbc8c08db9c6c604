// A raw disk written straight into an EBS snapshot with the EBS direct APIs: StartSnapshot,
// PutSnapshotBlock for every 512 KiB block that is not all zeros (each with its SHA-256, several
// at once, the last one padded), CompleteSnapshot with the count of blocks written and their
// linear checksum (SHA-256 of the blocks' SHA-256 digests in block order), then DescribeSnapshots
// until it is completed. No bucket, no VM Import role, no import wait.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type * as EBS from '@aws-sdk/client-ebs';
import type * as EC2 from '@aws-sdk/client-ec2';
import { mapLimit } from '../concurrency.js';
import { UserError } from '../errors.js';
import { idleTimeoutMs } from '../http.js';
import { info } from '../log.js';
import type { CheckedDisk } from './disk.js';
import type { Ec2Calls } from './ec2.js';

const GiB = 1024 ** 3;

export interface EbsDirectOptions {
  region: string;
  name: string;
  access: { endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } };
  volumeSize?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  tags: Record<string, string>;
  timeoutMs: number;
  pollIntervalMs: number;
  dryRun: boolean;
}

export class EbsDirectWriter {
  constructor(
    private readonly o: EbsDirectOptions,
    private readonly calls: Ec2Calls,
  ) {}

  private client(): Promise<EBS.EBSClient> {
    return import('@aws-sdk/client-ebs').then(
      ({ EBSClient }) =>
        new EBSClient({
          region: this.o.region,
          maxAttempts: 6,
          requestHandler: { connectionTimeout: 30_000, socketTimeout: idleTimeoutMs() },
          ...(this.o.access.credentials ? { credentials: this.o.access.credentials } : {}),
          ...(this.o.access.endpoint ? { endpoint: this.o.access.endpoint } : {}),
        }),
    );
  }

  /** Writes the disk; the completed snapshot's id. */
  async write(disk: CheckedDisk): Promise<string> {
    const o = this.o;
    const ebs = this.client();
    const { StartSnapshotCommand, PutSnapshotBlockCommand, CompleteSnapshotCommand } = await import('@aws-sdk/client-ebs');
    const needGiB = Math.ceil(disk.size / GiB);
    if (o.volumeSize && o.volumeSize < needGiB) throw new UserError(`volume-size ${o.volumeSize} GiB is smaller than the disk (${needGiB} GiB)`);
    const tags = Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value }));
    const started = await this.calls
      .call<EBS.StartSnapshotCommandOutput>(
        o.region,
        ebs,
        new StartSnapshotCommand({
          VolumeSize: o.volumeSize ?? needGiB,
          Description: `${o.name} (airlift, ebs-direct)`,
          Timeout: Math.max(10, Math.min(4320, Math.ceil(o.timeoutMs / 60_000))),
          ...(tags.length ? { Tags: tags } : {}),
          ...(o.encrypted ? { Encrypted: true, ...(o.kmsKeyId ? { KmsKeyArn: o.kmsKeyId } : {}) } : {}),
        }),
        { SnapshotId: 'snap-dryrun', BlockSize: 524288, $metadata: {} },
      )
      .catch((err: Error) => {
        throw new UserError(`StartSnapshot (EBS direct APIs) in ${o.region} failed: ${err.name}: ${err.message.split('\n')[0]}`, { cause: err });
      });
    const snapshotId = started.SnapshotId!;
    const blockSize = started.BlockSize ?? 524288;
    const blocks = Math.ceil(disk.size / blockSize);
    if (o.dryRun) {
      info(`dry run: would put the non-zero blocks of ${blocks} (${blockSize} bytes each) with PutSnapshotBlock, then CompleteSnapshot`);
      return snapshotId;
    }
    info(`EBS direct: snapshot ${snapshotId}, ${blocks} blocks of ${blockSize / 1024} KiB to read`);
    const digests = new Map<number, Buffer>();
    const fh = await open(disk.path, 'r');
    try {
      await mapLimit(
        Array.from({ length: blocks }, (_, i) => i),
        8,
        async (index) => {
          const block = Buffer.alloc(blockSize);
          const { bytesRead } = await fh.read(block, 0, blockSize, index * blockSize);
          if (bytesRead < blockSize && index < blocks - 1) throw new UserError(`${disk.path} ended early at block ${index} (the file shrank while it was read?)`);
          // all-zero blocks are what a new snapshot holds already: not sent
          if (block.every((b) => b === 0)) return;
          const digest = createHash('sha256').update(block).digest();
          await this.calls
            .call(
              o.region,
              ebs,
              new PutSnapshotBlockCommand({
                SnapshotId: snapshotId,
                BlockIndex: index,
                BlockData: block,
                DataLength: blockSize,
                Checksum: digest.toString('base64'),
                ChecksumAlgorithm: 'SHA256',
                Progress: Math.floor(((index + 1) * 100) / blocks),
              }),
              {},
            )
            .catch((err: Error) => {
              throw new UserError(`PutSnapshotBlock ${index} of ${snapshotId} failed: ${err.name}: ${err.message.split('\n')[0]}`, { cause: err });
            });
          digests.set(index, digest);
        },
      );
    } finally {
      await fh.close();
    }
    const linear = createHash('sha256');
    for (const index of [...digests.keys()].sort((a, b) => a - b)) linear.update(digests.get(index)!);
    await this.calls
      .call(
        o.region,
        ebs,
        new CompleteSnapshotCommand({
          SnapshotId: snapshotId,
          ChangedBlocksCount: digests.size,
          Checksum: linear.digest('base64'),
          ChecksumAlgorithm: 'SHA256',
          ChecksumAggregationMethod: 'LINEAR',
        }),
        {},
      )
      .catch((err: Error) => {
        throw new UserError(`CompleteSnapshot ${snapshotId} failed: ${err.name}: ${err.message.split('\n')[0]}`, { cause: err });
      });
    info(`EBS direct: ${digests.size} of ${blocks} blocks written (the rest are zeros), ${snapshotId} sealed`);
    await this.waitCompleted(snapshotId);
    return snapshotId;
  }

  private async waitCompleted(snapshotId: string): Promise<void> {
    const { DescribeSnapshotsCommand } = await import('@aws-sdk/client-ec2');
    const deadline = Date.now() + this.o.timeoutMs;
    for (;;) {
      const res = await this.calls.call<EC2.DescribeSnapshotsCommandOutput>(
        this.o.region,
        this.calls.ec2(this.o.region),
        new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }),
        { $metadata: {} },
      );
      const s = res.Snapshots?.[0];
      if (s?.State === 'completed') return;
      if (s?.State === 'error') throw new UserError(`snapshot ${snapshotId} is in error: ${s.StateMessage ?? 'no reason given'}`);
      if (Date.now() > deadline)
        throw new UserError(`snapshot ${snapshotId} did not complete within ${Math.round(this.o.timeoutMs / 60_000)} min (${s?.State ?? 'not found'}, ${s?.Progress ?? '?'})`);
      await new Promise((r) => setTimeout(r, this.o.pollIntervalMs));
    }
  }
}
