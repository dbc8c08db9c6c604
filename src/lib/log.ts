// Logging for actions and the CLI: secrets redacted everywhere, groups, progress lines,
// job-summary tables. Under a runner it speaks workflow commands; in the CLI, plain text
// on stderr (stdout is kept for outputs).
import type * as Core from '@actions/core';
import { formatBytes, formatDuration, markdownTable, textTable } from './format.js';

// @actions/core (and the HTTP client it pulls in) is loaded only when running under a runner:
// the CLI never needs it and starts faster without it.
let core!: typeof Core;

/** The runner's toolkit, once useActionsRunner() has loaded it. */
export function runnerCore(): typeof Core | undefined {
  return core;
}

/** Switches logging to workflow commands; loads @actions/core. */
export async function useActionsRunner(): Promise<void> {
  core ??= await import('@actions/core');
  configureLog({ mode: 'actions' });
  for (const s of secrets) core.setSecret(s);
}

export type LogMode = 'actions' | 'cli';

interface LogState {
  mode: LogMode;
  debug: boolean;
  write: (line: string) => void;
}

const state: LogState = {
  mode: 'cli',
  debug: process.env.RUNNER_DEBUG === '1' || process.env.ACTIONS_STEP_DEBUG === 'true',
  write: (line) => process.stderr.write(line + '\n'),
};

const secrets = new Set<string>();

export function configureLog(opts: { mode?: LogMode; debug?: boolean; write?: (line: string) => void }): void {
  if (opts.mode) {
    if (opts.mode === 'actions' && !core) throw new Error('internal: call useActionsRunner() to log for a runner');
    state.mode = opts.mode;
    state.write = opts.mode === 'cli' ? (line) => process.stderr.write(line + '\n') : (line) => process.stdout.write(line + '\n');
  }
  if (opts.debug !== undefined) state.debug = opts.debug;
  if (opts.write) state.write = opts.write;
}

/** Registers a secret: masked by the runner and redacted by us, before anything is logged. */
export function addSecret(value: string | undefined): void {
  if (!value) return;
  const forms = new Set([value, value.trim(), encodeURIComponent(value), Buffer.from(value).toString('base64')]);
  for (const v of forms) {
    if (v.length < 3 || secrets.has(v)) continue;
    secrets.add(v);
    if (state.mode === 'actions') core.setSecret(v);
  }
}

const SIGNED_QUERY = /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|OSSAccessKeyId|security-token|access_token|token|sig)=)[^&\s"']+/gi;
const AUTH_HEADER = /(\b(?:proxy-)?authorization\s*[:=]\s*)("?)(?:(basic|bearer|aws4-hmac-sha256|oss4?-hmac-sha256|oss)\s+)?[^\s"',]+/gi;
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;

/** Removes registered secrets, Authorization headers, URL credentials and signed-URL queries. */
export function redact(text: string): string {
  let out = text;
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  for (const s of sorted) out = out.split(s).join('***');
  out = out.replace(AUTH_HEADER, (_m, p1: string, q: string, scheme?: string) => `${p1}${q}${scheme ? scheme + ' ' : ''}***`);
  out = out.replace(URL_USERINFO, '$1***@');
  out = out.replace(SIGNED_QUERY, '$1***');
  return out;
}

export function info(message: string): void {
  const m = redact(message);
  if (state.mode === 'actions') core.info(m);
  else state.write(m);
}

export function debug(message: string): void {
  if (!state.debug) return;
  const m = redact(message);
  if (state.mode === 'actions') core.debug(m);
  else state.write(`debug: ${m}`);
}

export interface Annotation {
  file?: string;
  line?: number;
  title?: string;
}

/** Annotation properties with only the keys that are set, so `::error::` stays bare. */
function props(where: Annotation): Core.AnnotationProperties | undefined {
  const p: Core.AnnotationProperties = {};
  if (where.file) p.file = where.file;
  if (where.line) p.startLine = where.line;
  if (where.title) p.title = where.title;
  return Object.keys(p).length ? p : undefined;
}

export function warning(message: string, where: Annotation = {}): void {
  const m = redact(message);
  if (state.mode === 'actions') core.warning(m, props(where));
  else state.write(`warning: ${where.file ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : ''}${m}`);
}

export function notice(message: string): void {
  const m = redact(message);
  if (state.mode === 'actions') core.notice(m);
  else state.write(`notice: ${m}`);
}

export function error(message: string, where: Annotation = {}): void {
  const m = redact(message);
  if (state.mode === 'actions') core.error(m, props(where));
  else state.write(`error: ${m}`);
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  if (state.mode === 'actions') core.startGroup(redact(name));
  else state.write(`▸ ${redact(name)}`);
  try {
    return await fn();
  } finally {
    if (state.mode === 'actions') core.endGroup();
  }
}

// ---------------------------------------------------------------- progress

export interface ProgressOptions {
  label: string;
  totalItems?: number;
  totalBytes?: number;
  itemName?: string;
  intervalMs?: number;
  now?: () => number;
  print?: (line: string) => void;
}

/** Long work prints one line every few seconds: done/total, bytes, rate, ETA. */
export class Progress {
  private items = 0;
  private bytes = 0;
  private readonly started: number;
  private lastPrint: number;
  private readonly now: () => number;
  private readonly print: (line: string) => void;
  private readonly intervalMs: number;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.print = opts.print ?? info;
    this.intervalMs = opts.intervalMs ?? Number(process.env.AIRLIFT_PROGRESS_INTERVAL_MS ?? 5000);
    this.started = this.now();
    this.lastPrint = this.started;
  }

  add(delta: { items?: number; bytes?: number }): void {
    this.items += delta.items ?? 0;
    this.bytes += delta.bytes ?? 0;
    const t = this.now();
    if (t - this.lastPrint >= this.intervalMs) {
      this.lastPrint = t;
      this.print(this.line(t));
    }
  }

  line(t = this.now()): string {
    const { label, totalItems, totalBytes, itemName = 'items' } = this.opts;
    const elapsed = Math.max(1, t - this.started);
    const rate = (this.bytes / elapsed) * 1000;
    const parts = [`${label}:`];
    if (totalItems !== undefined) parts.push(`${this.items}/${totalItems} ${itemName}`);
    else if (this.items) parts.push(`${this.items} ${itemName}`);
    parts.push(totalBytes !== undefined ? `${formatBytes(this.bytes)}/${formatBytes(totalBytes)}` : formatBytes(this.bytes));
    parts.push(`${formatBytes(rate)}/s`);
    let eta: number | undefined;
    if (totalBytes !== undefined && this.bytes > 0 && totalBytes >= this.bytes) eta = ((totalBytes - this.bytes) / this.bytes) * elapsed;
    else if (totalItems !== undefined && this.items > 0 && totalItems >= this.items) eta = ((totalItems - this.items) / this.items) * elapsed;
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
    return parts.join(' ');
  }

  done(): string {
    const t = this.now();
    const elapsed = Math.max(1, t - this.started);
    const { label, itemName = 'items' } = this.opts;
    const line = `${label}: done, ${this.items} ${itemName}, ${formatBytes(this.bytes)} in ${formatDuration(elapsed)} (${formatBytes((this.bytes / elapsed) * 1000)}/s)`;
    this.print(line);
    return line;
  }
}

// ---------------------------------------------------------------- job summary

const summaryParts: string[] = [];
const summaryText: string[] = [];

export const summary = {
  heading(text: string): void {
    summaryParts.push(`### ${redact(text)}`);
    summaryText.push(redact(text));
  },
  table(headers: string[], rows: (string | number)[][]): void {
    const safe = rows.map((r) => r.map((c) => redact(String(c))));
    summaryParts.push(markdownTable(headers, safe));
    summaryText.push(textTable(headers, safe));
  },
  text(text: string): void {
    summaryParts.push(redact(text));
    summaryText.push(redact(text));
  },
  markdown(): string {
    return summaryParts.join('\n\n');
  },
  plain(): string {
    return summaryText.join('\n\n');
  },
  clear(): void {
    summaryParts.length = 0;
    summaryText.length = 0;
  },
  /** Writes the job summary (runner) or prints it as text (CLI). */
  async flush(): Promise<void> {
    if (summaryParts.length === 0) return;
    if (state.mode === 'actions' && process.env.GITHUB_STEP_SUMMARY) {
      await core.summary.addRaw(this.markdown(), true).write();
    } else {
      state.write('');
      for (const line of this.plain().split('\n')) state.write(line);
    }
    this.clear();
  },
};
