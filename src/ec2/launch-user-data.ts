// The user-data a launch sends: the recipe as the plan deploys it (its ttl), rendered with the plan's
// expiry, so the instance ends itself at the very instant its tags say.
import type { Recipe } from '../recipe/schema.js';
import { renderUserData, type RenderedUserData } from '../userdata/render.js';
import { recipeForPlan, type LaunchPlan } from './plan.js';

/** Renders the user-data for a launch plan (gzipped only when over EC2's limit). */
export function renderLaunchUserData(
  recipe: Recipe,
  plan: LaunchPlan,
  version: string,
): RenderedUserData {
  return renderUserData(recipeForPlan(recipe, plan), {
    version,
    gzip: 'auto',
    ...(plan.userDataExpiresAt ? { expiresAt: plan.userDataExpiresAt } : {}),
  });
}
