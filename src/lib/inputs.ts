// One typed input layer. Names, descriptions, defaults and `required` come from action.yml
// (via the generated manifest); the spec here gives each input a kind. Every input a spec
// reads must be declared in action.yml and every declared input must be in the spec.
import { checkDirs, makeDirs } from './dirs.js';
import { UserError, within } from './errors.js';
import { parseList } from './list.js';
import { addSecret, runnerCore } from './log.js';
import { getManifest } from './action-manifest.js';

interface Base {
  secret?: boolean;
  /** An empty value means "not set" (undefined) instead of an error. */
  optional?: boolean;
}
export interface StringKind extends Base {
  kind: 'string';
  pattern?: RegExp;
  hint?: string;
}
export interface TextKind extends Base {
  kind: 'text';
}
export interface BooleanKind extends Base {
  kind: 'boolean';
}
export interface IntegerKind extends Base {
  kind: 'integer';
  min?: number;
  max?: number;
}
export interface ListKind extends Base {
  kind: 'list';
  /** one value per line, kept whole (commas and " #" included); only whole-line # comments dropped */
  lines?: boolean;
}
export interface SizeKind extends Base {
  kind: 'size';
  min?: number;
  max?: number;
}
export interface DurationKind extends Base {
  kind: 'duration';
  min?: number;
  max?: number;
}
export interface EnumKind<V extends string = string> extends Base {
  kind: 'enum';
  values: readonly V[];
}
export type InputKind = StringKind | TextKind | BooleanKind | IntegerKind | ListKind | SizeKind | DurationKind | EnumKind;
export type InputSpec = Record<string, InputKind>;

export const input = {
  /** A single-line string, optionally checked against a pattern. */
  string: (o: Omit<StringKind, 'kind'> = {}): StringKind => ({ kind: 'string', ...o }),
  /** Free text kept as written (YAML blobs, commands, multiline values). */
  text: (o: Omit<TextKind, 'kind'> = {}): TextKind => ({ kind: 'text', ...o }),
  boolean: (): BooleanKind => ({ kind: 'boolean' }),
  integer: <O extends Omit<IntegerKind, 'kind'>>(o: O = {} as O): IntegerKind & O => ({ kind: 'integer', ...o }),
  /** Newline- or comma-separated values, `#` comments and blank lines ignored. */
  list: (o: Omit<ListKind, 'kind'> = {}): ListKind => ({ kind: 'list', ...o }),
  /** A byte size: 512MiB, 5GB, 1048576. */
  size: <O extends Omit<SizeKind, 'kind'>>(o: O = {} as O): SizeKind & O => ({ kind: 'size', ...o }),
  /** A duration in milliseconds: 30m, 1h30m, 45s, 500ms (a bare number is seconds). */
  duration: <O extends Omit<DurationKind, 'kind'>>(o: O = {} as O): DurationKind & O => ({ kind: 'duration', ...o }),
  enum: <const V extends string>(values: readonly V[], o: Omit<EnumKind<V>, 'kind' | 'values'> = {}): EnumKind<V> => ({ kind: 'enum', values, ...o }),
};

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Value<K> = K extends BooleanKind
  ? boolean
  : K extends IntegerKind | SizeKind | DurationKind
    ? number
    : K extends ListKind
      ? string[]
      : K extends EnumKind<infer V>
        ? V
        : string;
type ValueOf<K> = K extends { optional: true } ? Value<K> | undefined : Value<K>;
export type Inputs<S extends InputSpec> = { [K in keyof S & string as Camel<K>]: ValueOf<S[K]> };

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

// ------------------------------------------------------------------ parsers

export function parseBoolean(text: string): boolean | undefined {
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  return undefined;
}

export function parseInteger(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  ki: 1024,
  mi: 1024 ** 2,
  gi: 1024 ** 3,
  ti: 1024 ** 4,
};

/** 5242880 → "5 MiB" (binary units, as size limits are set). */
export function formatBinary(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** "512MiB" → 536870912. KB/MB/GB are decimal, KiB/MiB/GiB (and bare K/M/G) binary. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const n = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(n) ? n : undefined;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1h30m" → 5400000 ms; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]];
  return Math.round(total);
}

const EXPECTED: Record<string, string> = {
  boolean: 'true or false',
  integer: 'a whole number',
  size: 'a size such as 512MiB',
  duration: 'a duration such as 30m',
  enum: 'one of the listed values',
};

function describe(value: string, secret: boolean | undefined): string {
  return secret ? 'the value' : JSON.stringify(value);
}

/** What is wrong with an input's value, without the input's name (readInputs adds it, with every other problem). */
export class InputValueError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'InputValueError';
  }
}

/** Parses one raw value; returns the value or throws an InputValueError. */
export function parseValue(kind: InputKind, raw: string): unknown {
  if (kind.optional && raw.trim() === '') return undefined;
  if (raw.trim() === '' && !['string', 'text', 'list'].includes(kind.kind)) throw new InputValueError(`is empty (expected ${EXPECTED[kind.kind]})`);
  const shown = describe(raw, kind.secret);
  const range = (n: number, min: number | undefined, max: number | undefined, fmt: (n: number) => string) => {
    if (min !== undefined && n < min) throw new InputValueError(`${shown} is below the minimum ${fmt(min)}`);
    if (max !== undefined && n > max) throw new InputValueError(`${shown} is above the maximum ${fmt(max)}`);
    return n;
  };
  switch (kind.kind) {
    case 'string':
      if (kind.pattern && raw !== '' && !kind.pattern.test(raw)) throw new InputValueError(`${shown} is not valid${kind.hint ? ` (${kind.hint})` : ''}`);
      return raw;
    case 'text':
      return raw;
    case 'boolean': {
      const b = parseBoolean(raw);
      if (b === undefined) throw new InputValueError(`${shown} is not a boolean (use true or false)`);
      return b;
    }
    case 'integer': {
      const n = parseInteger(raw);
      if (n === undefined) throw new InputValueError(`${shown} is not a whole number`);
      return range(n, kind.min, kind.max, String);
    }
    case 'list':
      return kind.lines
        ? raw
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter((l) => l && !l.startsWith('#'))
        : parseList(raw);
    case 'size': {
      const n = parseSize(raw);
      if (n === undefined) throw new InputValueError(`${shown} is not a size (use e.g. 512MiB, 5GB or a number of bytes)`);
      // limits in binary units, with the value's bytes beside them: 5MB is 5,000,000 bytes, under 5 MiB
      const exact = (v: number) => `${v.toLocaleString('en-US')} bytes`;
      if ((kind.min !== undefined && n < kind.min) || (kind.max !== undefined && n > kind.max)) {
        const shownBytes = `${shown}${/^\d+$/.test(raw.trim()) ? '' : ` (${exact(n)})`}`;
        if (kind.min !== undefined && n < kind.min)
          throw new InputValueError(`${shownBytes} is below the minimum ${formatBinary(kind.min)} (${exact(kind.min)}); KB/MB/GB are decimal, KiB/MiB/GiB binary`);
        throw new InputValueError(`${shownBytes} is above the maximum ${formatBinary(kind.max!)} (${exact(kind.max!)}); KB/MB/GB are decimal, KiB/MiB/GiB binary`);
      }
      return n;
    }
    case 'duration': {
      const n = parseDuration(raw);
      if (n === undefined) throw new InputValueError(`${shown} is not a duration (use e.g. 30m, 1h30m, 45s)`);
      return range(n, kind.min, kind.max, (v) => `${v}ms`);
    }
    case 'enum': {
      const v = kind.values.find((x) => x.toLowerCase() === raw.toLowerCase());
      if (v === undefined) throw new InputValueError(`${shown} is not one of ${kind.values.join(', ')}`);
      return v;
    }
  }
}

function envName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** Checks a spec against its action.yml; returns the differences (empty when in step). */
export function specDrift(action: string, spec: InputSpec): string[] {
  const declared = Object.keys(getManifest(action).inputs);
  const read = Object.keys(spec);
  return [
    ...read.filter((k) => !declared.includes(k)).map((k) => `input "${k}" is read but not declared in actions/${action}/action.yml`),
    ...declared.filter((k) => !read.includes(k)).map((k) => `input "${k}" is declared in actions/${action}/action.yml but never read`),
  ];
}

/** Under a runner through @actions/core (so tools that stub it work); in the CLI from INPUT_*. */
function getInput(name: string, trim: boolean): string {
  const core = runnerCore();
  if (core) return core.getInput(name, { trimWhitespace: trim });
  const v = process.env[envName(name)] ?? '';
  return trim ? v.trim() : v;
}

function rawInput(name: string, kind: InputKind, def: string | undefined): string {
  const value = getInput(name, kind.kind !== 'text');
  if (value === '' && process.env[envName(name)] === undefined && def !== undefined) return kind.kind === 'text' ? def : def.trim();
  return value;
}

/** Reads and validates every input of an action; all problems are reported at once. */
export function readInputs<S extends InputSpec>(action: string, spec: S): Inputs<S> {
  const manifest = getManifest(action);
  const drift = specDrift(action, spec);
  if (drift.length) throw new Error(`internal: ${drift.join('; ')}`);

  // Secrets first: nothing may be logged before they are registered.
  for (const [name, kind] of Object.entries(spec)) {
    if (kind.secret) addSecret(rawInput(name, kind, manifest.inputs[name].default));
  }

  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, kind] of Object.entries(spec)) {
    const decl = manifest.inputs[name];
    const raw = rawInput(name, kind, decl.default);
    if (raw.trim() === '' && decl.required) {
      problems.push(`input "${name}" is required: ${decl.description}`);
      continue;
    }
    try {
      out[camelCase(name)] = parseValue(kind, raw);
    } catch (err) {
      if (!(err instanceof InputValueError)) throw err;
      problems.push(`input "${name}": ${err.message}`);
    }
  }
  if (problems.length) throw new UserError(problems.join('\n'));
  return out as Inputs<S>;
}

/** Runs a parse of an input's value, prefixing a user error with the input's name. */
export function forInput<T>(name: string, fn: () => T): T {
  return within(`input "${name}"`, fn);
}

/**
 * Runs fn (sync or async) whose options came from several inputs: an OptionError is prefixed with
 * the input its option came from (`{ accessKeySecret: 'access-key-secret' }`).
 */
export function forInputs<T>(names: Readonly<Record<string, string>>, fn: () => T): T {
  return within(Object.fromEntries(Object.entries(names).map(([option, name]) => [option, `input "${name}"`])), fn);
}

/** Checks a directory an input names could be made (nothing is made), naming the input when not. */
export async function checkInputDirectory(dir: string, name: string, shown = dir): Promise<void> {
  await checkDirs(dir).catch((err: Error) => {
    throw new UserError(`input "${name}": ${err.message.replace(dir, shown)}`);
  });
}

/**
 * Checks that may each fail with a user error, every failure reported at once (as the input
 * parser reports malformed inputs): `check` runs one, `done` throws them all together.
 */
export class Problems {
  private readonly list: string[] = [];
  async check<T>(fn: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      this.list.push(err.message);
      return undefined;
    }
  }
  done(): void {
    if (this.list.length) throw new UserError(this.list.join('\n'));
  }
}

/** A directory an input names, made when missing; when it can't be (a file is in the way), an error naming the input. */
export async function inputDirectory(dir: string, name: string, shown = dir): Promise<void> {
  await makeDirs(dir).catch((err: Error) => {
    throw new UserError(`input "${name}": ${err.message.replace(dir, shown)}`);
  });
}
