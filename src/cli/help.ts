// `airlift --help` and `airlift <action> --help`, generated from the action.yml files.
import type { InputKind, InputSpec } from '../lib/inputs.js';
import { airliftVersion, manifests } from '../generated/actions.js';

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join('\n' + ' '.repeat(indent));
}

function valueHint(kind: InputKind): string {
  switch (kind.kind) {
    case 'boolean':
      return '[true|false]';
    case 'enum':
      return `<${kind.values.join('|')}>`;
    case 'integer':
      return '<n>';
    case 'size':
      return '<size>';
    case 'duration':
      return '<duration>';
    case 'list':
      return '<list>';
    case 'text':
      return '<text>';
    default:
      return '<value>';
  }
}

export function globalHelp(): string {
  const names = Object.keys(manifests);
  const w = Math.max(...names.map((n) => n.length), 'demo'.length) + 2;
  return [
    `airlift ${airliftVersion}: from a release tag to a shippable, air-gap-ready release.`,
    '',
    'Usage: airlift <action> [--<input> <value> ...] [--json] [--debug]',
    '       airlift <action> --help',
    '       airlift demo [--real] [--version <v>] [--output-dir <dir>] [--product <dir>]',
    '',
    'Actions (the same code as the GitHub Actions of the same names):',
    ...names.map((n) => `  ${n.padEnd(w)}${wrap(manifests[n].description, 100, w + 2)}`),
    `  ${'demo'.padEnd(w)}Take the sample product (examples/product) through build, sync, pack, upload and import: no network, no accounts;\n  ${''.padEnd(w)}--real: the same through the actions against dockerd and docker-registry servers it starts.`,
    '',
    'Inputs come from flags (kebab-case, as in action.yml) or INPUT_<NAME> environment variables.',
    'Outputs are printed on stdout as name=value lines (multi-line values as name<<EOF blocks),',
    'or as one JSON object with --json; logs and the job summary go to stderr.',
  ].join('\n');
}

export function actionHelp(action: string, spec: InputSpec): string {
  const m = manifests[action];
  const rows = Object.entries(m.inputs).map(([name, decl]) => {
    const flag = `--${name} ${valueHint(spec[name])}`;
    const extra = decl.required ? ' (required)' : decl.default ? ` (default: ${decl.default})` : '';
    return [flag, `${decl.description}${extra}`] as const;
  });
  const w = Math.min(44, Math.max(...rows.map(([f]) => f.length)) + 2);
  const outs = Object.entries(m.outputs);
  const ow = Math.max(...outs.map(([n]) => n.length)) + 2;
  return [
    `airlift ${action}: ${m.description}`,
    '',
    `Usage: airlift ${action} ${Object.entries(m.inputs)
      .filter(([, d]) => d.required)
      .map(([n]) => `--${n} <value>`)
      .join(' ')} [options]`.replace(/\s+\[/, ' ['),
    '',
    'Inputs:',
    ...rows.map(([f, d]) => (f.length + 2 > w ? `  ${f}\n${' '.repeat(w + 2)}${wrap(d, 100, w + 2)}` : `  ${f.padEnd(w)}${wrap(d, 100, w + 2)}`)),
    '',
    'Outputs:',
    ...outs.map(([n, o]) => `  ${n.padEnd(ow)}${wrap(o.description, 100, ow + 2)}`),
    '',
    'Options:',
    '  --json   print the outputs as one JSON object',
    '  --debug  show internals (stack traces, commands, HTTP exchanges without secrets)',
    '  --help   show this help',
  ].join('\n');
}
