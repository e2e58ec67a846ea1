// `bootstrap validate --recipe X [--set ...] [--json]`: checks a recipe and says what is wrong.
import { redactDeep } from '../../lib/redact.js';
import { RecipeError } from '../../recipe/load.js';
import { flagOpt, RECIPE_USAGE, recipeOptions, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const command: Command = {
  name: 'validate',
  usage: `  bootstrap validate --recipe NAME|PATH [--set KEY=VALUE ...] [--json]
${RECIPE_USAGE}
      --json                print the resolved recipe (defaults filled in) as JSON`,
  options: { ...recipeOptions, json: { type: 'boolean' } },
  async run(args, ctx) {
    try {
      const { recipe, display } = recipeFromArgs(args, ctx);
      if (flagOpt(args, 'json')) ctx.stdout.write(JSON.stringify(recipe, null, 2) + '\n');
      else ctx.stdout.write(`${display}: ok (${recipe.name}, runtime ${recipe.service.runtime})\n`);
    } catch (error) {
      if (!(error instanceof RecipeError) || !flagOpt(args, 'json')) throw error;
      ctx.stdout.write(JSON.stringify(redactDeep({ problems: error.problems }), null, 2) + '\n');
      return error.exitCode;
    }
  },
};
export default command;
