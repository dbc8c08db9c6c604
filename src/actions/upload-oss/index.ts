import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'upload-oss',
  inputs: {
    source: input.text(),
    destination: input.string({ pattern: /^(oss|s3|https?|file):\/\/\S+$/, hint: 'oss://bucket/prefix, s3://bucket/prefix, https://url or file://dir' }),
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
  },
  async main() {
    notImplemented('upload-oss', 6);
  },
  async post() {
    // Nothing to abort yet: multipart abort on cancel lands with the action itself.
  },
});
