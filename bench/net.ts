// Network shapes for the benchmarks: toxiproxy (built from its Go module by .ci/tools.sh) in
// front of a loopback server, adding half the round trip to each direction and, optionally, a
// per-connection bandwidth cap in each direction. Its latency toxic delays each chunk until its
// arrival time plus the delay, so order and throughput are kept; the bandwidth toxic caps each
// connection separately, as a long path with a per-flow limit does. Each shape is measured
// (round trip of a small request, one stream's throughput) before it is used.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { builtTool } from '../test/support/buildkitd.js';
import { freePort } from '../test/support/proc.js';

export interface Shape {
  name: string;
  /** round trip added, ms (half each way) */
  rttMs: number;
  /** per-connection cap in each direction, Mbit/s */
  capMbit?: number;
}

export const SHAPES: Shape[] = [
  { name: 'loopback', rttMs: 0 },
  { name: '20 ms', rttMs: 20 },
  { name: '80 ms', rttMs: 80 },
  { name: '80 ms + 30 Mbit/s', rttMs: 80, capMbit: 30 },
  { name: '200 ms + 10 Mbit/s', rttMs: 200, capMbit: 10 },
];

export function shapeByName(name: string): Shape {
  const key = (x: string) => x.replace(/\s+|\/s/g, '');
  const s = SHAPES.find((x) => key(x.name) === key(name));
  if (!s) throw new Error(`unknown shape "${name}" (${SHAPES.map((x) => x.name).join(', ')})`);
  return s;
}

export class Toxiproxy {
  private constructor(
    private readonly child: ChildProcess,
    private readonly api: string,
  ) {}

  static async start(): Promise<Toxiproxy> {
    const bin = builtTool('toxiproxy', 'server');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash .ci/tools.sh`);
    const port = await freePort();
    const child = spawn(bin, ['-host', '127.0.0.1', '-port', String(port)], { stdio: 'ignore' });
    const api = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${api}/version`)).ok) return new Toxiproxy(child, api);
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill();
    throw new Error('toxiproxy did not start');
  }

  /**
   * One API call. fetch keeps connections alive (it drops a `connection: close` header), and the
   * server closes an idle one while a long run goes on: a call that finds its connection closed
   * is sent again on a new one.
   */
  private async call(method: string, path: string, body?: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let r: Response;
      try {
        r = await fetch(`${this.api}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      } catch (err) {
        if (attempt < 3) continue;
        throw err;
      }
      // a resent create may find the first one done (its answer was what got lost)
      const doneBefore = attempt > 1 && method === 'POST' && r.status === 409;
      if (!r.ok && !doneBefore && !(method === 'DELETE' && r.status === 404)) throw new Error(`toxiproxy ${method} ${path}: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
      return;
    }
  }

  private post(path: string, body: unknown): Promise<void> {
    return this.call('POST', path, body);
  }

  /** A proxy to `upstream` (host:port) with the shape; returns the host:port to use instead. */
  async shaped(name: string, upstream: string, shape: Shape): Promise<string> {
    if (shape.rttMs === 0 && !shape.capMbit) return upstream;
    const port = await freePort();
    await this.post('/proxies', { name, listen: `127.0.0.1:${port}`, upstream, enabled: true });
    for (const stream of ['upstream', 'downstream']) {
      if (shape.rttMs) await this.post(`/proxies/${name}/toxics`, { name: `latency-${stream}`, type: 'latency', stream, attributes: { latency: shape.rttMs / 2, jitter: 0 } });
      // rate in KB/s
      if (shape.capMbit)
        await this.post(`/proxies/${name}/toxics`, { name: `cap-${stream}`, type: 'bandwidth', stream, attributes: { rate: Math.round((shape.capMbit * 1e6) / 8 / 1000) } });
    }
    return `127.0.0.1:${port}`;
  }

  async remove(name: string): Promise<void> {
    await this.call('DELETE', `/proxies/${name}`);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}

/**
 * Measured: the median round trip of a small GET on a kept-alive connection, and one stream's
 * throughput of a large GET. (The proxy accepts connections locally, so a TCP handshake costs no
 * round trip here: tools that open many connections pay less than on a real long path.)
 */
export async function measure(base: string, smallPath: string, bigPath: string): Promise<{ rttMs: number; streamMbit: number }> {
  await (await fetch(`${base}${smallPath}`)).arrayBuffer();
  const rtts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await (await fetch(`${base}${smallPath}`)).arrayBuffer();
    rtts.push(performance.now() - t0);
  }
  rtts.sort((a, b) => a - b);
  const t0 = performance.now();
  const bytes = (await (await fetch(`${base}${bigPath}`)).arrayBuffer()).byteLength;
  const s = (performance.now() - t0) / 1000;
  return { rttMs: rtts[2], streamMbit: (bytes * 8) / s / 1e6 };
}
