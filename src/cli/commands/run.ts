// `bootstrap run --recipe X [--set ...] [--root DIR]` (also plain `bootstrap --recipe X`): turns this
// machine into the service and keeps it running until SIGTERM/Ctrl-C. The agent is src/agent/agent.ts.
import v8 from 'node:v8';
import { applyAgentV8Flags, withoutAgentRuntimeEnv } from '../../lib/agent-runtime-env.js';
import { runAgent } from '../../agent/agent.js';
import { createDataEngine } from '../../agent/data-engine.js';
import { defaultStateRoot } from '../../lib/instance-paths.js';
import { startFailureOf, writeStartFailure } from '../../agent/start-failure.js';
import { jsonLogger } from '../../lib/log.js';
import { createAgentServer } from '../../serve/index.js';
import { RECIPE_USAGE, recipeOptions, stringOpt, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const command: Command = {
  name: 'run',
  usage: `  bootstrap [run] --recipe NAME|PATH [--set KEY=VALUE ...] [--root DIR]
${RECIPE_USAGE}
      --root DIR            the agent's state root (default ${defaultStateRoot('NAME')})`,
  options: { ...recipeOptions, root: { type: 'string' } },
  async run(args, ctx) {
    // The long-lived agent favours memory over speed in V8's heap growth (src/lib/agent-runtime-env.ts).
    applyAgentV8Flags(v8.setFlagsFromString);
    let recipe;
    try {
      ({ recipe } = recipeFromArgs(args, ctx));
    } catch (error) {
      // First boot validates no more on its own: it reads this record (src/agent/start-failure.ts).
      const rootArg = stringOpt(args, 'root');
      if (rootArg) writeStartFailure(rootArg, startFailureOf('recipe', error, new Date()));
      throw error;
    }
    const root = stringOpt(args, 'root') ?? defaultStateRoot(recipe.name);
    const logger = jsonLogger((line) => ctx.stdout.write(line), {
      level: ctx.verbose ? 'debug' : 'info',
    });
    return runAgent({
      recipe,
      root,
      recipeArg: stringOpt(args, 'recipe') ?? recipe.name,
      env: withoutAgentRuntimeEnv(ctx.env),
      logger,
      signal: ctx.signal,
      createServer: createAgentServer,
      createDataEngine,
    });
  },
};
export default command;
