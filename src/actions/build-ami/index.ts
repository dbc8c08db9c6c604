import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'build-ami',
  inputs: {
    'disk-image': input.string(),
    'disk-format': input.enum(['auto', 'raw', 'qcow2', 'vmdk', 'vhd']),
    's3-uri': input.string({ pattern: /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, hint: 's3://bucket/prefix' }),
    region: input.string(),
    endpoint: input.string({ pattern: /^https?:\/\/\S+$/, hint: 'an http(s) URL' }),
    'ami-name': input.string(),
    version: input.string(),
    'ami-description': input.string(),
    architecture: input.enum(['x86_64', 'arm64']),
    'boot-mode': input.enum(['legacy-bios', 'uefi', 'uefi-preferred']),
    'ena-support': input.boolean(),
    'role-name': input.string(),
    tags: input.list(),
    timeout: input.duration({ min: 60_000 }),
    'keep-upload': input.boolean(),
    'access-key-id': input.string({ secret: true }),
    'secret-access-key': input.string({ secret: true }),
    'session-token': input.string({ secret: true }),
  },
  async main() {
    notImplemented('build-ami');
  },
  async post() {
    // Nothing to cancel yet: the import-task cleanup lands with the action itself.
  },
});
