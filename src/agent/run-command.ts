// Runs one install step or package command (src/lib/run-process.ts does the process group, the
// timeout and the abort): output line by line, the last lines kept for the error message.
import { runProcess, type ProcessExit } from '../lib/run-process.js';

/** A command to run: argv (no shell unless argv says so), folder, environment, time limit. */
export interface CommandSpec {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** How a command ended. */
export interface CommandOutcome extends ProcessExit {
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

/** Runs a command to completion; never rejects (a failure to start is part of the outcome). */
export async function runCommand(
  spec: CommandSpec,
  options: RunCommandOptions = {},
): Promise<CommandOutcome> {
  const started = Date.now();
  const tailMax = options.tailLines ?? 20;
  const tail: string[] = [];
  const emit = (stream: 'stdout' | 'stderr', line: string) => {
    tail.push(line);
    if (tail.length > tailMax) tail.shift();
    options.onLine?.(stream, line);
  };
  const out = lineReader((line) => emit('stdout', line));
  const err = lineReader((line) => emit('stderr', line));
  const exit = await runProcess(spec.argv, {
    cwd: spec.cwd,
    env: spec.env,
    timeoutMs: spec.timeoutMs,
    killGraceMs: options.killGraceMs ?? 5000,
    ...(options.signal ? { signal: options.signal } : {}),
    onStdout: out.data,
    onStderr: err.data,
  });
  out.flush();
  err.flush();
  return { ...exit, tail, durationMs: Date.now() - started };
}

/** Splits a stream into lines (a trailing CR dropped); flush() gives the last, unfinished one. */
function lineReader(onLine: (line: string) => void) {
  let partial = '';
  return {
    data(chunk: Buffer) {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    },
    flush() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
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
