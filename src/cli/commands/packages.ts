// `bootstrap packages --recipe X [--set ...]`: installs the recipe's OS packages with apt-get or dnf
// (the one step that runs as root; the systemd unit runs it before the agent). Idempotent.
import { defaultStateRoot } from '../../lib/instance-paths.js';
import { installRecipePackages } from '../../agent/recipe-packages.js';
import { detectPackageManager, processPackageRunner } from '../../agent/packages.js';
import { failedStepName, startFailureOf, writeStartFailure } from '../../agent/start-failure.js';
import { jsonLogger } from '../../lib/log.js';
import { RECIPE_USAGE, recipeOptions, stringOpt, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const command: Command = {
  name: 'packages',
  usage: `  sudo bootstrap packages --recipe NAME|PATH [--set KEY=VALUE ...] [--root DIR]
${RECIPE_USAGE}
      --root DIR            the agent's state root, where a failure is recorded for first boot
                            (default ${defaultStateRoot('NAME')})`,
  options: { ...recipeOptions, root: { type: 'string' } },
  async run(args, ctx) {
    const { recipe } = recipeFromArgs(args, ctx);
    const root = stringOpt(args, 'root') ?? defaultStateRoot(recipe.name);
    const logger = jsonLogger((line) => ctx.stdout.write(line));
    const kind = detectPackageManager(ctx.env);
    let step: string | undefined;
    let reports;
    try {
      reports = await installRecipePackages(
        recipe,
        {
          kind,
          isRoot: process.getuid?.() === 0,
          run: processPackageRunner(ctx.env, { signal: ctx.signal }),
          logger,
          rootCommand: `bootstrap packages --recipe ${stringOpt(args, 'recipe') ?? recipe.name}`,
        },
        (name) => (step = name),
      );
    } catch (error) {
      if (!ctx.signal.aborted) {
        writeStartFailure(root, startFailureOf(failedStepName('install', step), error, new Date()));
      }
      throw error;
    }
    const installed = reports.flatMap((r) => r.installed);
    logger.log('info', 'packages.done', {
      steps: reports.length,
      installed,
      ...(kind ? { manager: kind } : {}),
    });
  },
};
export default command;
