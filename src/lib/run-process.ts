// Runs one child process (argv, no shell) in its own process group: a time limit and an abort
// signal that stop the whole group (SIGTERM, then SIGKILL after a grace period). The output goes to
// the caller chunk by chunk; what to keep of it is the caller's business. Never rejects.
import { spawn } from 'node:child_process';

/** How a child process ended. */
export interface ProcessExit {
  /** Exit code; null when killed by a signal or when it could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The abort signal fired (before the start, the process is not started at all). */
  aborted: boolean;
  /** Why it could not start (e.g. "ENOENT", "empty command"), if it did not. */
  startError?: string;
}

/** Where and how long to run, and where its output goes. */
export interface RunProcessOptions {
  cwd?: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** No limit when left out. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL when the group is stopped. */
  killGraceMs: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Called with the child's PID right after it starts, and again when it has ended. */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
}

/** How long to wait for the output pipes to close after the exit (a grandchild may hold them). */
const PIPE_CLOSE_WAIT_MS = 2000;

/** Sends a signal to a whole process group; ignores a group that is already gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

/** Runs argv to completion; a failure to start is part of the result. */
export function runProcess(
  argv: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessExit> {
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    const notRun = { code: null, signal: null, timedOut: false, aborted: false };
    if (program === undefined) {
      resolve({ ...notRun, startError: 'empty command' });
      return;
    }
    if (options.signal?.aborted) {
      resolve({ ...notRun, aborted: true });
      return;
    }
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stopGroup = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(
        () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
        options.killGraceMs,
      );
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stopGroup();
          }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.onStdout) child.stdout.on('data', options.onStdout);
    if (options.onStderr) child.stderr.on('data', options.onStderr);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let startError: string | undefined;
    let settled = false;
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) options.onExit?.(child.pid);
      resolve({ ...exit, timedOut, aborted, ...(startError ? { startError } : {}) });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      startError = error.code ?? error.message;
      exit = { code: null, signal: null };
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, PIPE_CLOSE_WAIT_MS).unref();
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
