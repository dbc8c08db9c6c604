import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'setup-buildx-qemu',
  inputs: {
    'qemu-mode': input.enum(['auto', 'image', 'host', 'none']),
    'qemu-image': input.string(),
    'qemu-platforms': input.list(),
    'buildx-version': input.string(),
    'buildx-url': input.string(),
    driver: input.enum(['docker-container', 'docker', 'kubernetes', 'remote']),
    'driver-opts': input.list(),
    name: input.string({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, hint: 'letters, digits, "_", "." and "-"' }),
    use: input.boolean(),
    'buildkitd-config-inline': input.text(),
    'registry-mirrors': input.list(),
    'insecure-registries': input.list(),
    cleanup: input.boolean(),
  },
  async main() {
    notImplemented('setup-buildx-qemu', 5);
  },
  async post() {
    // Nothing was created yet: the builder removal lands with the action itself.
  },
});
