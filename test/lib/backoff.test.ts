// The one backoff: doubling, capped, and (with a random source) spread over the upper half.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { backoffDelay } from '../../src/lib/backoff.js';

describe('backoffDelay', () => {
  test('without random: base doubling per retry, capped; retry 0 counts as the first', () => {
    const plain = (n: number) => backoffDelay(n, { baseMs: 500, capMs: 30_000 });
    assert.deepEqual(
      [0, 1, 2, 3, 6, 7, 8].map(plain),
      [500, 500, 1000, 2000, 16_000, 30_000, 30_000],
    );
  });

  test('with random: from half the ceiling (random 0) to all of it (random near 1)', () => {
    const at = (r: number) => (n: number) =>
      backoffDelay(n, { baseMs: 30_000, capMs: 600_000, random: () => r });
    assert.deepEqual([1, 2, 3, 5, 6].map(at(0)), [15_000, 30_000, 60_000, 240_000, 300_000]);
    assert.deepEqual([1, 2, 3, 5, 6].map(at(0.5)), [22_500, 45_000, 90_000, 360_000, 450_000]);
    assert.deepEqual([1, 6].map(at(0.999999)), [30_000, 600_000]);
  });

  test('the delays each caller computed before agree with it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, capMs, r) => {
          const random = () => r;
          // ec2/retry.ts: half fixed, half random, of min(cap, base * 2^(attempt-1)).
          const ceiling = Math.min(capMs, baseMs * 2 ** (retry - 1));
          const ec2 = Math.round(ceiling / 2 + (r * ceiling) / 2);
          assert.equal(backoffDelay(retry, { baseMs, capMs, random }), ec2);
          // agent/supervisor.ts: min(max, initial * 2^(attempt-1)), no jitter.
          assert.equal(
            backoffDelay(retry, { baseMs, capMs }),
            Math.min(capMs, baseMs * 2 ** (retry - 1)),
          );
          // data-sync/src/schedule.ts (0-based attempt = retry - 1): within a rounding of
          // round(min(backoff * 2^attempt, max) * (0.5 + random / 2)).
          const schedule = Math.round(Math.min(baseMs * 2 ** (retry - 1), capMs) * (0.5 + r / 2));
          assert.ok(Math.abs(backoffDelay(retry, { baseMs, capMs, random }) - schedule) <= 1);
        },
      ),
    );
  });
});
