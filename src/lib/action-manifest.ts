// The shape of an action's metadata, generated from its action.yml (src/generated/actions.ts).
import { manifests } from '../generated/actions.js';

export interface InputManifest {
  description: string;
  required: boolean;
  default?: string;
}

export interface ActionManifest {
  name: string;
  title: string;
  description: string;
  hasPost: boolean;
  using: string;
  main: string;
  post?: string;
  inputs: Record<string, InputManifest>;
  outputs: Record<string, { description: string }>;
}

export function getManifest(action: string): ActionManifest {
  const m = manifests[action];
  if (!m) throw new Error(`internal: no action.yml for "${action}"`);
  return m;
}
