// Runs every action through @github/local-action, which reads its action.yml the way a runner
// does (inputs, defaults, post entry) and stubs @actions/core. Checks the outcome against
// .ci/local-action/expect.json and that no input was rejected and no secret was printed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifests } from './gen-manifest.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const expect = JSON.parse(readFileSync(join(root, '.ci', 'local-action', 'expect.json'), 'utf8'));
const bin = join(root, 'node_modules', '.bin', 'local-action');
const failures = [];

for (const [name, m] of Object.entries(readManifests())) {
  const want = expect[name];
  if (!want) {
    failures.push(`${name}: no expectation in .ci/local-action/expect.json`);
    continue;
  }
  const envFile = join(root, '.ci', 'local-action', `${name}.env`);
  const secrets = readFileSync(envFile, 'utf8')
    .split('\n')
    .filter((l) => /SECRET|TOKEN|PASSWORD/i.test(l.split('=')[0] ?? ''))
    .map((l) => l.slice(l.indexOf('=') + 1))
    .filter(Boolean);
  const args = ['run', join('actions', name), `../../src/actions/${name}/main.ts`, envFile];
  // local-action checks --post before it has read the action path, so give it from the repo root.
  if (m.hasPost) args.splice(1, 0, '--post', join(root, 'src', 'actions', name, 'post.ts'));
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('INPUT_')) delete env[k];
  const r = spawnSync(bin, args, { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const problems = [];
  if (r.status !== want.exit) problems.push(`exit ${r.status}, expected ${want.exit}`);
  if (!out.includes(want.output)) problems.push(`output lacks "${want.output}"`);
  if (/::error::input "/.test(out)) problems.push(`an input was rejected: ${out.match(/::error::input "[^\n]*/)[0]}`);
  for (const s of secrets) if (out.includes(s)) problems.push('a secret was printed');
  if (problems.length) failures.push(`${name}: ${problems.join('; ')}\n${out.slice(-3000)}`);
  else console.log(`local-action ${name}: ok (exit ${r.status})`);
}
if (failures.length) {
  console.error(`local-action failed:\n${failures.join('\n')}`);
  process.exit(1);
}
