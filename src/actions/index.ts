// Action definitions, loaded lazily: each becomes its own chunk in the bundle, so an action
// only loads the dependencies it uses (the AWS SDK, the artifact client, ...).
import type { ActionDefinition } from '../lib/run.js';
import type { InputSpec } from '../lib/inputs.js';

type Loader = () => Promise<{ default: ActionDefinition<InputSpec> }>;

export const loaders: Record<string, Loader> = {
  'setup-buildx-qemu': () => import('./setup-buildx-qemu/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
  'build-release-image': () => import('./build-release-image/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
  'sync-images': () => import('./sync-images/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
  'pack-offline': () => import('./pack-offline/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
  'build-ami': () => import('./build-ami/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
  'upload-oss': () => import('./upload-oss/index.js') as Promise<{ default: ActionDefinition<InputSpec> }>,
};

export async function loadAction(name: string): Promise<ActionDefinition<InputSpec>> {
  const load = loaders[name];
  if (!load) throw new Error(`internal: unknown action "${name}"`);
  return (await load()).default;
}
