// Phase "transform": the recipe's data.transform steps, in order, on the staged version.
import { assertVersionContained } from '../link-check.js';
import type { ExtractBudget } from '../limits.js';
import { applyTransforms } from '../transform.js';
import { stagedContext, type Attempt, type EngineContext } from './attempt.js';

/** Runs data.transform on staging/next within `budget` (the extraction limits). */
export async function transformStaged(
  ctx: EngineContext,
  attempt: Attempt,
  budget: ExtractBudget,
): Promise<void> {
  const { data, layout } = ctx;
  attempt.phase = 'transform';
  if (data.transform.length === 0) return;
  // A `run` command must not be led out of the version by a link the data repo committed
  // (extract, copy and move guard their own paths; the check after the transforms sees all).
  if (data.transform.some((t) => t.run)) await assertVersionContained(layout.next);
  await applyTransforms(data.transform, stagedContext(ctx, attempt), {
    scratch: layout.staging,
    limits: budget.limits,
    budget,
  });
}
