// build-ami: a disk image to registered, tagged, copied and shared AMIs (lib/ami does the work).
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';
import { input, Problems } from '../../lib/inputs.js';
import { info, summary } from '../../lib/log.js';
import { fillPlaceholders, tagFromRef } from '../../lib/placeholders.js';
import { addSecret } from '../../lib/log.js';
import { defineAction } from '../../lib/run.js';
import { runnerTemp } from '../../lib/temp.js';
import { AmiBuilder } from '../../lib/ami/build.js';

/** {date} as the distribution team names images: UTC, 20230802_010324. */
function utcStamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
}

export default defineAction({
  name: 'build-ami',
  inputs: {
    'disk-image': input.string(),
    'disk-format': input.enum(['auto', 'raw', 'qcow2', 'vmdk', 'vhd']),
    's3-uri': input.string({ pattern: /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)?$/, hint: 's3://bucket/prefix' }),
    region: input.string(),
    endpoint: input.string({ pattern: /^https?:\/\/\S+$/, hint: 'an http(s) URL' }),
    'ami-name': input.string(),
    version: input.string(),
    'ami-description': input.string(),
    architecture: input.enum(['x86_64', 'arm64']),
    'boot-mode': input.enum(['legacy-bios', 'uefi', 'uefi-preferred']),
    'ena-support': input.boolean(),
    method: input.enum(['import-snapshot', 'ebs-direct']),
    'imds-support': input.enum(['v2.0', 'none']),
    'tpm-support': input.boolean(),
    'volume-type': input.enum(['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard']),
    'volume-size': input.integer({ min: 0, max: 65536 }),
    encrypted: input.boolean(),
    'kms-key-id': input.string(),
    'copy-to-regions': input.list(),
    'share-with-accounts': input.list(),
    public: input.boolean(),
    'if-exists': input.enum(['fail', 'reuse']),
    'poll-interval': input.duration({ min: 100, max: 600_000 }),
    'dry-run': input.boolean(),
    'role-name': input.string({ pattern: /^[\w+=,.@-]{1,64}$/, hint: 'an IAM role name' }),
    tags: input.list(),
    timeout: input.duration({ min: 1000 }),
    'keep-upload': input.boolean(),
    'access-key-id': input.string({ secret: true }),
    'secret-access-key': input.string({ secret: true }),
    'session-token': input.string({ secret: true }),
  },
  async main({ inputs, setOutput, saveState }) {
    const problems = new Problems();
    const values = { version: inputs.version || undefined, tag: tagFromRef(), arch: inputs.architecture, date: utcStamp() };
    const name = await problems.check(() => fillPlaceholders(inputs.amiName, values, 'input "ami-name"'));
    const tags = await problems.check(() =>
      Object.fromEntries(
        inputs.tags.map((t) => {
          const eq = t.indexOf('=');
          if (eq <= 0) throw new UserError(`input "tags": "${t}" is not key=value`);
          return [t.slice(0, eq).trim(), fillPlaceholders(t.slice(eq + 1).trim(), values, 'input "tags"')];
        }),
      ),
    );
    const region = inputs.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || '';
    if (!region)
      await problems.check(() => {
        throw new UserError('input "region" is required (or AWS_REGION in the environment)');
      });
    if ((inputs.accessKeyId === '') !== (inputs.secretAccessKey === ''))
      await problems.check(() => {
        throw new UserError(`input "${inputs.accessKeyId ? 'secret-access-key' : 'access-key-id'}" is needed too: give both keys, or neither (the default AWS chain)`);
      });
    problems.done();
    for (const s of [inputs.secretAccessKey, inputs.sessionToken]) if (s) addSecret(s);
    const builder = new AmiBuilder({
      disk: inputs.diskImage,
      diskFormat: inputs.diskFormat,
      method: inputs.method,
      s3Uri: inputs.s3Uri,
      region,
      access: {
        endpoint: inputs.endpoint || undefined,
        ...(inputs.accessKeyId
          ? { credentials: { accessKeyId: inputs.accessKeyId, secretAccessKey: inputs.secretAccessKey, ...(inputs.sessionToken ? { sessionToken: inputs.sessionToken } : {}) } }
          : {}),
      },
      name: name!,
      description: inputs.amiDescription,
      architecture: inputs.architecture,
      bootMode: inputs.bootMode,
      enaSupport: inputs.enaSupport,
      imdsSupport: inputs.imdsSupport,
      tpmSupport: inputs.tpmSupport,
      volumeType: inputs.volumeType,
      volumeSize: inputs.volumeSize || undefined,
      encrypted: inputs.encrypted,
      kmsKeyId: inputs.kmsKeyId || undefined,
      roleName: inputs.roleName,
      tags: tags!,
      copyToRegions: inputs.copyToRegions,
      shareWithAccounts: inputs.shareWithAccounts,
      public: inputs.public,
      ifExists: inputs.ifExists,
      timeoutMs: inputs.timeout,
      pollIntervalMs: inputs.pollInterval,
      keepUpload: inputs.keepUpload,
      dryRun: inputs.dryRun,
      stateDir: join(runnerTemp(), 'airlift-upload'),
      onImportTask: (id) => {
        saveState('import-task', id);
        saveState('region', region);
      },
    });
    const res = await builder.run();
    saveState('done', 'true');
    setOutput('ami-id', res.amiId);
    setOutput('snapshot-id', res.snapshotId);
    setOutput('import-task-id', res.importTaskId);
    setOutput('s3-key', res.s3Key);
    setOutput('region-amis', JSON.stringify(res.regionAmis));
    setOutput('name', name!);
    summary.heading(`build-ami: ${name}${inputs.dryRun ? ' (dry run: nothing was made)' : ''}`);
    summary.table(['region', 'AMI'], Object.entries(res.regionAmis));
    if (!inputs.dryRun) info(`build-ami: ${name} is ${res.amiId} in ${region}${inputs.copyToRegions.length ? `, copied to ${inputs.copyToRegions.join(', ')}` : ''}`);
  },
  // A job cancelled (or failed) while an import ran: say what is still running, and how to go on.
  async post({ getState }) {
    const task = getState('import-task');
    if (!task || getState('done') === 'true') return;
    info(
      `build-ami: import-snapshot task ${task} in ${getState('region')} may still be running; run the step again with the same inputs to attach to it (the ClientToken is the same), or cancel it: aws ec2 cancel-import-task --import-task-id ${task} --region ${getState('region')}`,
    );
  },
});
