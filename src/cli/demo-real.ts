import type { CliIO } from './index.js';
export async function runRealDemo(_argv: string[], _io: CliIO): Promise<number> {
  return 2;
}
