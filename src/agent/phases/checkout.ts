// Phase "checkout": the service checkout and the first data version, side by side (each waits on
// the network) unless the data steps name {service} and so need the checkout first; and, once the
// service runs, the removal of checkouts of earlier refs.
import type { DataSyncOptions, SyncResult } from '../../../data-sync/src/api.js';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Recipe } from '../../recipe/schema.js';
import { gitEnvFor } from '../auth/git-env.js';
import type { DataEngine } from '../data-engine.js';
import type { Layout } from '../layout.js';
import { checkoutService, pruneCheckouts, type ServiceCheckout } from '../service-checkout.js';

/** Whether the first data sync needs the service checkout first (the data steps name {service}). */
export function firstDataNeedsService(recipe: Recipe): boolean {
  return recipe.data !== undefined && JSON.stringify(recipe.data).includes('{service}');
}

export interface CheckoutInput {
  recipe: Recipe;
  layout: Layout;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  now: () => Date;
  /** The port the service answers on ({port} in the data steps). */
  servicePort: number;
  createDataEngine: (options: DataSyncOptions, signal?: AbortSignal) => DataEngine;
  /** The running service's PID, for the data steps that signal it. */
  servicePid: () => number | undefined;
  /** Called the moment `current` moves (the served caches go). */
  onSwap: () => void;
  /** Called when the phase moves on: "clone", then "data" (what a failure is recorded as). */
  onStage: (stage: 'clone' | 'data') => void;
  /** Called with the data engine as soon as it exists, before its first sync. */
  onEngine: (engine: DataEngine) => void;
}

/** Checks out the service and gets the first data version; returns the checkout. */
export async function checkoutServiceAndData(input: CheckoutInput): Promise<ServiceCheckout> {
  const { recipe, layout } = input;
  input.onStage('clone');
  if (recipe.data && !firstDataNeedsService(recipe)) {
    const [service, data] = await Promise.allSettled([
      cloneService(input),
      firstData(input, layout.serviceCurrent),
    ]);
    if (service.status === 'rejected') throw service.reason;
    if (data.status === 'rejected') {
      input.onStage('data');
      throw data.reason;
    }
    return service.value;
  }
  const checkout = await cloneService(input);
  input.onStage('data');
  await firstData(input, checkout.dir);
  return checkout;
}

/** Clones (or reuses) the checkout of recipe service.ref. */
async function cloneService(input: CheckoutInput): Promise<ServiceCheckout> {
  const { recipe, layout, env } = input;
  const gitEnv = await gitEnvFor('service', recipe.service.auth, {
    authDir: layout.authDir,
    env,
  });
  return checkoutService({
    repo: recipe.service.repo,
    ref: recipe.service.ref,
    layout,
    logger: input.logger,
    env,
    gitEnv,
    signal: input.signal,
    ...(recipe.service.submodules ? { submodules: recipe.service.submodules } : {}),
    ...(recipe.service.submodule_urls ? { submoduleUrls: recipe.service.submodule_urls } : {}),
    ...(recipe.service.lfs ? { lfs: true } : {}),
  });
}

/** Creates the data engine and runs the start-up sync; fails when no version is live after it. */
async function firstData(input: CheckoutInput, serviceDir: string): Promise<void> {
  const { recipe, layout, logger, env, signal } = input;
  const data = recipe.data;
  if (!data) return;
  const dataGitEnv = await gitEnvFor('data', data.auth, { authDir: layout.authDir, env });
  const engine = input.createDataEngine(
    {
      dir: layout.dataDir,
      data,
      logger: logger.child({ part: 'data' }),
      gitEnv: dataGitEnv,
      now: input.now,
      servicePid: input.servicePid,
      placeholders: {
        port: String(input.servicePort),
        service: serviceDir,
        state: layout.root,
      },
      // The served caches go the moment `current` moves, not after prune, gc and notify.
      onSwap: input.onSwap,
    },
    signal,
  );
  input.onEngine(engine);
  logger.log('info', 'data.first_sync', { repo: data.repo, ref: data.ref });
  const first = await engine.sync.sync('startup', { signal });
  if (!engine.sync.current()) throw firstDataError(data.repo, first);
  if (first.outcome === 'failed') {
    logger.log('warn', 'data.startup_failed', {
      phase: first.phase,
      error: first.error,
      serving: engine.sync.current()?.commit,
    });
  }
}

/** The error for a first sync that left no version to serve. */
export function firstDataError(repo: string, result: SyncResult): GitstrapError {
  return new GitstrapError(
    `could not get the first data version from ${repo}${result.phase ? ` (${result.phase})` : ''}: ${result.error ?? result.outcome}`,
    {
      hint:
        result.hint ??
        'check data.repo, data.ref and data.auth in the recipe; the agent serves nothing until one version is live',
      exitCode: ExitCode.failed,
    },
  );
}

/** Removes checkouts of earlier refs but one to go back to; logs service.pruned. */
export async function pruneOldCheckouts(
  layout: Layout,
  current: string,
  logger: Logger,
): Promise<void> {
  const pruned = await pruneCheckouts(layout, current);
  if (pruned.length) logger.log('info', 'service.pruned', { removed: pruned });
}
