// The entries of a list as users write them in an input or a file: one per line or
// comma-separated, `#` comments, blanks dropped, each with its line number for errors.
export interface ListEntry {
  value: string;
  /** 1-based line in the input text. */
  line: number;
}

/**
 * The entries of a list input, with their line numbers: one per line or comma-separated, `#`
 * comments and blanks dropped. `lines`: one
 * entry per line and comments only on their own line, for values that may hold "," or " #"
 * (file names).
 */
export function listEntries(text: string, opts: { lines?: boolean } = {}): ListEntry[] {
  const out: ListEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (opts.lines) {
      const value = raw.trim();
      if (value && !value.startsWith('#')) out.push({ value, line: i + 1 });
      return;
    }
    const hash = raw.search(/(^|\s)#/);
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    for (const part of line.split(',')) {
      const value = part.trim();
      if (value) out.push({ value, line: i + 1 });
    }
  });
  return out;
}

export function parseList(text: string): string[] {
  return listEntries(text).map((e) => e.value);
}
