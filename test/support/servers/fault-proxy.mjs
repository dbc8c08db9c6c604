// A fault-injecting reverse proxy for tests, run as a child process:
//   node fault-proxy.mjs --port N --upstream http://127.0.0.1:M [--seed S]
// Requests are forwarded with their Host header unchanged (signatures and registry Location
// headers keep working). Rules, set with PUT /__fault/rules (a JSON array), inject faults:
//   { match: { method, path (regex), nth, times }, probability, action, ...params }
//   action: reset | status (status, retryAfter, body) | latency (ms) | slow (bytesPerSecond)
//           | truncate (afterBytes) | flip (offset) | flip-request (offset: a byte of the request body)
//           | drop-response (the request reaches the server, its answer is lost: the connection is reset)
//           | stall (afterBytes of the answer's body, then nothing more, the connection left open)
// Latency rules add up and evaluation goes on; the first other rule that fires decides.
// Dice are seeded (mulberry32), so a run with the same request order is reproducible.
// GET /__fault/stats gives counts and the request log; POST /__fault/reset clears them.
import { createServer, request as httpRequest, Agent } from 'node:http';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const port = Number(opt('port'));
const upstream = new URL(opt('upstream'));
let seed = Number(opt('seed', '1')) >>> 0;

function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

let rules = [];
let stats;
function resetStats() {
  stats = { total: 0, byMethod: {}, faults: {}, log: [] };
  for (const r of rules) r._seen = r._applied = 0;
}
resetStats();
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function pick(req) {
  let latency = 0;
  let fault;
  for (const r of rules) {
    const m = r.match ?? {};
    if (m.method && m.method.toUpperCase() !== req.method) continue;
    if (m.path && !new RegExp(m.path).test(req.url)) continue;
    r._seen++;
    if (m.nth !== undefined && r._seen !== m.nth) continue;
    if (m.times !== undefined && r._applied >= m.times) continue;
    if (r.probability !== undefined && random() >= r.probability) continue;
    r._applied++;
    if (r.action === 'latency') latency += r.ms ?? 0;
    else if (!fault) fault = r;
  }
  return { latency, fault };
}

function record(req, fault, status, latency = 0) {
  stats.total++;
  if (latency) stats.faults.latency = (stats.faults.latency ?? 0) + 1;
  stats.byMethod[req.method] = (stats.byMethod[req.method] ?? 0) + 1;
  if (fault) stats.faults[fault.action] = (stats.faults[fault.action] ?? 0) + 1;
  if (stats.log.length < 20000) stats.log.push({ method: req.method, path: req.url, fault: fault?.action, status });
}

function admin(req, res) {
  const send = (code, body) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/__fault/stats') return send(200, stats);
  if (req.url === '/__fault/reset' && req.method === 'POST') {
    resetStats();
    return send(200, {});
  }
  if (req.url === '/__fault/rules' && req.method === 'PUT') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        rules = JSON.parse(body).map((r) => ({ ...r, _seen: 0, _applied: 0 }));
        if (rules.some((r) => !['reset', 'status', 'latency', 'slow', 'truncate', 'flip', 'flip-request', 'drop-response', 'stall'].includes(r.action)))
          throw new Error('unknown action');
        send(200, { rules: rules.length });
      } catch (e) {
        send(400, { error: String(e) });
      }
    });
    return;
  }
  send(404, { error: 'unknown admin path' });
}

/** Writes body chunks through the fault (slow / truncate / flip). */
function transformer(fault, res, onCut) {
  let passed = 0;
  let queue = Promise.resolve();
  return {
    write(chunk) {
      if (fault?.action === 'stall') {
        const room = (fault.afterBytes ?? 0) - passed;
        if (room <= 0) return;
        if (chunk.length > room) chunk = chunk.subarray(0, room);
      }
      if (fault?.action === 'truncate') {
        const room = (fault.afterBytes ?? 0) - passed;
        if (room <= 0) return onCut();
        if (chunk.length > room) {
          res.write(chunk.subarray(0, room));
          passed += room;
          return onCut();
        }
      }
      if (fault?.action === 'flip') {
        const off = (fault.offset ?? 0) - passed;
        if (off >= 0 && off < chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[off] ^= 0xff;
        }
      }
      passed += chunk.length;
      if (fault?.action === 'slow') {
        const bps = fault.bytesPerSecond ?? 65536;
        queue = queue.then(() => new Promise((r) => setTimeout(() => r(res.write(chunk)), (chunk.length / bps) * 1000)));
        return;
      }
      res.write(chunk);
    },
    end() {
      if (fault?.action === 'stall') return;
      queue.then(() => res.end());
    },
  };
}

createServer((req, res) => {
  if (req.url.startsWith('/__fault/')) return admin(req, res);
  const { latency, fault } = pick(req);
  const go = () => {
    if (fault?.action === 'reset') {
      record(req, fault, undefined, latency);
      req.socket.destroy();
      return;
    }
    if (fault?.action === 'status') {
      record(req, fault, fault.status ?? 500, latency);
      const headers = { 'content-type': 'text/plain', connection: 'close' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
      // Read the whole request first, as a server would, so the client sees the status and
      // not a broken pipe.
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status ?? 500, headers);
        res.end(fault.body ?? `injected ${fault.status ?? 500}`);
      });
      return;
    }
    const up = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (ures) => {
      record(req, fault, ures.statusCode, latency);
      if (fault?.action === 'drop-response') {
        ures.resume();
        ures.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(ures.statusCode, ures.statusMessage, ures.rawHeaders);
      const t = transformer(fault, res, () => {
        ures.destroy();
        res.socket?.destroy();
      });
      ures.on('data', (c) => t.write(c));
      ures.on('end', () => t.end());
      ures.on('error', () => res.socket?.destroy());
    });
    up.on('error', () => {
      record(req, fault, 502, latency);
      if (!res.headersSent) res.writeHead(502, { connection: 'close' });
      res.end('upstream error');
    });
    if (fault?.action === 'flip-request') {
      let seen = 0;
      req.on('data', (chunk) => {
        const off = (fault.offset ?? 0) - seen;
        if (off >= 0 && off < chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[off] ^= 0xff;
        }
        seen += chunk.length;
        up.write(chunk);
      });
      req.on('end', () => up.end());
    } else req.pipe(up);
  };
  if (latency > 0) setTimeout(go, latency);
  else go();
}).listen(port, '127.0.0.1', () => process.stdout.write(`fault proxy on 127.0.0.1:${port} → ${upstream.origin}\n`));
process.on('SIGTERM', () => process.exit(0));
