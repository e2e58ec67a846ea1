// Phase "install": the recipe's install steps in the checkout (packages, commands, patches), each
// run once per recipe and commit (run-steps.ts keeps the stamps).
import type { Logger } from '../../lib/log.js';
import type { Placeholders } from '../../lib/placeholders.js';
import type { Recipe } from '../../recipe/schema.js';
import type { Layout } from '../layout.js';
import { detectPackageManager, processPackageRunner, type PackageRunner } from '../packages.js';
import { runInstallSteps } from '../run-steps.js';
import type { ServiceCheckout } from '../service-checkout.js';

/** The placeholder values of the install steps and the start command, for one checkout. */
export function placeholdersOf(port: number, checkoutDir: string, layout: Layout): Placeholders {
  return { port, service: checkoutDir, data: layout.dataCurrent, state: layout.root };
}

export interface InstallInput {
  recipe: Recipe;
  /** How a person names this recipe on the command line (for `bootstrap packages --recipe`). */
  recipeArg: string;
  checkout: ServiceCheckout;
  layout: Layout;
  placeholders: Placeholders;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  signal: AbortSignal;
  now: () => Date;
  isRoot: boolean;
  packageRunner: PackageRunner | undefined;
  /** Called as each step starts running (what a failure is recorded as). */
  onStep: (name: string) => void;
}

/** Runs the install steps; throws on the first that fails. */
export async function installService(input: InstallInput): Promise<void> {
  const { recipe, checkout, env, logger, signal } = input;
  await runInstallSteps({
    onStep: input.onStep,
    service: recipe.service,
    commit: checkout.commit,
    checkout: checkout.dir,
    stepsDir: input.layout.stepsDir,
    placeholders: input.placeholders,
    env,
    logger,
    signal,
    now: input.now,
    packages: {
      kind: detectPackageManager(env),
      isRoot: input.isRoot,
      run: input.packageRunner ?? processPackageRunner(env, { signal }),
      logger,
      rootCommand: `bootstrap packages --recipe ${input.recipeArg}`,
    },
  });
}
