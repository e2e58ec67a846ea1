// Section service: the service repo, how it is installed and how it runs.
import * as z from 'zod';
import { argv, duration, envMap, gitRef, relativePath, repoUrl } from './blocks.js';
import { repoAuth, submodules, submoduleUrls } from './repo-access.js';

export const osPackages = z.union([
  z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/, { error: 'expected a package name' })),
  z.strictObject({
    apt: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/)).optional(),
    dnf: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9+._:-]*$/)).optional(),
  }),
]);

export const installStep = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
        error: 'expected a step name: letters, digits, ".", "_", "-"',
      })
      .describe('The step name, used in logs, markers and error messages.'),
    packages: osPackages
      .optional()
      .describe(
        'OS packages to install with the distro package manager (as root), or {apt: [...], dnf: [...]}.',
      ),
    run: argv.optional().describe('A command as an argument vector (no shell).'),
    shell: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A shell script, for the steps that really need a shell. Recipe values are never spliced in.',
      ),
    patch: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A unified diff (as git diff writes it, paths a/... b/... from the checkout root) applied to the service checkout with git apply: a fix the recipe carries for an upstream it does not control. Already applied: skipped. No longer applies: the step fails naming the file and hunk.',
      ),
    env: envMap.optional(),
    cwd: relativePath.optional().describe('Working directory, relative to the service checkout.'),
    timeout: duration.default('10m').describe('How long the step may run before it is killed.'),
  })
  .describe('One install step: exactly one of packages, run, shell or patch.');

export const service = z
  .strictObject({
    repo: repoUrl.describe('Where the service code lives.'),
    ref: gitRef.default('main'),
    runtime: z
      .enum(['static', 'site', 'node', 'process'])
      .describe(
        'How the agent serves it: static (files), site (handlebars templates + data), node (an Express app or a start command), process (any command, proxied).',
      ),
    root: relativePath
      .default('.')
      .describe(
        'For static and site: the folder of the checkout that is served (templates and assets for site).',
      ),
    install: z.array(installStep).default([]).describe('Ordered install steps.'),
    start: argv
      .optional()
      .describe(
        'For node and process: the command that starts the service. It must listen on 127.0.0.1:{port}.',
      ),
    module: relativePath
      .optional()
      .describe(
        'For node: a module in the checkout whose default export is an Express app or router, mounted in the agent.',
      ),
    env: envMap.optional().describe('Environment for install steps and the start command.'),
    auth: repoAuth.optional(),
    submodules,
    submodule_urls: submoduleUrls,
    lfs: z
      .boolean()
      .optional()
      .describe(
        'The service repo keeps files in Git LFS: fetch them for the checked-out commit (git-lfs; first boot installs it).',
      ),
  })
  .describe('The service repo: the code.');
