// docs/actions/<name>.md: one page per action, its inputs and outputs tables what the action.yml says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
// @ts-expect-error: a plain .mjs script without types
import { docPages, renderPage } from '../../scripts/gen-docs.mjs';

test('every action (and the recipe) has a docs page whose tables match its action.yml', () => {
  const pages = docPages() as { name: string; file: string }[];
  assert.deepEqual(
    pages.map((p) => p.name),
    ['build-ami', 'build-release-image', 'pack-offline', 'release-offline', 'setup-buildx-qemu', 'sync-images', 'upload-oss'],
  );
  for (const { name, file } of pages) {
    assert.ok(existsSync(file), `${file} exists`);
    const text = readFileSync(file, 'utf8');
    assert.equal(text, renderPage(name, text), `${file} is current (node scripts/gen-docs.mjs)`);
    assert.match(text, /## Failure modes/, `${file} says what each error means`);
  }
});
