// run(main, post): reads inputs, dispatches the phase, passes state from main to post,
// sets outputs and turns errors into `::error::` lines and exit codes.
import { isUserError, errorMessage } from './errors.js';
import { readInputs, type InputSpec, type Inputs } from './inputs.js';
import { configureLog, debug, error, runnerCore, summary } from './log.js';
import { closeAgents } from './http.js';
import { getManifest } from './action-manifest.js';

export type Phase = 'main' | 'post';

export interface ActionContext<I> {
  inputs: I;
  setOutput(name: string, value: string | number | boolean): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
}

export interface ActionDefinition<S extends InputSpec = InputSpec> {
  name: string;
  inputs: S;
  main(ctx: ActionContext<Inputs<S>>): Promise<void>;
  post?(ctx: ActionContext<Inputs<S>>): Promise<void>;
}

export function defineAction<S extends InputSpec>(def: ActionDefinition<S>): ActionDefinition<S> {
  return def;
}

/** Where outputs and state go: the runner's files, or the CLI's memory. */
export interface Host {
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
}

/** Outputs and state through the runner's files (after useActionsRunner()). */
export const actionsHost: Host = {
  setOutput: (name, value) => runnerCore()!.setOutput(name, value),
  saveState: (name, value) => runnerCore()!.saveState(name, value),
  getState: (name) => runnerCore()!.getState(name),
};

export class MemoryHost implements Host {
  readonly outputs: Record<string, string> = {};
  readonly state: Record<string, string> = {};
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  saveState(name: string, value: string): void {
    this.state[name] = value;
  }
  getState(name: string): string {
    return this.state[name] ?? '';
  }
}

/** The exact text of a thrown value as shown to the user. */
export function reportError(err: unknown): void {
  if (isUserError(err)) {
    for (const line of err.message.split('\n')) error(line);
    return;
  }
  error(errorMessage(err));
  const stack = err instanceof Error ? err.stack : undefined;
  if (stack) debug(stack);
}

/** Runs one phase of an action; returns the exit code (also set on process.exitCode). */
export async function runAction<S extends InputSpec>(def: ActionDefinition<S>, phase: Phase, host: Host = actionsHost): Promise<number> {
  const manifest = getManifest(def.name);
  let code = 0;
  try {
    if (phase === 'post' && !def.post) return 0;
    let inputs: Inputs<S>;
    try {
      inputs = readInputs(def.name, def.inputs);
    } catch (err) {
      // main already reported bad inputs; post has nothing to clean up then.
      if (phase === 'post' && isUserError(err)) {
        debug(`post: inputs not usable (${errorMessage(err)}), nothing to clean up`);
        return 0;
      }
      throw err;
    }
    const ctx: ActionContext<Inputs<S>> = {
      inputs,
      setOutput(name, value) {
        if (!(name in manifest.outputs)) throw new Error(`internal: output "${name}" is not declared in actions/${def.name}/action.yml`);
        host.setOutput(name, String(value));
      },
      saveState: (name, value) => host.saveState(name, value),
      getState: (name) => host.getState(name),
    };
    if (phase === 'main') await def.main(ctx);
    else await def.post!(ctx);
  } catch (err) {
    reportError(err);
    code = 1;
  } finally {
    closeAgents();
    try {
      await summary.flush();
    } catch (err) {
      error(`could not write the job summary: ${errorMessage(err)}`);
      code = 1;
    }
  }
  if (code) process.exitCode = code;
  return code;
}

export { configureLog };
