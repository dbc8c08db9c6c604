import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'pack-offline',
  inputs: {
    mode: input.enum(['pack', 'import']),
    spec: input.string(),
    images: input.text(),
    format: input.enum(['docker-archive', 'oci-archive', 'oci']),
    platform: input.string(),
    output: input.string(),
    version: input.string(),
    'output-dir': input.string(),
    compression: input.enum(['none', 'gzip']),
    'split-size': input.size({ min: 1024 * 1024, optional: true }),
    'upload-artifact': input.boolean(),
    'artifact-name': input.string(),
    'retention-days': input.integer({ min: 0, max: 90 }),
    archive: input.string(),
    target: input.string(),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
  },
  async main() {
    notImplemented('pack-offline', 4);
  },
});
