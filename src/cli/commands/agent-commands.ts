// The commands that run on an instance. The instance bundle carries only these (no AWS SDK).
import type { CommandTable } from '../dispatch.js';

export const agentCommands: CommandTable = {
  run: {
    summary:
      'turn this machine into the service: clone, install, serve, keep data fresh (the default)',
    load: async () => (await import('./run.js')).default,
  },
  sync: {
    summary: 'pull the data repo and publish a new version atomically (or roll back)',
    load: async () => (await import('./sync.js')).default,
  },
  packages: {
    summary: "install the recipe's OS packages (the one step that runs as root)",
    load: async () => (await import('./packages.js')).default,
  },
  'first-boot': {
    summary:
      'first boot, once the agent is installed: start its unit, wait for it, write the result',
    load: async () => (await import('./first-boot.js')).default,
  },
  validate: {
    summary: 'check a recipe and say exactly what is wrong',
    load: async () => (await import('./validate.js')).default,
  },
};
