// Runs one child process for the engine (git, tar, transform and check commands) through
// src/lib/run-process.ts (process group, time limit, abort); the end of its output is kept for error
// messages. Never rejects.
import { runProcess, type ProcessExit, type RunProcessOptions } from '../../src/lib/run-process.js';

/** How a child process ended, with the end of its output. */
export interface ExecResult extends ProcessExit {
  stdout: string;
  stderr: string;
}

/** The runner's options (the kill grace is fixed at 2 s), and how much output to keep. */
export interface ExecOptions extends Omit<
  RunProcessOptions,
  'killGraceMs' | 'onStdout' | 'onStderr'
> {
  /** Bytes of each stream kept (the end is kept). */
  maxOutput?: number;
}

/** A function that runs a command; the engine takes one so tests and the agent can wrap it. */
export type Exec = (argv: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/** Runs argv (no shell) to completion. */
export const execCommand: Exec = async (argv, options = {}) => {
  const { maxOutput = 64 * 1024, ...rest } = options;
  let stdout = '';
  let stderr = '';
  const keep = (acc: string, chunk: Buffer) => {
    const next = acc + chunk.toString();
    return next.length > maxOutput ? next.slice(-maxOutput) : next;
  };
  const exit = await runProcess(argv, {
    ...rest,
    killGraceMs: 2000,
    onStdout: (d) => (stdout = keep(stdout, d)),
    onStderr: (d) => (stderr = keep(stderr, d)),
  });
  return { ...exit, stdout, stderr };
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
