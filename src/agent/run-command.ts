// Runs one command in its own process group: output line by line, a timeout that kills the whole
// group (SIGTERM, then SIGKILL), and an abort signal that does the same.
import { spawn } from 'node:child_process';

/** A command to run: argv (no shell unless argv says so), folder, environment, time limit. */
export interface CommandSpec {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** How a command ended. */
export interface CommandOutcome {
  /** Exit code, or null when it was killed by a signal or could not start. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Why it could not start (e.g. "ENOENT"), if it did not. */
  startError?: string;
  /** The last lines of its output (stdout and stderr interleaved). */
  tail: string[];
  durationMs: number;
}

export interface RunCommandOptions {
  onLine?: (stream: 'stdout' | 'stderr', line: string) => void;
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  tailLines?: number;
}

/** Sends a signal to a whole process group; ignores a group that is already gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

/** Runs a command to completion; never rejects (a failure to start is part of the outcome). */
export function runCommand(
  spec: CommandSpec,
  options: RunCommandOptions = {},
): Promise<CommandOutcome> {
  const started = Date.now();
  const tailMax = options.tailLines ?? 20;
  const grace = options.killGraceMs ?? 5000;
  const tail: string[] = [];
  const [program, ...args] = spec.argv;
  return new Promise((resolve) => {
    if (program === undefined) {
      resolve({
        code: null,
        signal: null,
        timedOut: false,
        aborted: false,
        startError: 'empty command',
        tail,
        durationMs: 0,
      });
      return;
    }
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    let startError: string | undefined;
    const stopGroup = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(
        () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
        grace,
      );
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stopGroup();
    }, spec.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const lineReader = (stream: 'stdout' | 'stderr') => {
      let partial = '';
      return {
        data(chunk: Buffer) {
          const text = partial + chunk.toString('utf8');
          const lines = text.split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) emit(stream, line.replace(/\r$/, ''));
        },
        flush() {
          if (partial) emit(stream, partial);
          partial = '';
        },
      };
    };
    const emit = (stream: 'stdout' | 'stderr', line: string) => {
      tail.push(line);
      if (tail.length > tailMax) tail.shift();
      options.onLine?.(stream, line);
    };
    const out = lineReader('stdout');
    const err = lineReader('stderr');
    child.stdout.on('data', out.data);
    child.stderr.on('data', err.data);

    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const finish = () => {
      if (settled || !exit) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      out.flush();
      err.flush();
      resolve({
        code: exit.code,
        signal: exit.signal,
        timedOut,
        aborted,
        ...(startError ? { startError } : {}),
        tail,
        durationMs: Date.now() - started,
      });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      startError = error.code ?? error.message;
      exit = { code: null, signal: null };
      finish();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A grandchild may hold the pipes open; do not wait for it forever.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, 2000).unref();
    });
    child.on('close', () => finish());
  });
}

/** "exit code 2", "killed by SIGKILL", "timed out after 10m", "not found". */
export function describeOutcome(outcome: CommandOutcome, timeoutText?: string): string {
  if (outcome.startError === 'ENOENT') return 'could not start: program not found';
  if (outcome.startError) return `could not start: ${outcome.startError}`;
  if (outcome.timedOut)
    return `timed out${timeoutText ? ` after ${timeoutText}` : ''} and was killed`;
  if (outcome.aborted) return 'was stopped (the agent is shutting down)';
  if (outcome.signal) return `was killed by ${outcome.signal}`;
  return `exit code ${outcome.code}`;
}
