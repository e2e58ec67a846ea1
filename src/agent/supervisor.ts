// Keeps the service's start command running: started in its own process group, restarted with
// exponential backoff when it dies, stopped (SIGTERM to the group, then SIGKILL) when the agent stops.
import { spawn, type ChildProcess } from 'node:child_process';
import { backoffDelay } from '../lib/backoff.js';
import type { Logger } from '../lib/log.js';
import { killGroup } from '../lib/run-process.js';

/** How to start the service and how patient to be with it. */
export interface SupervisorOptions {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** First restart delay; doubled after each quick death up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A run this long resets the backoff. */
  stableMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. */
  killGraceMs?: number;
  /** Injected for tests: the spawner. */
  spawnProcess?: typeof spawn;
}

/** A running supervisor. */
export interface Supervisor {
  /** The PID of the current service process, if one runs. */
  pid(): number | undefined;
  /** How many times it has been (re)started. */
  starts(): number;
  /** Sends a signal to the service's process group (notify.signal). */
  signal(signal: NodeJS.Signals): boolean;
  /** Stops the service and stops restarting it. */
  stop(): Promise<void>;
}

/** Starts the service and keeps it running until stop(). */
export function startSupervisor(options: SupervisorOptions): Supervisor {
  const initial = options.initialBackoffMs ?? 500;
  const max = options.maxBackoffMs ?? 30_000;
  const stable = options.stableMs ?? 60_000;
  const grace = options.killGraceMs ?? 5000;
  const doSpawn = options.spawnProcess ?? spawn;
  const log = options.logger;
  const [program, ...args] = options.argv;
  if (program === undefined) throw new Error('empty start command');

  let child: ChildProcess | undefined;
  let starts = 0;
  let quickDeaths = 0;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = () => {
    if (stopping) return;
    starts += 1;
    const startedAt = Date.now();
    const proc = doSpawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    log.log('info', 'service.start', { pid: proc.pid, argv: options.argv, start: starts });
    const forward = (stream: 'stdout' | 'stderr') => {
      let partial = '';
      return (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) log.log('info', 'service.output', { stream, line });
      };
    };
    proc.stdout?.on('data', forward('stdout'));
    proc.stderr?.on('data', forward('stderr'));
    exited = new Promise<void>((resolve) => {
      let done = false;
      const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (done) return;
        done = true;
        if (child === proc) child = undefined;
        resolve();
        if (stopping) {
          log.log('info', 'service.stopped', { pid: proc.pid, code, signal });
          return;
        }
        // Whatever else is left in its group goes with it, so a restart finds its port free.
        if (proc.pid !== undefined) killGroup(proc.pid, 'SIGKILL');
        const ranMs = Date.now() - startedAt;
        quickDeaths = ranMs >= stable ? 1 : quickDeaths + 1;
        const delay = backoffDelay(quickDeaths, { baseMs: initial, capMs: max });
        log.log('warn', 'service.exited', {
          pid: proc.pid,
          code,
          signal,
          ...(error ? { error: error.message } : {}),
          ranMs,
          restartInMs: delay,
        });
        restartTimer = setTimeout(launch, delay);
      };
      proc.on('exit', (code, signal) => onGone(code, signal));
      proc.on('error', (error) => onGone(null, null, error));
    });
  };
  launch();

  return {
    pid: () => child?.pid,
    starts: () => starts,
    signal(signal) {
      const pid = child?.pid;
      if (pid === undefined) return false;
      killGroup(pid, signal);
      return true;
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const proc = child;
      if (!proc || proc.pid === undefined) return;
      const pid = proc.pid;
      killGroup(pid, 'SIGTERM');
      const killer = setTimeout(() => killGroup(pid, 'SIGKILL'), grace);
      await exited;
      clearTimeout(killer);
      // Anything left in the group (a child that ignored SIGTERM) does not outlive the agent.
      killGroup(pid, 'SIGKILL');
    },
  };
}
