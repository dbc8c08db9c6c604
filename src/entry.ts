// What a bundled action entry calls: dist/<name>/index.js → runNamed(name, 'main').
import { loadAction } from './actions/index.js';
import { useActionsRunner } from './lib/log.js';
import { runAction, type Phase } from './lib/run.js';

export async function runNamed(name: string, phase: Phase): Promise<number> {
  await useActionsRunner();
  const def = await loadAction(name);
  return runAction(def, phase);
}
