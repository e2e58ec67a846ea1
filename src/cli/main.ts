// The `bootstrap` / `gitstrap` program: every command. bin/bootstrap.js only starts this.
import path from 'node:path';
import { packageRoot } from '../lib/package-root.js';
import { agentCommands } from './commands/agent-commands.js';
import { launcherCommands } from './commands/launcher-commands.js';
import { dispatch } from './dispatch.js';
import { runProgram } from './process.js';

const root = packageRoot();
runProgram((argv, ctx) =>
  dispatch(
    argv,
    { ...ctx, ...(root ? { builtinRecipes: path.join(root, 'recipes') } : {}) },
    {
      program: 'bootstrap',
      commands: { ...agentCommands, ...launcherCommands },
      defaultCommand: 'run',
      version: VERSION,
    },
  ),
);
