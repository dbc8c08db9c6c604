// Smoke-runs every bundle with a given node binary: each action entry, given a bad boolean
// input, must exit 1 with an ::error:: line naming that input; the CLI must print its help.
// (Catches bundles that build fine and throw at load time, e.g. ESM/CJS mix-ups.)
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifests } from './gen-manifest.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INPUT_') && !k.startsWith('GITHUB_')) env[k] = v;
  return env;
}

export function smoke(node) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const failures = [];
  const manifests = readManifests();
  for (const [name, m] of Object.entries(manifests)) {
    const bool = Object.entries(m.inputs).find(([, d]) => d.default === 'true' || d.default === 'false');
    if (!bool) {
      failures.push(`${name}: no boolean input to smoke-test with`);
      continue;
    }
    const env = { ...cleanEnv(), [`INPUT_${bool[0].toUpperCase()}`]: 'maybe' };
    for (const entry of m.hasPost ? ['index.js', 'post.js'] : ['index.js']) {
      const r = spawnSync(node, [join(root, 'dist', name, entry)], { env, encoding: 'utf8', timeout: 30_000 });
      const expectCode = entry === 'post.js' ? 0 : 1;
      const wanted = `::error::input "${bool[0]}": "maybe" is not a boolean`;
      if (r.status !== expectCode || (entry === 'index.js' && !r.stdout.includes(wanted)))
        failures.push(`${name}/${entry}: exit ${r.status}, stdout ${JSON.stringify(r.stdout.slice(0, 400))}, stderr ${JSON.stringify(r.stderr.slice(0, 400))}`);
    }
    const h = spawnSync(node, [join(root, 'dist', 'cli.js'), name, '--help'], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    if (h.status !== 0 || !h.stdout.includes(`--${bool[0]}`)) failures.push(`cli ${name} --help: exit ${h.status}, ${h.stderr.slice(0, 400)}`);
  }
  if (failures.length) {
    console.error(`smoke (node ${version}) failed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`smoke (node ${version}): ${Object.keys(manifests).length} actions and the CLI load and validate inputs`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) smoke(process.argv[2] ?? process.execPath);
