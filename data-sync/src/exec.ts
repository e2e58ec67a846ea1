// Runs one child process in its own process group, with a time limit and an abort signal that kill
// the whole group; output is kept (bounded) for error messages. Never rejects.
import { spawn } from 'node:child_process';

/** How a child process ended. */
export interface ExecResult {
  /** Exit code; null when killed by a signal or when it could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** Why it could not start (e.g. "ENOENT"), if it did not. */
  startError?: string;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the child's PID right after it starts, and again when it ends. */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
  /** Bytes of each stream kept (the end is kept). */
  maxOutput?: number;
}

/** A function that runs a command; the engine takes one so tests and the agent can wrap it. */
export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** Sends a signal to a process group, ignoring one that is gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs argv (no shell) to completion. */
export const execCommand: Exec = (argv, options = {}) => {
  const [program, ...args] = argv;
  const max = options.maxOutput ?? 64 * 1024;
  return new Promise((resolve) => {
    const empty = { stdout: '', stderr: '', timedOut: false, aborted: false, signal: null };
    if (program === undefined) {
      resolve({ ...empty, code: null, startError: 'empty command' });
      return;
    }
    if (options.signal?.aborted) {
      resolve({ ...empty, code: null, aborted: true });
      return;
    }
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const keep = (acc: string, chunk: Buffer) => {
      const next = acc + chunk.toString();
      return next.length > max ? next.slice(-max) : next;
    };
    child.stdout.on('data', (d: Buffer) => (stdout = keep(stdout, d)));
    child.stderr.on('data', (d: Buffer) => (stderr = keep(stderr, d)));
    const stop = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(
        () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
        2000,
      );
    };
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let settled = false;
    const finish = (result: ExecResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (child.pid !== undefined) options.onExit?.(child.pid);
      resolve(result);
    };
    child.on('error', (error: NodeJS.ErrnoException) =>
      finish({
        code: null,
        signal: null,
        stdout,
        stderr,
        timedOut,
        aborted,
        startError: error.code ?? error.message,
      }),
    );
    child.on('close', (code, signal) =>
      finish({ code, signal, stdout, stderr, timedOut, aborted }),
    );
  });
};

/** One line saying how a failed command ended: "exit code 2", "timed out after 5s", ... */
export function describeExit(result: ExecResult, timeoutMs?: number): string {
  if (result.startError === 'ENOENT') return 'the program was not found';
  if (result.startError) return `it could not start (${result.startError})`;
  if (result.timedOut) return `it timed out after ${timeoutMs ?? '?'} ms`;
  if (result.aborted) return 'it was interrupted';
  if (result.signal) return `it was killed by ${result.signal}`;
  return `exit code ${result.code}`;
}
