// The image list of sync-images: a plain list (one reference per line, # comments) or YAML
// mapping each source to one or more targets with optional tag renames; target prefixes,
// strip-prefix, shards. Every error names the file and the line; the caller adds the input.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { asOption, OptionError, UserError, within } from '../errors.js';
import { mapTarget, parseTargetPrefix } from '../registry/target.js';
import { listEntries } from '../list.js';
import { formatReference, looksLikeRegistry, normaliseRegistry, parseReference, withDefaultTag, type Reference } from '../registry/reference.js';

export interface SyncItem {
  source: Reference;
  targets: Reference[];
  /** where it was written: `images line 3` or `images file list.txt line 3` */
  where: string;
  /** from a YAML list (targets given per image): a retry line names its targets too */
  yaml?: boolean;
}

export interface ImageListText {
  text: string;
  /** the file it came from, when the input named a file */
  file?: string;
}

/** An image list: inline text, or the path of a file holding it. */
export function loadImageList(raw: string, cwd = process.cwd()): ImageListText {
  const trimmed = raw.trim();
  if (!trimmed) throw new UserError('no image references: give them one per line, or the path of a file holding them');
  if (!trimmed.includes('\n')) {
    const path = resolve(cwd, trimmed);
    if (existsSync(path) && statSync(path).isFile()) return { text: readFileSync(path, 'utf8'), file: trimmed };
    const entries = listEntries(trimmed);
    if (entries.length === 0) throw new UserError('lists no images (only a comment)');
    if (/\.(txt|list|lst|ya?ml)$/i.test(trimmed) || /^\.{0,2}\//.test(trimmed)) throw new UserError(`file ${trimmed} was not found`);
    // one word without a tag is more likely a list file that is not there than an image
    const only = entries.length === 1 ? entries[0].value : undefined;
    if (only && !/[@]/.test(only) && !/:[^/]*$/.test(only)) throw new UserError(`there is no file named ${only} (for the image ${only}:latest, write the tag)`);
  }
  return { text: raw };
}

export interface Shard {
  index: number;
  count: number;
}

/** `i/n`: the i-th of n shards. */
export function parseShard(s: string): Shard | undefined {
  if (!s) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new UserError(`"${s}" is not i/n (e.g. 2/4)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new UserError(`"${s}" is out of range (i must be from 1 to n, and n at least 1)`);
  return { index, count };
}

/** Stable shard of an image: the same image always lands in the same shard for a given n. */
export function shardOf(source: Reference, count: number): number {
  const h = createHash('sha256').update(formatReference(source)).digest();
  return (h.readUInt32BE(0) % count) + 1;
}

/** The items of one shard. */
export function inShard(items: SyncItem[], shard: Shard): SyncItem[] {
  return items.filter((it) => shardOf(it.source, shard.count) === shard.index);
}

export interface PlanOptions {
  sourceRegistry?: string;
  /** registry/namespace prefixes */
  targets: string[];
  stripPrefix?: string;
  shard?: Shard;
  /** what the list is called in messages ("images line 3: …") */
  listName?: string;
}

/** A reference as written, its mistakes named by where it was written. */
function parseAt(s: string, where: string, defaultRegistry?: string): Reference {
  return within(where, () => parseReference(s, { defaultRegistry }));
}

/** A source: "app" is "app:latest", one name for one image, so the two merge and clash as one. */
function ref(s: string, where: string, defaultRegistry?: string): Reference {
  return withDefaultTag(parseAt(s, where, defaultRegistry));
}

/** A plain image list: one reference per line, each with where it was written. */
export function parseImageLines(list: ImageListText, opts: { listName?: string; defaultRegistry?: string } = {}): { source: Reference; where: string }[] {
  const listName = opts.listName ?? 'images';
  return listEntries(list.text).map((e) => {
    const where = list.file ? `${listName} file ${list.file} line ${e.line}` : `${listName} line ${e.line}`;
    return { source: ref(e.value, where, opts.defaultRegistry), where };
  });
}

/**
 * Parses the list (plain or YAML) into items: each source with the targets it goes to. Mistakes in
 * a line are named by the line; OptionErrors name targets, sourceRegistry, or list (no images).
 */
export function buildPlan(list: ImageListText, opts: PlanOptions): SyncItem[] {
  const listName = opts.listName ?? 'images';
  const at = (line: number) => (list.file ? `${listName} file ${list.file} line ${line}` : `${listName} line ${line}`);
  const prefixes = opts.targets.map((t) => asOption('targets', () => parseTargetPrefix(t)));
  let defaultRegistry: string | undefined;
  if (opts.sourceRegistry) {
    const host = opts.sourceRegistry
      .trim()
      .replace(/^https?:\/\//, '')
      .replace(/\/+$/, '');
    if (host.includes('/') || !looksLikeRegistry(host) || !/^[A-Za-z0-9.-]+(:\d+)?$/.test(host))
      throw new OptionError('sourceRegistry', `"${opts.sourceRegistry}" must be a registry host[:port] (e.g. harbor.example.com); write a namespace in the list lines`);
    defaultRegistry = normaliseRegistry(host);
  }
  const items: SyncItem[] = [];

  // an explicit target without a tag keeps the source's tag (or digest)
  const explicitTarget = (t: string, source: Reference, where: string): Reference => {
    const r = parseAt(t, where);
    // a target names its registry: a bare "42" or "team/app" would quietly mean Docker Hub
    if (!t.includes('/') || !looksLikeRegistry(t.split('/')[0]))
      throw new UserError(
        `${where}: target "${t}" names no registry host, so it would go to Docker Hub; write the full reference (registry.example.com/${/^[^/:@]+$/.test(t) ? `namespace/${t}` : t}, or docker.io/… if Docker Hub is meant), or ":tag" to rename the tag`,
      );
    return r.tag || r.digest ? r : { ...r, ...(source.tag ? { tag: source.tag } : { digest: source.digest }) };
  };
  const withPrefixes = (source: Reference, where: string, tags?: string[]) => {
    if (prefixes.length === 0) throw new UserError(`${where}: no target for ${formatReference(source)}: set the "target" input (or map the image to targets in YAML)`);
    return prefixes.flatMap((p) => (tags?.length ? tags : [undefined]).map((t) => mapTarget(source, p, opts.stripPrefix, where, t)));
  };

  const counter = new LineCounter();
  // failsafe: every scalar is a string, so tags like 1.0 stay "1.0", not the number 1
  const doc = parseDocument(list.text, { lineCounter: counter, uniqueKeys: false, schema: 'failsafe' });
  const lineOf = (n: YamlNode | null | undefined) => (n?.range ? counter.linePos(n.range[0]).line : 1);
  const yamlStructured = doc.errors.length === 0 && (isMap(doc.contents) || (isSeq(doc.contents) && doc.contents.items.some((i) => isMap(i))));

  if (doc.errors.length && looksLikeYaml(list.text)) {
    // meant as YAML, unless it reads as a plain list: then the YAML mistake is what to show
    try {
      parseImageLines(list, { listName, defaultRegistry });
    } catch {
      const e = doc.errors[0];
      throw new UserError(`${at(e.linePos?.[0]?.line ?? 1)}: not valid YAML: ${e.message.split('\n')[0]}`);
    }
  }
  const scalarSeq = doc.errors.length === 0 && isSeq(doc.contents) && doc.contents.items.every((i) => isScalar(i));
  if (scalarSeq && isSeq(doc.contents)) {
    // a YAML list of references
    for (const node of doc.contents.items as YamlNode[]) {
      const where = at(lineOf(node));
      const source = ref(String((node as { value: unknown }).value).trim(), where, defaultRegistry);
      items.push({ source, targets: withPrefixes(source, where), where });
    }
  } else if (!yamlStructured) {
    for (const { source, where } of parseImageLines(list, { listName, defaultRegistry })) items.push({ source, targets: withPrefixes(source, where), where });
  } else if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      const keyNode = pair.key as YamlNode;
      const where = at(lineOf(keyNode));
      const source = ref(String(isScalar(keyNode) ? keyNode.value : keyNode), where, defaultRegistry);
      items.push({ source, targets: yamlTargets(pair.value as YamlNode | null, source, where, { withPrefixes, lineOf, at, explicitTarget }), where, yaml: true });
    }
  } else if (isSeq(doc.contents)) {
    for (const node of doc.contents.items) {
      const where = at(lineOf(node as YamlNode));
      if (!isMap(node)) throw new UserError(`${where}: expected an entry with "source" and "targets" (or a reference)`);
      const obj = node.toJSON() as Record<string, unknown>;
      const unknown = Object.keys(obj).filter((k) => !['source', 'target', 'targets', 'tags'].includes(k));
      if (unknown.length) throw new UserError(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use source, targets, tags)`);
      if (typeof obj.source !== 'string') throw new UserError(`${where}: "source" must be an image reference`);
      const source = ref(obj.source, where, defaultRegistry);
      const tags = obj.tags === undefined ? undefined : ([] as unknown[]).concat(obj.tags).map(String);
      const explicit = obj.targets ?? obj.target;
      if (explicit !== undefined && tags !== undefined) throw new UserError(`${where}: "tags" renames under the target prefixes; with "targets", write the tag in each target`);
      const targets = explicit === undefined ? withPrefixes(source, where, tags) : ([] as unknown[]).concat(explicit).map((t) => explicitTarget(String(t), source, where));
      items.push({ source, targets, where, yaml: true });
    }
  }

  // Same source listed twice: merge. Two sources writing one target: refuse.
  const merged = new Map<string, SyncItem>();
  const writers = new Map<string, string>();
  for (const it of items) {
    const key = formatReference(it.source);
    const into = merged.get(key) ?? merged.set(key, { ...it, targets: [] }).get(key)!;
    for (const t of it.targets) {
      const tk = formatReference(t);
      const prev = writers.get(tk);
      if (prev && prev !== key) throw new UserError(`${it.where}: ${tk} is also the target of ${prev}; one target, one source`);
      writers.set(tk, key);
      if (!into.targets.some((x) => formatReference(x) === tk)) into.targets.push(t);
    }
  }
  let out = [...merged.values()];
  if (out.length === 0) throw new OptionError('list', `lists no images${list.file ? ` (file ${list.file})` : ''}`);
  if (opts.shard) out = inShard(out, opts.shard);
  return out;
}

/** Whether text that failed to parse as YAML was meant as YAML (a plain list has no "key:" lines or "- " items). */
function looksLikeYaml(text: string): boolean {
  return listEntries(text).some((e) => /^\s*-\s/.test(e.value) || /:\s*$/.test(e.value) || /:\s+\S/.test(e.value));
}

/** How the YAML list's targets are read: the prefixes, line numbers and explicit targets of the list being parsed. */
interface YamlContext {
  withPrefixes: (s: Reference, where: string, tags?: string[]) => Reference[];
  lineOf: (n: YamlNode | null | undefined) => number;
  at: (line: number) => string;
  explicitTarget: (t: string, source: Reference, where: string) => Reference;
}

function yamlTargets(value: YamlNode | null, source: Reference, where: string, { withPrefixes, lineOf, at, explicitTarget }: YamlContext): Reference[] {
  if (value === null || (isScalar(value) && ['', '~', 'null'].includes(String(value.value ?? '')))) return withPrefixes(source, where);
  const nodes: YamlNode[] = isSeq(value) ? (value.items as YamlNode[]) : [value];
  const out: Reference[] = [];
  const renames: string[] = [];
  for (const n of nodes) {
    const w = at(lineOf(n));
    if (!isScalar(n)) throw new UserError(`${w}: targets must be image references or ":tag" renames`);
    const s = String(n.value).trim();
    if (s.startsWith(':')) renames.push(s.slice(1));
    else out.push(explicitTarget(s, source, w));
  }
  if (renames.length) {
    for (const t of renames) if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(t)) throw new UserError(`${where}: ":${t}" is not a valid tag`);
    out.push(...withPrefixes(source, where, renames));
  }
  return out;
}
