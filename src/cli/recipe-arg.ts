// Loading the recipe a command was given with --recipe and --set. Reading and validating are
// synchronous: Ctrl-C and SIGTERM end the program at once while they run.
import { UsageError } from '../lib/errors.js';
import { defaultSearchDirs, loadRecipe } from '../recipe/load.js';
import type { Recipe } from '../recipe/schema.js';
import { listOpt, stringOpt, type CommandContext, type ParsedArgs } from './command.js';
import { withDefaultSignals } from './default-signals.js';

/** The validated recipe named by --recipe, with --set applied; throws with every problem listed. */
export function recipeFromArgs(
  args: ParsedArgs,
  ctx: CommandContext,
): { recipe: Recipe; file: string; display: string } {
  const name = stringOpt(args, 'recipe');
  if (!name)
    throw new UsageError(
      'missing --recipe NAME|PATH',
      'e.g. --recipe open-qa, or --recipe ./my-recipe.yaml',
    );
  return withDefaultSignals(() =>
    loadRecipe(name, listOpt(args, 'set'), {
      cwd: ctx.cwd,
      searchDirs: defaultSearchDirs(ctx.cwd, ctx.builtinRecipes),
    }),
  );
}
