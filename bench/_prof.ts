import { spawnSync } from 'node:child_process';
import { writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRegistry } from '../test/support/registry.js';
import { pushFixture } from '../test/support/fixtures.js';
import { workDir } from '../test/support/proc.js';
import { benchFixture } from './common.js';
const fx = await benchFixture();
const src = await startRegistry();
pushFixture(fx, { host: src.host }, { namespace: 'release' });
const refs = fx.images.map((i) => `${src.host}/release/${i.name}:${i.tag}`);
const out = workDir('prof');
writeFileSync(join(out, 'images.txt'), refs.join('\n'));
const cpu = () => spawnSync('ps', ['-o', 'cputime=', '-p', String(src.process.pid)], { encoding: 'utf8' }).stdout.trim();
for (let i = 0; i < 3; i++) {
  spawnSync('sync');
  const before = cpu();
  const t0 = Date.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e wall %U user %S sys', process.execPath, ...(i === 2 ? ['--cpu-prof', '--cpu-prof-dir', out] : []), join(import.meta.dirname, '..', 'dist', 'cli.js'), 'pack-offline', '--images', join(out, 'images.txt'), '--format', 'oci-archive', '--output', `all${i}.tar`, '--output-dir', out], { encoding: 'utf8' });
  console.log(`run ${i}: ${Date.now() - t0} ms; ${r.stderr.trim().split('\n').pop()}; registry cpu ${before} -> ${cpu()}`);
}
const prof = readdirSync(out).find((f) => f.endsWith('.cpuprofile'))!;
const p = JSON.parse(readFileSync(join(out, prof), 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[]; samples: number[]; timeDeltas: number[] };
const self = new Map<string, number>();
const dt = new Map<number, number>();
p.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
for (const n of p.nodes) {
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + (dt.get(n.id) ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
console.log('total profiled ms', (total / 1000).toFixed(0));
for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((v / 1000).toFixed(0).padStart(6), k);
await src.stop();
process.exit(0);
