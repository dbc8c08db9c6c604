// Temporary folders for in-process unit tests, removed when the test file's tests are done
// (integration tests use workDir, which keeps what a failed test leaves for reading).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const made: string[] = [];
// registered when the test file imports this module: a root-level hook, run after all its tests
after(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

export function tempFolder(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
