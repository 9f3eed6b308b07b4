import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Parent pid and CPU time (user + system, in clock ticks) from a `/proc/<pid>/stat` line. */
export function parseProcStat(line: string): { ppid: number; ticks: number } | undefined {
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const end = line.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = line.slice(end + 2).split(' ');
  // After the name: state, ppid, ..., utime (field 14 of the line), stime (15).
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ppid) && Number.isFinite(ticks) ? { ppid, ticks } : undefined;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/**
 * CPU seconds used so far by a process and its living descendants (the server's primary and its
 * workers), from Linux's `/proc`; undefined elsewhere. Independent of how much of the machine
 * other processes took, so it compares builds on a machine whose speed varies.
 */
export function processTreeCpuSeconds(root: number): number | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat) stats.set(Number(name), stat);
    } catch {
      // The process ended while the list was read.
    }
  }
  if (!stats.has(root)) return undefined;
  const inTree = (pid: number): boolean => {
    for (let current: number | undefined = pid, depth = 0; current && depth < 16; depth++) {
      if (current === root) return true;
      current = stats.get(current)?.ppid;
    }
    return false;
  };
  let ticks = 0;
  for (const [pid, stat] of stats) if (inTree(pid)) ticks += stat.ticks;
  return ticks / clockTicks();
}
