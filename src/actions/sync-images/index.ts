import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'sync-images',
  inputs: {
    images: input.text(),
    'source-registry': input.string(),
    target: input.list(),
    'strip-prefix': input.string(),
    platforms: input.list(),
    concurrency: input.integer({ min: 1, max: 64 }),
    'blob-concurrency': input.integer({ min: 1, max: 128 }),
    'dry-run': input.boolean(),
    'fail-fast': input.boolean(),
    shard: input.string({ pattern: /^\d+\/\d+$/, hint: 'i/n, e.g. 2/4' }),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
    'output-dir': input.string(),
  },
  async main() {
    notImplemented('sync-images', 3);
  },
});
