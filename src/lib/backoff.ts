// Exponential backoff, the one policy for every retry and restart (EC2 calls, the service
// supervisor, scheduled data syncs): the delay doubles per retry up to a cap, optionally jittered.

export interface BackoffOptions {
  /** The first delay (its ceiling, with jitter). */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
  /** A number in [0, 1): with it, each delay is spread over the upper half of its ceiling. */
  random?: () => number;
}

/**
 * The delay before retry number `retry` (1-based): min(capMs, baseMs * 2^(retry-1)), or with
 * `random`, a whole number of ms between half of that and all of it.
 */
export function backoffDelay(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  if (options.random === undefined) return ceiling;
  return Math.round(ceiling / 2 + (options.random() * ceiling) / 2);
}
