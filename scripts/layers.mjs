#!/usr/bin/env node
// No module imports from a layer above its own. The layers, lowest first: each module of src/
// belongs to the first layer whose pattern matches its path (relative to src/). A module may
// import from its own layer and the ones below. Run by `npm run lint`; exits 1 naming each
// import that goes up, and each module no layer claims. Also: below the action plumbing, no
// message names an input (`input "x"`): the library says what is wrong with a value, and the
// entries say which input it came from (forInput, forInputs, within).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const LAYERS = [
  ['base', /^generated\/|^lib\/(errors|format|streams|concurrency|placeholders|retry|temp|dirs|log|exec|http|list|action-manifest)\.ts$/],
  ['protocols', /^lib\/(registry|archive|aws)\//],
  ['transports and stores', /^lib\/(image|storage)\//],
  ['tools', /^lib\/(docker|ami)\//],
  ['use cases', /^lib\/(sync|offline|release)\//],
  ['action plumbing', /^lib\/(inputs|run)\.ts$/],
  ['entries', /^(actions|cli)\/|^(entry|bundle)\.ts$|^types\//],
];

const src = resolve(import.meta.dirname, '..', 'src');
const files = readdirSync(src, { recursive: true })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.split('\\').join('/'));
const layerOf = (f) => LAYERS.findIndex(([, re]) => re.test(f));
const problems = [];
for (const f of files) {
  const own = layerOf(f);
  if (own < 0) {
    problems.push(`${f}: in no layer (add it to scripts/layers.mjs)`);
    continue;
  }
  const text = readFileSync(join(src, f), 'utf8');
  if (own < LAYERS.findIndex(([name]) => name === 'action plumbing'))
    for (const [i, line] of text.split('\n').entries())
      if (/input \\?["'`]/.test(line)) problems.push(`${f}:${i + 1}: names an input; describe the value and let the entry add the input (forInput)`);
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    const target = relative(src, resolve(src, dirname(f), spec))
      .split('\\')
      .join('/')
      .replace(/\.js$/, '.ts');
    const theirs = layerOf(target);
    if (theirs > own) problems.push(`${f} (${LAYERS[own][0]}) imports ${target} (${LAYERS[theirs][0]}), a layer above`);
  }
}
if (problems.length) {
  console.error(`layers: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`layers: ${files.length} modules, no import goes up, the library names no input`);
