// Client side of servers/fault-proxy.mjs: start it in front of a loopback server, set rules,
// read the request log.
import { fileURLToPath } from 'node:url';
import { freePort, ServerProcess, waitFor, workDir } from './proc.js';

export interface FaultRule {
  match?: { method?: string; path?: string; nth?: number; times?: number };
  probability?: number;
  action: 'reset' | 'status' | 'latency' | 'slow' | 'truncate' | 'flip' | 'flip-request' | 'drop-response' | 'stall';
  status?: number;
  retryAfter?: number | string;
  body?: string;
  ms?: number;
  bytesPerSecond?: number;
  afterBytes?: number;
  offset?: number;
}

export interface FaultStats {
  total: number;
  byMethod: Record<string, number>;
  faults: Record<string, number>;
  log: { method: string; path: string; fault?: string; status?: number }[];
}

export interface FaultProxy {
  url: string;
  host: string;
  process: ServerProcess;
  setRules(rules: FaultRule[]): Promise<void>;
  stats(): Promise<FaultStats>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string, opts: { seed?: number; rules?: FaultRule[] } = {}): Promise<FaultProxy> {
  const dir = workDir('fault-proxy');
  const port = await freePort();
  const script = fileURLToPath(new URL('./servers/fault-proxy.mjs', import.meta.url));
  const proc = new ServerProcess('fault-proxy', process.execPath, [script, '--port', String(port), '--upstream', upstream, '--seed', String(opts.seed ?? 1)], { logDir: dir });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('fault proxy', async () => (await fetch(`${url}/__fault/stats`)).ok, { alive: () => proc.alive });
  const proxy: FaultProxy = {
    url,
    host: `127.0.0.1:${port}`,
    process: proc,
    async setRules(rules) {
      const r = await fetch(`${url}/__fault/rules`, { method: 'PUT', body: JSON.stringify(rules) });
      if (!r.ok) throw new Error(`fault proxy rules: ${await r.text()}`);
    },
    async stats() {
      return (await (await fetch(`${url}/__fault/stats`)).json()) as FaultStats;
    },
    async resetStats() {
      await fetch(`${url}/__fault/reset`, { method: 'POST' });
    },
    stop: () => proc.stop(),
  };
  if (opts.rules) await proxy.setRules(opts.rules);
  return proxy;
}
