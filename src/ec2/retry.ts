// Retrying throttled AWS calls: exponential backoff with jitter, a bounded number of attempts, and
// an abortable sleep. The SDK's own retries are off (aws.ts), so this is the one retry policy.
import { backoffDelay } from '../lib/backoff.js';

/** Error codes AWS uses when a caller is going too fast, or a service is briefly unavailable. */
export const RETRYABLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
]);

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number;
  /** The first delay's ceiling; each later one doubles, up to capMs. */
  baseMs: number;
  capMs: number;
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1): the jitter. */
  random: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; code: string }) => void;
}

export const DEFAULT_RETRY = { attempts: 6, baseMs: 500, capMs: 20_000 } as const;

/** The AWS error code of a thrown value (the SDK puts it in `name`), if any. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [e.Code, e.name, e.code]) if (typeof v === 'string' && v !== 'Error') return v;
  return undefined;
}

/** Whether an error is a throttle or a brief unavailability worth retrying. */
export function isRetryable(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata
    ?.httpStatusCode;
  return status === 429 || status === 503;
}

/** Runs `fn`, retrying retryable errors with backoff; rethrows the last error. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.attempts || !isRetryable(error)) throw error;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, code: errorCode(error) ?? 'unknown' });
      await options.sleep(delayMs);
    }
  }
}
