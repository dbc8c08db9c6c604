import { input } from '../../lib/inputs.js';
import { defineAction, notImplemented } from '../../lib/run.js';

export default defineAction({
  name: 'build-release-image',
  inputs: {
    context: input.string(),
    dockerfile: input.string(),
    image: input.string(),
    registries: input.text(),
    tag: input.string(),
    version: input.string(),
    'tag-rules': input.text(),
    'verify-describe': input.boolean(),
    platforms: input.list(),
    'build-args': input.list(),
    labels: input.list(),
    push: input.boolean(),
    cache: input.string(),
    save: input.string(),
    'save-platform': input.string(),
    check: input.text(),
    meta: input.string(),
    'registry-auth': input.text({ secret: true }),
    'insecure-registries': input.list(),
  },
  async main() {
    notImplemented('build-release-image', 5);
  },
});
