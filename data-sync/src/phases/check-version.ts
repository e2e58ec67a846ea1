// Phase "check": the recipe's data.check, every one of which the staged version must pass.
import { runChecks } from '../check.js';
import { stagedContext, type Attempt, type EngineContext } from './attempt.js';

/** Runs data.check on staging/next; throws the first failure. */
export async function checkStaged(ctx: EngineContext, attempt: Attempt): Promise<void> {
  attempt.phase = 'check';
  await runChecks(ctx.data.check, stagedContext(ctx, attempt));
}
