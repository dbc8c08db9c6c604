import { startOssServer } from '../test/support/oss.js';
import { spawnSync } from 'node:child_process';
import { bigFile } from './common.js';
const oss = await startOssServer({ buckets: ['bench'] });
await bigFile('/tmp/ossprof.bin', 200*1024*1024);
const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/ossprof', 'dist/cli.js', 'upload-oss', '--source', '/tmp/ossprof.bin', '--destination', 'oss://bench/x.bin', '--endpoint', oss.endpoint, '--access-key-id', oss.accessKeyId, '--access-key-secret', oss.accessKeySecret], { encoding: 'utf8' });
console.log(r.status, r.stderr.slice(-600));
await oss.stop();
