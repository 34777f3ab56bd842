/**
 * Process-tree measurements from /proc (Linux): the app may be one process, a cluster primary with
 * workers, or an entry that re-executes itself with its own node flags; RSS and CPU are summed over
 * the whole tree under the pid the benchmark started.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (alive now). */
export function treePids(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (!f) continue;
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(name));
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    if (!statFields(p)) continue;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of the whole tree, KiB. */
export function treeRssKiB(pid: number): number {
  return treePids(pid).reduce((a, p) => a + rssKiB(p), 0);
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) used so far by the tree's living processes. */
export function treeCpuMs(pid: number): number {
  let sum = 0;
  for (const p of treePids(pid)) {
    const f = statFields(p);
    if (f) sum += ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  }
  return sum;
}

/**
 * Sends `signal` to `pid` and every descendant (children first). The app is not started in a process
 * group of its own, so a Ctrl-C in the terminal still reaches it; this reaches a cluster's workers too.
 */
export function killTree(pid: number, signal: NodeJS.Signals) {
  for (const p of treePids(pid).reverse()) {
    try {
      process.kill(p, signal);
    } catch {
      /* gone */
    }
  }
}
