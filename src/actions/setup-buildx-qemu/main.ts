// Entry for @github/local-action and tests: runs the main phase as a runner would.
import { runNamed } from '../../entry.js';

export async function run(): Promise<void> {
  await runNamed('setup-buildx-qemu', 'main');
}
