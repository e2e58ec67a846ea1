// The instance bundle's program (dist/gitstrap-agent.cjs): only the commands that run on an instance.
import { agentCommands } from './commands/agent-commands.js';
import { dispatch } from './dispatch.js';
import { runProgram } from './process.js';

runProgram((argv, ctx) =>
  dispatch(argv, ctx, {
    program: 'bootstrap',
    commands: agentCommands,
    defaultCommand: 'run',
    version: VERSION,
  }),
);
