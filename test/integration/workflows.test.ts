// The workflows a person dispatches, run by a real workflow runner (act, self-hosted mode,
// offline) with `tag` and `version` inputs, against real servers. actions/checkout is replaced
// by a local stand-in (test/support/act/checkout) through act's local-repository option,
// because it cannot be fetched here.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dispatch, needsAct } from '../support/act.js';
import { needsMoto, startAws } from '../support/ec2.js';
import { workDir } from '../support/proc.js';

describe('workflows under act', { skip: needsAct() || needsMoto() }, () => {
  let aws: Awaited<ReturnType<typeof startAws>>;
  before(async () => {
    aws = await startAws();
  });
  after(() => aws?.stop());

  test('build-ami.yml, dispatched with tag, version and a disk image: an AMI in two regions, tagged with the release tag', async () => {
    const disk = join(workDir('act-disk'), 'product-1.2.0.raw');
    writeFileSync(disk, Buffer.alloc(2 * 1024 * 1024, 7));
    const r = await dispatch('build-ami.yml', {
      inputs: { tag: 'v1.2.0', version: '1.2.0', 'disk-image': disk },
      vars: { AMI_S3_URI: 's3://images/workflow', AWS_ENDPOINT: aws.front.url, AMI_COPY_TO_REGIONS: 'eu-west-1', AMI_NAME: 'product-{version}-{arch}' },
      secrets: { AWS_ACCESS_KEY_ID: aws.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: aws.s3.secretAccessKey },
    });
    assert.equal(r.code, 0, r.output.slice(-4000));
    assert.match(r.output, /Job succeeded/);
    const amis = JSON.parse(r.outputs['region-amis']) as Record<string, string>;
    assert.deepEqual(Object.keys(amis), ['us-east-1', 'eu-west-1']);
    // the AMIs are in moto, named from the dispatch's version, tagged with its tag
    const { EC2Client, DescribeImagesCommand } = await import('@aws-sdk/client-ec2');
    for (const [region, id] of Object.entries(amis)) {
      const ec2 = new EC2Client({ region, endpoint: aws.moto.url, credentials: { accessKeyId: aws.s3.accessKeyId, secretAccessKey: aws.s3.secretAccessKey } });
      const img = (await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
      assert.equal(img.Name, 'product-1.2.0-x86_64', region);
      assert.ok(img.Tags?.some((t) => t.Key === 'release-tag' && t.Value === 'v1.2.0'), `${region}: tagged with the release tag`);
    }
    assert.equal(aws.front.badSignatures, 0);
    assert.match(r.output, /### AMI product-1\.2\.0-x86_64/, 'the job summary lists the AMIs');
  });
});
