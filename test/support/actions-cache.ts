// The Actions cache stand-in (servers/actions-cache.ts) on a free loopback port, as a child process.
import { fileURLToPath } from 'node:url';
import { freePort, ServerProcess, waitFor, workDir } from './proc.js';

export interface ActionsCache {
  url: string;
  token: string;
  /** what a runner sets for @actions/cache (v1 protocol) */
  env: NodeJS.ProcessEnv;
  process: ServerProcess;
  stats(): Promise<{ lookups: number; hits: number; saves: number; entries: { key: string; committed: boolean; size?: number }[] }>;
  stop(): Promise<void>;
}

export async function startActionsCache(): Promise<ActionsCache> {
  const dir = workDir('actions-cache');
  const port = await freePort();
  const token = 'runtime-token-for-tests';
  const script = fileURLToPath(new URL('./servers/actions-cache.ts', import.meta.url));
  const proc = new ServerProcess('actions-cache', process.execPath, ['--import', 'tsx', script, '--port', String(port), '--dir', `${dir}/data`, '--token', token], { logDir: dir });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor('actions cache', async () => (await fetch(`${url}__stats`).catch(() => undefined))?.ok === true, { alive: () => proc.alive, attempts: 400 });
  return {
    url,
    token,
    env: { ACTIONS_CACHE_URL: url, ACTIONS_RUNTIME_TOKEN: token, ACTIONS_CACHE_SERVICE_V2: '' },
    process: proc,
    stats: async () => (await (await fetch(`${url}__stats`)).json()) as Awaited<ReturnType<ActionsCache['stats']>>,
    stop: () => proc.stop(),
  };
}
