// Writes the inputs and outputs tables of docs/actions/<name>.md from actions/<name>/action.yml,
// between the <!-- inputs --> and <!-- outputs --> markers; the rest of each page is written by
// hand. `--check` changes nothing and fails when a page is missing or its tables are stale.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const cell = (s) =>
  String(s)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

function inputsTable(doc) {
  const rows = Object.entries(doc.inputs ?? {}).map(([k, v]) => {
    const def = v.required === true || v.required === 'true' ? '**required**' : v.default === '' || v.default === undefined ? '' : `\`${cell(v.default)}\``;
    return `| \`${k}\` | ${def} | ${cell(v.description ?? '')} |`;
  });
  return ['| input | default | description |', '| --- | --- | --- |', ...rows].join('\n');
}

function outputsTable(doc) {
  const rows = Object.entries(doc.outputs ?? {}).map(([k, v]) => `| \`${k}\` | ${cell(v.description ?? '')} |`);
  return ['| output | description |', '| --- | --- |', ...rows].join('\n');
}

function replaceBlock(text, name, body) {
  const re = new RegExp(`(<!-- ${name}:begin[^>]*-->\\n)[\\s\\S]*?(\\n<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`the page has no <!-- ${name}:begin --> … <!-- ${name}:end --> markers`);
  return text.replace(re, `$1${body}$2`);
}

export function renderPage(name, current) {
  const doc = parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8'));
  const begin = (n) => `<!-- ${n}:begin (generated from actions/${name}/action.yml by scripts/gen-docs.mjs; edit the action.yml) -->`;
  const page =
    current ??
    `# ${name}\n\n${doc.description}\n\n\`\`\`yaml\n- uses: <owner>/airlift/actions/${name}@v1\n\`\`\`\n\n## Inputs\n\n${begin('inputs')}\n\n<!-- inputs:end -->\n\n## Outputs\n\n${begin('outputs')}\n\n<!-- outputs:end -->\n`;
  return replaceBlock(replaceBlock(page, 'inputs', inputsTable(doc)), 'outputs', outputsTable(doc));
}

export function docPages() {
  return readdirSync(join(root, 'actions'))
    .filter((n) => existsSync(join(root, 'actions', n, 'action.yml')))
    .sort()
    .map((name) => ({ name, file: join(root, 'docs', 'actions', `${name}.md`) }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = [];
  mkdirSync(join(root, 'docs', 'actions'), { recursive: true });
  for (const { name, file } of docPages()) {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    let next;
    try {
      next = renderPage(name, current);
    } catch (err) {
      stale.push(`${file}: ${err.message}`);
      continue;
    }
    if (next === current) continue;
    if (check) stale.push(`${file}: ${current === undefined ? 'missing' : "its inputs/outputs tables differ from the action.yml's"}`);
    else writeFileSync(file, next);
  }
  if (stale.length) {
    console.error(`${stale.join('\n')}\nrun: node scripts/gen-docs.mjs`);
    process.exit(1);
  }
  console.log(`gen-docs: ${docPages().length} pages ${check ? 'checked' : 'written'}`);
}
