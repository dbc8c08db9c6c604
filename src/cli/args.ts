// Flag parsing for `airlift <action> --<input> value ...`, driven by the action's input spec.
import { UserError } from '../lib/errors.js';
import type { InputSpec } from '../lib/inputs.js';

export interface ParsedArgs {
  values: Record<string, string>;
  json: boolean;
  debug: boolean;
  help: boolean;
}

const GLOBAL = new Set(['json', 'debug', 'help']);
/** Kinds whose repeated flags are joined with newlines instead of being an error. */
const MULTI = new Set(['list', 'text']);

export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

export function suggest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = distance(name, c);
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export function parseActionArgs(action: string, spec: InputSpec, argv: string[]): ParsedArgs {
  const out: ParsedArgs = { values: {}, json: false, debug: false, help: false };
  const names = Object.keys(spec);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new UserError(`unexpected argument "${arg}" (inputs are given as --name value; see airlift ${action} --help)`);
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (GLOBAL.has(name) && !(name in spec)) {
      if (value !== undefined && value !== 'true' && value !== 'false') throw new UserError(`--${name} takes no value`);
      out[name as 'json' | 'debug' | 'help'] = value !== 'false';
      continue;
    }
    let negated = false;
    if (!(name in spec) && name.startsWith('no-') && spec[name.slice(3)]?.kind === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const kind = spec[name];
    if (!kind) {
      const hint = suggest(name, names);
      throw new UserError(`unknown option --${name} for ${action}${hint ? `; did you mean --${hint}?` : ''} (see airlift ${action} --help)`);
    }
    if (kind.kind === 'boolean') {
      if (negated) value = 'false';
      else if (value === undefined) {
        const next = argv[i + 1];
        if (next !== undefined && /^(true|false)$/i.test(next)) value = argv[++i];
        else if (next !== undefined && !next.startsWith('-')) throw new UserError(`input "${name}" is true or false, not "${next}" (--${name}, --no-${name} or --${name}=false)`);
        else value = 'true';
      }
    } else if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UserError(`option --${name} needs a value`);
      value = argv[++i];
    }
    if (name in out.values) {
      if (!MULTI.has(kind.kind)) throw new UserError(`option --${name} is given twice`);
      out.values[name] += '\n' + value;
    } else out.values[name] = value;
  }
  return out;
}

export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}
