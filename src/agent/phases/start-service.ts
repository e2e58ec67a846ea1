// Phase "serve": start the service itself (mount its module, start its process under a supervisor)
// and the health probe that says when it answers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Router } from 'express';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { fillArgv, type Placeholders } from '../../lib/placeholders.js';
import type { Recipe } from '../../recipe/schema.js';
import { startHealthProbe, type HealthProbe } from '../health.js';
import { findOnPath } from '../packages.js';
import { stepEnv } from '../run-steps.js';
import { loadServiceModule } from '../service-module.js';
import { startSupervisor, type Supervisor } from '../supervisor.js';
import type { CleanupStack } from './stop.js';

/** The URL the health probe asks: the proxied service's own, else through the agent's server. */
export function healthUrlOf(
  recipe: Recipe,
  proxyPort: number | undefined,
  selfUrl: string,
): string {
  return proxyPort !== undefined
    ? `http://127.0.0.1:${proxyPort}${recipe.serve.health}`
    : `${selfUrl}${recipe.serve.health}`;
}

export interface ServeInput {
  recipe: Recipe;
  checkoutDir: string;
  placeholders: Placeholders;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The proxied service's loopback port; undefined when the agent serves the service itself. */
  proxyPort: number | undefined;
  selfUrl: string;
  /** The router the service module is mounted on. */
  app: Router;
  /** Where the supervisor and the probe register their stop, as each starts. */
  cleanup: CleanupStack;
}

export interface Serving {
  supervisor?: Supervisor;
  probe: HealthProbe;
}

/** Starts the service and its health probe. */
export async function startService(input: ServeInput): Promise<Serving> {
  const { recipe, checkoutDir, placeholders, env, logger, cleanup } = input;
  if (recipe.service.module) {
    input.app.use(await loadServiceModule(checkoutDir, recipe.service.module));
  }
  let supervisor: Supervisor | undefined;
  if (input.proxyPort !== undefined && recipe.service.start) {
    const argv = fillArgv(recipe.service.start, placeholders);
    const serviceEnv = stepEnv(env, recipe.service, undefined, placeholders);
    checkProgram(argv[0]!, checkoutDir, serviceEnv);
    const started = startSupervisor({
      argv,
      cwd: checkoutDir,
      env: serviceEnv,
      logger: logger.child({ part: 'service' }),
    });
    supervisor = started;
    cleanup.push('service', () => started.stop());
  }
  const healthUrl = healthUrlOf(recipe, input.proxyPort, input.selfUrl);
  const probe = startHealthProbe(healthUrl, {
    onChange: (up, problem) =>
      logger.log(up ? 'info' : 'warn', up ? 'service.up' : 'service.down', {
        url: healthUrl,
        ...(problem ? { problem } : {}),
      }),
  });
  cleanup.push('health probe', () => probe.stop());
  return { ...(supervisor ? { supervisor } : {}), probe };
}

/** Logs agent.ready and calls `onReady` once the service first answers (not after a stop). */
export function announceReady(
  probe: HealthProbe,
  selfUrl: string,
  logger: Logger,
  onReady: (url: string) => void,
): void {
  void probe.firstUp.then(() => {
    if (!probe.up()) return;
    logger.log('info', 'agent.ready', { url: selfUrl });
    onReady(selfUrl);
  });
}

/** Fails early, with a clear message, when the start command's program does not exist. */
export function checkProgram(program: string, cwd: string, env: NodeJS.ProcessEnv): void {
  const found = program.includes('/')
    ? existsSync(path.resolve(cwd, program))
    : findOnPath(program, env) !== undefined;
  if (!found) {
    throw new GitstrapError(`service.start: "${program}" is not installed or not on PATH`, {
      hint: 'add a packages install step that installs it, or fix service.start',
      exitCode: ExitCode.failed,
    });
  }
}
