// Property tests (fast-check) that can be replayed: the seed comes from GITSTRAP_TEST_SEED or is
// drawn fresh, and is printed with the command that reruns the test with it.
import type { TestContext } from 'node:test';
import fc from 'fast-check';

/** The seed for this run's property tests: GITSTRAP_TEST_SEED (an integer) or a fresh one. */
export function propertySeed(): number {
  const fromEnv = process.env.GITSTRAP_TEST_SEED;
  if (fromEnv === undefined || fromEnv === '') return (Math.random() * 2 ** 31) | 0;
  const seed = Number(fromEnv);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`GITSTRAP_TEST_SEED must be an integer, got ${JSON.stringify(fromEnv)}`);
  }
  return seed;
}

/**
 * Checks `property` `numRuns` times from a printed seed. A failure names the seed, the shrunk
 * counterexample and how to replay it.
 */
export async function checkProperty<T>(
  t: Pick<TestContext, 'diagnostic' | 'name'>,
  property: fc.IAsyncProperty<T> | fc.IProperty<T>,
  numRuns: number,
): Promise<void> {
  const seed = propertySeed();
  t.diagnostic(`fast-check seed ${seed} (replay: GITSTRAP_TEST_SEED=${seed})`);
  try {
    await fc.assert(property, { seed, numRuns });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `property "${t.name}" failed with seed ${seed}; replay with GITSTRAP_TEST_SEED=${seed}\n${message}`,
      { cause: error },
    );
  }
}
