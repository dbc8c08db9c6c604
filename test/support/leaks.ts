// "No process left behind": which live processes still mention a path or port.
import { readdirSync, readFileSync } from 'node:fs';

export function processesMentioning(needle: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombies hold no resources and are reaped by their parent
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(needle)) out.push({ pid: Number(d), cmd });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
