// What a bundled action entry calls: dist/<name>/index.js → runNamed(name, 'main').
import { loadAction } from './actions/index.js';
import { configureLog } from './lib/log.js';
import { runAction, type Phase } from './lib/run.js';

export async function runNamed(name: string, phase: Phase): Promise<number> {
  configureLog({ mode: 'actions' });
  const def = await loadAction(name);
  return runAction(def, phase);
}
