// The retry policy: which errors are retried, the backoff with jitter, the bound on attempts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isRetryable, withRetry } from '../../src/ec2/retry.js';
import { backoffDelay } from '../../src/lib/backoff.js';
import { awsError } from './fake-cloud.js';

describe('retry of throttled calls', () => {
  test('throttles and brief unavailability are retried; other errors are not', () => {
    for (const code of [
      'RequestLimitExceeded',
      'Throttling',
      'ThrottlingException',
      'ServiceUnavailable',
    ]) {
      assert.equal(isRetryable(awsError(code)), true, code);
    }
    assert.equal(isRetryable(awsError('SomethingNew', 'slow down', 429)), true, 'HTTP 429');
    for (const code of ['UnauthorizedOperation', 'InvalidAMIID.NotFound', 'DependencyViolation']) {
      assert.equal(isRetryable(awsError(code)), false, code);
    }
    assert.equal(isRetryable(new Error('socket hang up')), false);
  });

  test('the delay doubles per attempt up to the cap, and jitter spreads it over its upper half', () => {
    const options = { baseMs: 500, capMs: 20_000 };
    const low = (n: number) => backoffDelay(n, { ...options, random: () => 0 });
    const high = (n: number) => backoffDelay(n, { ...options, random: () => 0.999999 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(low), [250, 500, 1000, 2000, 4000, 8000, 10000]);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(high), [500, 1000, 2000, 4000, 8000, 16000, 20000]);
  });

  test('retries until success, sleeping between attempts', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw awsError('RequestLimitExceeded');
        return 'done';
      },
      {
        attempts: 6,
        baseMs: 100,
        capMs: 1000,
        random: () => 0.5,
        sleep: async (ms) => void sleeps.push(ms),
      },
    );
    assert.equal(value, 'done');
    assert.deepEqual(sleeps, [75, 150]);
  });

  test('gives up after the last attempt with the last error; never retries a real failure', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw awsError('Throttling', `throttled ${calls}`);
        },
        { attempts: 4, baseMs: 1, capMs: 1, random: () => 0, sleep: async () => {} },
      ),
      /throttled 4/,
    );
    assert.equal(calls, 4);
    calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw awsError('UnauthorizedOperation');
        },
        { attempts: 4, baseMs: 1, capMs: 1, random: () => 0, sleep: async () => {} },
      ),
    );
    assert.equal(calls, 1);
  });
});
