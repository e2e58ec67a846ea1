// `bootstrap packages`: every packages step of a recipe, installed (as root) or checked. Idempotent:
// packages already installed are left alone.
import type { Recipe } from '../recipe/schema.js';
import { ensurePackages, type PackageContext } from './packages.js';

/** What happened to one packages step. */
export interface PackagesReport {
  step: string;
  installed: string[];
}

/** Installs the OS packages of every packages step, in order; not root, fails if any is missing. */
export async function installRecipePackages(
  recipe: Recipe,
  ctx: PackageContext,
  onStep?: (name: string) => void,
): Promise<PackagesReport[]> {
  const reports: PackagesReport[] = [];
  for (const step of recipe.service.install) {
    if (step.packages === undefined) continue;
    onStep?.(step.name);
    const { installed } = await ensurePackages(step.name, step.packages, ctx);
    reports.push({ step: step.name, installed });
  }
  return reports;
}
