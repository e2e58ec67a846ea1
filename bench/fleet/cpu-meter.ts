// The CPU a set of servers uses, with everything they start (git daemon's per-connection workers,
// fcgiwrap's git-http-backend, git upload-pack, pack-objects). Best: a cgroup of their own (cgroup v1
// cpuacct or cgroup v2 cpu.stat), which the servers join before they exec, so every descendant is
// counted to the nanosecond, reaped or not. Without one: /proc, each live process's own time plus
// its reaped children's (cutime); that misses the children of a parent that ignores SIGCHLD
// (fcgiwrap's CGI processes), so the table says which meter it used.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';

export interface CpuMeter {
  kind: 'cgroup v1' | 'cgroup v2' | '/proc (misses children of fcgiwrap)';
  /** The argv that starts `argv` inside the meter. */
  wrap(argv: string[]): string[];
  /** Registers a started server (for the /proc meter). */
  track(pid: number): void;
  /** CPU seconds used so far. */
  seconds(): number;
  /** Removes the cgroup (once its processes have ended). */
  close(): void;
}

/** A meter in a fresh cgroup, or on /proc when none can be made. */
export function createCpuMeter(name: string): CpuMeter {
  for (const [kind, base, file] of [
    ['cgroup v1', '/sys/fs/cgroup/cpuacct', 'cpuacct.usage'],
    ['cgroup v2', '/sys/fs/cgroup', 'cpu.stat'],
  ] as const) {
    const dir = path.join(base, name);
    try {
      if (!existsSync(path.join(base, 'cgroup.procs'))) continue;
      mkdirSync(dir);
      if (!existsSync(path.join(dir, file))) {
        rmdirSync(dir);
        continue;
      }
      return {
        kind,
        wrap: (argv) => [
          'sh',
          '-c',
          `echo $$ > ${path.join(dir, 'cgroup.procs')} && exec "$@"`,
          'sh',
          ...argv,
        ],
        track: () => undefined,
        seconds() {
          const text = readFileSync(path.join(dir, file), 'utf8');
          if (kind === 'cgroup v1') return Number(text.trim()) / 1e9;
          const usec = /usage_usec (\d+)/.exec(text);
          return usec ? Number(usec[1]) / 1e6 : NaN;
        },
        close() {
          try {
            rmdirSync(dir);
          } catch {
            // processes still in it: left for the system
          }
        },
      };
    } catch {
      // not allowed here: try the next kind
    }
  }
  const pids: number[] = [];
  return {
    kind: '/proc (misses children of fcgiwrap)',
    wrap: (argv) => argv,
    track: (pid) => pids.push(pid),
    seconds: () => treeCpuSeconds(pids),
    close: () => undefined,
  };
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime + cutime + cstime of each process, and its parent. */
function readStat(pid: number): { pid: number; ppid: number; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (field: number) => Number(f[field - 3]);
  return { pid, ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17) };
}

/** CPU seconds of the processes `roots` and their live descendants (with what they reaped). */
export function treeCpuSeconds(roots: readonly number[]): number {
  const all = readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readStat(Number(n)))
    .filter((p) => p !== undefined);
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const ticks = new Map(all.map((p) => [p.pid, p.ticks]));
  let total = 0;
  const queue = [...roots];
  const seen = new Set<number>();
  while (queue.length) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += ticks.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total / TICKS;
}

/** What starting git costs on this machine (CPU ms of `git --version`, run `count` times in the meter). */
export function measureExecCost(meter: CpuMeter, count = 50): number | undefined {
  if (meter.kind.startsWith('/proc')) return undefined;
  const before = meter.seconds();
  const argv = meter.wrap([
    'sh',
    '-c',
    `i=0; while [ $i -lt ${count} ]; do git --version >/dev/null; i=$((i+1)); done`,
  ]);
  execFileSync(argv[0]!, argv.slice(1));
  return ((meter.seconds() - before) * 1000) / count;
}
