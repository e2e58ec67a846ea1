// The commands that run on a person's machine: render user-data, launch and end deployments, installer mode.
import type { CommandTable } from '../dispatch.js';

export const launcherCommands: CommandTable = {
  userdata: {
    summary: 'print cloud-init user-data that turns a fresh instance into the service',
    load: async () => (await import('./userdata.js')).default,
  },
  launch: {
    summary: 'launch EC2 instance(s) with the user-data, wait until the service answers',
    load: async () => (await import('./launch.js')).default,
  },
  ls: {
    summary: 'list deployments (by tag): recipe, state, address, age, time left',
    load: async () => (await import('./ls.js')).default,
  },
  down: {
    summary: 'end a deployment: terminate it and delete what it created',
    load: async () => (await import('./down.js')).default,
  },
  reap: {
    summary: 'end every expired deployment in reach',
    load: async () => (await import('./reap.js')).default,
  },
  refresh: {
    summary: "replace a fleet's instances with fresh ones (instance refresh)",
    load: async () => (await import('./refresh.js')).default,
  },
  publish: {
    summary:
      "commit a folder to the recipe's data repo, packed as its transforms expect, and push it",
    load: async () => (await import('./publish.js')).default,
  },
  bundle: {
    summary: 'write the agent bundle and its sha256, to host it yourself (agent.source url)',
    load: async () => (await import('./bundle.js')).default,
  },
  doctor: {
    summary:
      'show what an endpoint offers (EC2 parameters, Auto Scaling, SSM) and what gitstrap does there',
    load: async () => (await import('./doctor.js')).default,
  },
  'iam-policy': {
    summary: 'print the least-privilege IAM policy the launcher commands need',
    load: async () => (await import('./iam-policy.js')).default,
  },
  kickstart: {
    summary: 'write a kickstart whose %post turns the installed machine into the service',
    load: async () => (await import('./kickstart.js')).default,
  },
  'nc-hook': {
    summary: 'node-controller hook: put user-data boot parameters on the kernel command line',
    load: async () => (await import('./nc-hook.js')).default,
  },
};
