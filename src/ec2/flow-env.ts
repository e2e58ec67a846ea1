// What the EC2 flows get from the outside world: the AWS calls, what the cloud offers, a clock, an
// abortable sleep, an HTTP client for health checks, a progress line writer and the Ctrl-C signal.
// Tests pass their own.
import type { AwsApi } from './aws-client.js';
import type { CloudProfile } from './cloud.js';

/** How long the flows wait, and how often they look. */
export interface Timing {
  pollMs: number;
  runningTimeoutMs: number;
  healthTimeoutMs: number;
  healthRequestMs: number;
  terminateTimeoutMs: number;
  /** How long a call on something just created is retried while AWS says it does not exist. */
  visibleTimeoutMs: number;
  /** How long a security group still in use (DependencyViolation) is retried. */
  dependencyTimeoutMs: number;
  /** How often a long wait says it is still waiting. */
  progressEveryMs: number;
}

export const DEFAULT_TIMING: Timing = {
  pollMs: 5_000,
  runningTimeoutMs: 10 * 60_000,
  healthTimeoutMs: 20 * 60_000,
  healthRequestMs: 5_000,
  terminateTimeoutMs: 10 * 60_000,
  visibleTimeoutMs: 2 * 60_000,
  dependencyTimeoutMs: 5 * 60_000,
  progressEveryMs: 30_000,
};

export interface FlowEnv {
  api: AwsApi;
  /** The services this run may call and the EC2 parameters the API takes, as learned so far. */
  cloud: CloudProfile;
  now: () => Date;
  /** Sleeps; rejects at once when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** GETs a URL and returns the HTTP status (health checks). */
  getStatus: (url: string, signal: AbortSignal) => Promise<number>;
  progress: (line: string) => void;
  /** Aborted on Ctrl-C: waits stop and the launch cleans up. */
  signal: AbortSignal;
  timing: Timing;
  /** The aws CLI options that reach the same account and region, for the lines printed when
   * something cannot be removed (e.g. "--region eu-west-1"). */
  awsCliOptions: string;
}

/** A sleep on real timers that rejects when the signal aborts. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** getStatus over the global fetch: no redirects followed, the body discarded. */
export async function fetchStatus(url: string, signal: AbortSignal): Promise<number> {
  const response = await fetch(url, { signal, redirect: 'manual' });
  await response.body?.cancel();
  return response.status;
}

/** The error an aborted wait rejects with. */
export class InterruptedError extends Error {
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : 'interrupted');
    this.name = 'InterruptedError';
  }
}

function abortReason(signal: AbortSignal | undefined): InterruptedError {
  return new InterruptedError(signal?.reason);
}

/** Throws InterruptedError when the signal has aborted (a checkpoint between steps). */
export function checkInterrupted(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError(signal.reason);
}
