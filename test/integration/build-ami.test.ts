// build-ami against moto_server (EC2, IAM) with our front for VM Import, and s3rver for S3, as a
// user runs it (the CLI): a real qcow2 (qemu-img, qemu-io) converted, uploaded, imported,
// registered, copied to a second region and shared; failed imports, a cancelled run attached
// again, throttling, pre-flight errors, if-exists both ways, dry run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from '../support/proc.js';
import { needs } from '../support/tools.js';
import { runCli, startCli } from '../support/cli.js';
import type { S3rver } from '../support/s3rver.js';
import { needsMoto, startAws, type Ec2Front, type Moto } from '../support/ec2.js';

const ACCOUNT = '123456789012';

describe('build-ami', { skip: needsMoto() || needs('qemu-img', 'qemu-io') }, () => {
  let moto: Moto;
  let s3: S3rver;
  let front: Ec2Front;
  let stop: () => Promise<void>;
  let qcow2: string;
  let rawOfQcow2: Buffer;
  before(async () => {
    ({ moto, s3, front, stop } = await startAws());
    // a small real qcow2 with data at two places
    const dir = workDir('disk');
    qcow2 = join(dir, 'openEuler-22.03-x86_64.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '8M']);
    execFileSync('qemu-io', ['-c', 'write -P 0xab 0 1M', '-c', 'write -P 0x5c 6M 512k', qcow2], { stdio: 'pipe' });
    execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, join(dir, 'expected.raw')]);
    rawOfQcow2 = readFileSync(join(dir, 'expected.raw'));
  });
  after(() => stop?.());

  const common = () => [
    '--s3-uri',
    's3://images/ami',
    '--region',
    'us-east-1',
    '--endpoint',
    front.url,
    '--access-key-id',
    s3.accessKeyId,
    '--secret-access-key',
    s3.secretAccessKey,
    '--poll-interval',
    '200ms',
  ];
  const ec2 = async (region: string) => {
    const { EC2Client } = await import('@aws-sdk/client-ec2');
    return new EC2Client({ region, endpoint: moto.url, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  };

  test('qcow2 → raw → S3 → import-snapshot → AMI, copied to a second region, tagged, shared with an account and public', async () => {
    const r = await runCli(
      [
        'build-ami',
        '--disk-image',
        qcow2,
        '--ami-name',
        'openEuler-{version}-{arch}-{date}-hvm',
        '--version',
        '22.03-LTS',
        '--architecture',
        'x86_64',
        '--boot-mode',
        'uefi',
        '--copy-to-regions',
        'eu-west-1',
        '--share-with-accounts',
        ACCOUNT,
        '--public',
        '--tags',
        'product=openEuler\nversion={version}',
        '--keep-upload',
        ...common(),
      ],
      { RUNNER_TEMP: workDir('runner') },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.outputs.name, /^openEuler-22\.03-LTS-x86_64-\d{8}_\d{6}-hvm$/);
    const amis = JSON.parse(r.outputs['region-amis']) as Record<string, string>;
    assert.deepEqual(Object.keys(amis), ['us-east-1', 'eu-west-1']);
    assert.equal(amis['us-east-1'], r.outputs['ami-id']);
    // what was uploaded is the qcow2's raw content, byte for byte
    const stored = readFileSync(join(s3.dataDir, 'images', 'ami', 'openEuler-22.03-x86_64.raw._S3rver_object'));
    assert.ok(stored.equals(rawOfQcow2), 'the object is the converted disk');
    // the calls, as EC2 received them (signatures checked by the front)
    assert.equal(front.badSignatures, 0);
    const reg = front.calls.find((c) => c.action === 'RegisterImage')!.params;
    assert.equal(reg.Architecture, 'x86_64');
    assert.equal(reg.BootMode, 'uefi');
    assert.equal(reg.ImdsSupport, 'v2.0');
    assert.equal(reg.EnaSupport, 'true');
    assert.equal(reg.VirtualizationType, 'hvm');
    assert.equal(reg.RootDeviceName, '/dev/xvda');
    assert.equal(reg['BlockDeviceMapping.1.Ebs.VolumeType'], 'gp3');
    assert.equal(reg['BlockDeviceMapping.1.Ebs.SnapshotId'], r.outputs['snapshot-id']);
    const imp = front.calls.find((c) => c.action === 'ImportSnapshot')!.params;
    assert.equal(imp['DiskContainer.Format'], 'RAW');
    assert.equal(imp['DiskContainer.UserBucket.S3Key'], 'ami/openEuler-22.03-x86_64.raw');
    assert.equal(imp.RoleName, 'vmimport');
    // moto holds the AMIs, in both regions, named and tagged; shared with the account and all
    const { DescribeImagesCommand, DescribeImageAttributeCommand, DescribeSnapshotAttributeCommand } = await import('@aws-sdk/client-ec2');
    for (const [region, id] of Object.entries(amis)) {
      const c = await ec2(region);
      const img = (await c.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
      assert.equal(img.Name, r.outputs.name, region);
      assert.ok(
        img.Tags?.some((t) => t.Key === 'version' && t.Value === '22.03-LTS'),
        `${region}: tagged`,
      );
      const perms = (await c.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }))).LaunchPermissions ?? [];
      assert.ok(perms.some((p) => p.UserId === ACCOUNT) && perms.some((p) => p.Group === 'all'), `${region}: launch permissions ${JSON.stringify(perms)}`);
      const snap = img.BlockDeviceMappings!.find((m) => m.Ebs?.SnapshotId)!.Ebs!.SnapshotId!;
      const vol = (await c.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap, Attribute: 'createVolumePermission' }))).CreateVolumePermissions ?? [];
      assert.ok(
        vol.some((p) => p.UserId === ACCOUNT),
        `${region}: snapshot shared`,
      );
    }

    // the same name again: refused before anything is uploaded (if-exists: fail), reused with if-exists: reuse
    const before = front.calls.length;
    const again = await runCli(['build-ami', '--disk-image', qcow2, '--ami-name', r.outputs.name, '--copy-to-regions', 'eu-west-1', ...common()]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      new RegExp(`an AMI named ${r.outputs.name} already exists in us-east-1 \\(${amis['us-east-1']}\\), eu-west-1 \\(${amis['eu-west-1']}\\); set if-exists: reuse`),
    );
    assert.ok(!front.calls.slice(before).some((c) => c.action === 'ImportSnapshot'));
    const reuse = await runCli(['build-ami', '--disk-image', qcow2, '--ami-name', r.outputs.name, '--copy-to-regions', 'eu-west-1', '--if-exists', 'reuse', ...common()]);
    assert.equal(reuse.code, 0, reuse.stderr);
    assert.deepEqual(JSON.parse(reuse.outputs['region-amis']), amis);
    assert.ok(!front.calls.slice(before).some((c) => ['ImportSnapshot', 'RegisterImage', 'CopyImage'].includes(c.action)));
  });

  test("a failed import (deleting → deleted) fails at once with AWS's reason; throttled polls are retried", async () => {
    front.options.script = [
      { status: 'active', progress: 10 },
      { status: 'deleting', message: 'ClientError: Disk validation failed [Unsupported specified file format]' },
      { status: 'deleted', message: 'ClientError: Disk validation failed [Unsupported specified file format]' },
    ];
    const disk = join(workDir('disk'), 'bad.raw');
    writeFileSync(disk, Buffer.alloc(1024 * 1024, 1));
    try {
      const r = await runCli(['build-ami', '--disk-image', disk, '--ami-name', 'bad-disk', ...common()]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /import-snapshot task import-snap-[0-9a-f]+ failed \(deleting\): ClientError: Disk validation failed \[Unsupported specified file format\]/);
      assert.ok(!front.calls.some((c) => c.action === 'RegisterImage' && c.params.Name === 'bad-disk'));
      assert.ok(!existsSync(join(s3.dataDir, 'images', 'ami', 'bad.raw._S3rver_object')), 'the task has ended: its upload is deleted (keep-upload false)');
    } finally {
      front.options.script = undefined;
    }
    // throttled polls are retried (the SDK's backoff first, then ours) and the import goes on
    front.options.throttle = 3;
    const ok = join(workDir('disk'), 'ok.raw');
    writeFileSync(ok, Buffer.alloc(1024 * 1024, 2));
    const r = await runCli(['build-ami', '--disk-image', ok, '--ami-name', 'throttled', ...common()]);
    front.options.throttle = 0;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /import-snapshot import-snap-[0-9a-f]+: completed/);
    assert.ok(r.outputs['ami-id'].startsWith('ami-'));
    assert.ok(!existsSync(join(s3.dataDir, 'images', 'ami', 'ok.raw._S3rver_object')), 'the upload is deleted once imported (keep-upload false)');
  });

  test('a run cancelled mid-import, run again, attaches to the same task (ClientToken) and imports once', async () => {
    front.options.script = [{ status: 'active', progress: 5 }];
    const disk = join(workDir('disk'), 'cancel.raw');
    writeFileSync(disk, Buffer.alloc(2 * 1024 * 1024, 3));
    const tasksBefore = front.tasks.size;
    const { child, done } = startCli(['build-ami', '--disk-image', disk, '--ami-name', 'cancelled', ...common()]);
    const deadline = Date.now() + 60_000;
    while (front.tasks.size === tasksBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    await done;
    assert.equal(front.tasks.size, tasksBefore + 1);
    front.options.script = undefined;
    const r = await runCli(['build-ami', '--disk-image', disk, '--ami-name', 'cancelled', ...common()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(front.tasks.size, tasksBefore + 1, 'no second import task');
    assert.match(r.stderr, /s3:\/\/images\/ami\/cancel\.raw: already there \(same size and sha256\)/, 'the upload is not sent twice');
    const id = [...front.tasks.keys()].at(-1);
    assert.equal(r.outputs['import-task-id'], id);
    assert.equal(front.calls.filter((c) => c.action === 'ImportSnapshot' && c.params['DiskContainer.UserBucket.S3Key'] === 'ami/cancel.raw').length, 2, 'asked twice, one task');

    // an import that outlasts timeout: the step fails naming the task, which keeps running
    front.options.script = [{ status: 'active', progress: 40, message: 'validating' }];
    const slow = join(workDir('disk'), 'slow.raw');
    writeFileSync(slow, Buffer.alloc(1024 * 1024, 4));
    try {
      const t = await runCli(['build-ami', '--disk-image', slow, '--ami-name', 'slow', '--timeout', '3s', ...common()]);
      assert.equal(t.code, 1);
      assert.match(
        t.stderr,
        /import-snapshot task (import-snap-[0-9a-f]+) did not finish within 3 s \(active 40% \(validating\)\); it keeps running in us-east-1: run this step again with the same inputs to wait for it/,
      );
      assert.ok(existsSync(join(s3.dataDir, 'images', 'ami', 'slow.raw._S3rver_object')), 'the upload stays while the task is active');
      // the post step (run after main, as a runner does) says what is still running
      assert.match(
        t.stderr,
        /build-ami: import-snapshot task import-snap-[0-9a-f]+ in us-east-1 may still be running; run the step again with the same inputs to attach to it .*aws ec2 cancel-import-task --import-task-id import-snap-[0-9a-f]+ --region us-east-1/,
      );
    } finally {
      front.options.script = undefined;
    }
  });

  test('method ebs-direct: the qcow2 written block by block into a snapshot (zero blocks skipped, checksums checked), registered as arm64 uefi, no bucket, no role', async () => {
    const before = front.calls.length;
    const r = await runCli([
      'build-ami',
      '--method',
      'ebs-direct',
      '--disk-image',
      qcow2,
      '--ami-name',
      'ebs-direct-{arch}',
      '--architecture',
      'arm64',
      '--boot-mode',
      'uefi',
      '--tpm-support',
      '--region',
      'us-east-1',
      '--endpoint',
      front.url,
      '--access-key-id',
      s3.accessKeyId,
      '--secret-access-key',
      s3.secretAccessKey,
      '--poll-interval',
      '200ms',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(front.badSignatures, 0);
    const snap = front.ebs.get(r.outputs['snapshot-id'])!;
    assert.ok(snap?.completed, 'CompleteSnapshot accepted the count and the linear checksum');
    // data at 0–1 MiB and 6–6.5 MiB: three blocks of 512 KiB, the zero blocks not sent
    assert.equal(snap.puts, 3);
    const written = Buffer.alloc(rawOfQcow2.length);
    const fd = openSync(snap.file, 'r');
    readSync(fd, written, 0, written.length, 0);
    closeSync(fd);
    assert.ok(written.equals(rawOfQcow2), 'the snapshot holds the disk, byte for byte');
    const calls = front.calls.slice(before).map((c) => c.action);
    assert.ok(!calls.includes('ImportSnapshot') && !calls.includes('GetRole'), `no VM Import, no role check (${calls.join(', ')})`);
    const reg = front.calls.slice(before).find((c) => c.action === 'RegisterImage')!.params;
    assert.deepEqual(
      [reg.Name, reg.Architecture, reg.BootMode, reg.TpmSupport, reg['BlockDeviceMapping.1.Ebs.SnapshotId']],
      ['ebs-direct-arm64', 'arm64', 'uefi', 'v2.0', r.outputs['snapshot-id']],
    );
  });

  test('pre-flight: every problem at once, before anything is uploaded; a missing vmimport role says how to make it; dry run makes no call', async () => {
    const dir = workDir('pre');
    const odd = join(dir, 'odd.raw');
    writeFileSync(odd, Buffer.alloc(1000, 1));
    const before = front.calls.length;
    const r = await runCli([
      'build-ami',
      '--disk-image',
      odd,
      '--ami-name',
      'x',
      '--architecture',
      'arm64',
      '--boot-mode',
      'legacy-bios',
      '--tpm-support',
      '--copy-to-regions',
      'mars-1',
      '--share-with-accounts',
      '1234',
      ...common(),
    ]);
    assert.equal(r.code, 1);
    for (const p of [
      /odd\.raw is a raw image of 1000 bytes, not a whole number of 512-byte sectors/,
      /boot-mode legacy-bios does not boot arm64 instances/,
      /tpm-support needs boot-mode uefi/,
      /copy-to-regions: "mars-1" is not an AWS region/,
      /share-with-accounts: "1234" is not a 12-digit AWS account id/,
      /the AMI name "x" must be 3-128 characters/,
    ])
      assert.match(r.stderr, p);
    // no keys and nothing in the default chain: said before anything is uploaded
    const home = workDir('home');
    const nocreds = await runCli(['build-ami', '--disk-image', qcow2, '--ami-name', 'no-creds', '--s3-uri', 's3://images/ami', '--region', 'us-east-1', '--endpoint', front.url], {
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    });
    assert.equal(nocreds.code, 1);
    assert.match(nocreds.stderr, /no AWS credentials: set access-key-id and secret-access-key, or configure the default chain/);
    const declared = await runCli(['build-ami', '--disk-image', qcow2, '--disk-format', 'raw', '--ami-name', 'declared', ...common()]);
    assert.match(declared.stderr, /is a qcow2 image, not raw; set disk-format to qcow2 or auto/);
    const role = await runCli(['build-ami', '--disk-image', qcow2, '--ami-name', 'no-role', '--role-name', 'missing-role', ...common()]);
    assert.match(role.stderr, /the VM Import service role "missing-role" does not exist \(role-name\); create it as .* trust policy .*vmie\.amazonaws\.com/);
    assert.equal(front.calls.slice(before).filter((c) => c.action !== 'DescribeImages' && c.action !== 'GetRole').length, 0, 'nothing but reads before a refusal');
    const dry = await runCli([
      'build-ami',
      '--disk-image',
      qcow2,
      '--ami-name',
      'dry-{arch}',
      '--copy-to-regions',
      'eu-west-1',
      '--share-with-accounts',
      ACCOUNT,
      '--dry-run',
      ...common(),
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    for (const a of ['DescribeImages', 'GetRole', 'ImportSnapshot', 'RegisterImage', 'CopyImage', 'ModifyImageAttribute'])
      assert.match(dry.stderr, new RegExp(`dry run: would call ${a} in `), a);
    assert.match(dry.stderr, /dry run: would upload .* to s3:\/\/images\/ami\/openEuler-22\.03-x86_64\.raw/);
    assert.match(dry.stderr, /"Architecture":"x86_64".*"ImdsSupport":"v2\.0"/);
    assert.equal(front.calls.length, before + front.calls.slice(before).length);
    assert.ok(!front.calls.slice(before).some((c) => c.params.Name === 'dry-x86_64' || c.action === 'ImportSnapshot'), 'a dry run makes no call');
  });
});
