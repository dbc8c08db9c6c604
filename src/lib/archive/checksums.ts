// sha256 checksums in the `sha256sum` format (`<hex>  <file>`), computed by streaming.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 })) h.update(c as Buffer);
  return h.digest('hex');
}

export function formatSha256Sums(entries: { file: string; sha256: string }[]): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join('');
}

export function parseSha256Sums(text: string, what: string): { file: string; sha256: string }[] {
  return text
    .split('\n')
    .map((l, i) => [l.trimEnd(), i + 1] as const)
    .filter(([l]) => l && !l.startsWith('#'))
    .map(([l, line]) => {
      const m = /^([a-f0-9]{64}) [ *](.+)$/.exec(l);
      if (!m) throw new UserError(`${what} line ${line} is not "<sha256>  <file>"`);
      return { sha256: m[1], file: m[2] };
    });
}

/**
 * Verifies every file a checksum list names, relative to its directory; names the first
 * mismatch. `only`: when the list names that file, just it is checked (an archive joined from
 * its parts is verified once the parts are gone). Returns how many files were checked, and
 * whether `only` was among them.
 */
export async function verifySha256Sums(listFile: string, opts: { only?: string } = {}): Promise<{ count: number; coversOnly: boolean }> {
  let entries = parseSha256Sums(await readFile(listFile, 'utf8'), listFile);
  const coversOnly = opts.only !== undefined && entries.some((e) => e.file === opts.only);
  if (coversOnly) entries = entries.filter((e) => e.file === opts.only);
  for (const e of entries) {
    const path = join(dirname(listFile), e.file);
    if (!existsSync(path)) throw new UserError(`${listFile}: ${e.file} is listed but missing`);
    const actual = await sha256File(path);
    if (actual !== e.sha256)
      throw new UserError(`checksum mismatch: ${e.file} has sha256 ${actual}, ${basename(listFile)} says ${e.sha256}; the file was changed or damaged, nothing was imported`);
  }
  return { count: entries.length, coversOnly };
}
