// Bounded waits: poll a probe until it answers, the deadline passes, or Ctrl-C; say now and then
// that it is still waiting. Every wait in the EC2 flows goes through pollUntil.
import { formatDuration } from '../lib/duration.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import { checkInterrupted, type FlowEnv } from './flow-env.js';

export interface PollOptions {
  what: string;
  timeoutMs: number;
  /** Abort with this signal (the launch's Ctrl-C); cleanup waits pass none. */
  signal?: AbortSignal;
  /** A line for the "still waiting" message: what the probe saw last. */
  status?: () => string | undefined;
  hint?: string;
}

/** Calls `probe` every timing.pollMs until it returns a value; throws on timeout. */
export async function pollUntil<T>(
  env: Pick<FlowEnv, 'now' | 'sleep' | 'progress' | 'timing'>,
  probe: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const start = env.now().getTime();
  let lastReport = start;
  for (;;) {
    if (options.signal) checkInterrupted(options.signal);
    const value = await probe();
    if (value !== undefined) return value;
    const now = env.now().getTime();
    const waited = now - start;
    if (waited >= options.timeoutMs) {
      const status = options.status?.();
      throw new GitstrapError(
        `gave up waiting for ${options.what} after ${formatDuration(waited)}${status ? ` (${status})` : ''}`,
        { exitCode: ExitCode.failed, ...(options.hint ? { hint: options.hint } : {}) },
      );
    }
    if (now - lastReport >= env.timing.progressEveryMs) {
      lastReport = now;
      const status = options.status?.();
      env.progress(
        `  still waiting for ${options.what} (${formatDuration(waited)})${status ? `: ${status}` : ''}`,
      );
    }
    await env.sleep(env.timing.pollMs, options.signal);
  }
}
