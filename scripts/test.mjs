// npm test: runs every test file with node's test runner (TypeScript through tsx).
// `npm test -- unit` runs only test/unit; `npm test -- integration` only test/integration;
// any other arguments are file paths.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function find(dir) {
  let out = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (f.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
const suites = args.filter((a) => a === 'unit' || a === 'integration');
const files = args.filter((a) => !suites.includes(a));
const selected = files.length ? files : (suites.length ? suites : ['unit', 'integration']).flatMap((s) => find(join(root, 'test', s)));

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...selected], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_NO_WARNINGS: '1' },
});
process.exit(r.status ?? 1);
