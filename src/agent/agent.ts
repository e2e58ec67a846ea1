// The instance agent: take the lock, serve, clone the service, get the first data version, install,
// start the runtime, keep the data fresh, and on SIGTERM stop everything it started. Each phase is a
// function in phases/ with its inputs and outputs; runAgent runs them in order and keeps the state
// the status page and healthz show (agent-state.ts). The parts it composes (server, data engine,
// package manager, clock) come in through AgentOptions.
import path from 'node:path';
import express from 'express';
import type { DataSyncOptions } from '../../data-sync/src/api.js';
import { ExitCode } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Recipe } from '../recipe/schema.js';
import type { AgentServer, AgentServerOptions } from '../serve/types.js';
import { healthOf, initialState, statusOf } from './agent-state.js';
import { createDataMount } from './data-mount.js';
import type { DataEngine } from './data-engine.js';
import { expiryOf } from './expiry.js';
import { layoutOf } from './layout.js';
import type { PackageRunner } from './packages.js';
import { checkoutServiceAndData, pruneOldCheckouts } from './phases/checkout.js';
import { installService, placeholdersOf } from './phases/install.js';
import { listen } from './phases/listen.js';
import { lockStateRoot } from './phases/lock-state-root.js';
import { announceReady, startService } from './phases/start-service.js';
import { CleanupStack, endFailedRun, serveUntilAborted } from './phases/stop.js';
import { keepDataFresh } from './phases/keep-data-fresh.js';
import { clearStartFailure } from './start-failure.js';

export type { DataEngine } from './data-engine.js';

/** Everything the agent needs; the defaults are wired in by `bootstrap run`. */
export interface AgentOptions {
  recipe: Recipe;
  /** The state root (--root, or /var/lib/gitstrap/NAME). */
  root: string;
  /** How a person names this recipe on the command line (for messages). */
  recipeArg: string;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  signal: AbortSignal;
  createServer: (options: AgentServerOptions) => AgentServer;
  createDataEngine: (options: DataSyncOptions, signal?: AbortSignal) => DataEngine;
  isRoot?: boolean;
  packageRunner?: PackageRunner;
  expiresAtFile?: string;
  now?: () => Date;
  /** Called once the agent serves (port bound) and again when the service first answers. */
  onEvent?: (event: 'listening' | 'ready', detail: { url: string }) => void;
}

/** Runs the agent until `signal` aborts; returns the exit code, throws GitstrapError on failure. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const { recipe, logger, signal, env } = options;
  const now = options.now ?? (() => new Date());
  const layout = layoutOf(options.root);
  const startedAt = now();
  const lock = await lockStateRoot(layout);
  const cleanup = new CleanupStack(logger);
  cleanup.push('lock', () => lock.release());
  logger.log('info', 'agent.start', {
    recipe: recipe.name,
    root: layout.root,
    pid: process.pid,
    runtime: recipe.service.runtime,
  });

  const state = initialState();
  const expiresAt = expiryOf(recipe.ttl, startedAt, options.expiresAtFile);
  const version = typeof VERSION === 'string' ? VERSION : undefined;
  const app = express.Router();
  const run = { recipe, layout, logger, env, signal, now };
  try {
    // listen: first, so a taken port fails before any work and healthz says 503 while installing.
    const { server, selfUrl, servicePort, proxyPort } = await listen({
      ...run,
      app,
      createServer: options.createServer,
      serviceDir: () =>
        state.checkout ? path.join(state.checkout, recipe.service.root) : undefined,
      serviceRunning: () => Boolean(state.supervisor?.pid()),
      status: () =>
        statusOf(recipe, state, {
          startedAt,
          ...(expiresAt ? { expiresAt } : {}),
          ...(version ? { version } : {}),
        }),
      health: () => healthOf(recipe, state),
      webhook: () => state.engine?.webhook,
    });
    cleanup.push('server', () => server.close());
    options.onEvent?.('listening', { url: selfUrl });

    // checkout: the service and the first data version.
    const checkout = await checkoutServiceAndData({
      ...run,
      servicePort,
      createDataEngine: options.createDataEngine,
      servicePid: () => state.supervisor?.pid(),
      onSwap: () => server.invalidate(),
      onStage: (stage) => (state.stage = stage),
      onEngine: (engine) => (state.engine = engine),
    });
    state.commit = checkout.commit;
    state.checkout = checkout.dir;
    if (checkout.submodules) state.submodules = checkout.submodules;
    if (recipe.data) {
      await createDataMount(checkout.dir, recipe.data.mount, layout.dataCurrent, logger);
    }
    const placeholders = placeholdersOf(servicePort, checkout.dir, layout);

    // install: the install steps.
    state.service = 'installing';
    state.stage = 'install';
    await installService({
      ...run,
      checkout,
      placeholders,
      recipeArg: options.recipeArg,
      isRoot: options.isRoot ?? process.getuid?.() === 0,
      packageRunner: options.packageRunner,
      onStep: (step) => (state.installStep = step),
    });
    if (signal.aborted) return ExitCode.interrupted;

    // serve: the runtime and its health probe.
    state.service = 'starting';
    state.stage = 'start';
    const serving = await startService({
      ...run,
      checkoutDir: checkout.dir,
      placeholders,
      proxyPort,
      selfUrl,
      app,
      cleanup,
    });
    if (serving.supervisor) state.supervisor = serving.supervisor;
    state.probe = serving.probe;
    state.service = 'running';
    state.stage = undefined;
    clearStartFailure(layout.root);
    announceReady(serving.probe, selfUrl, logger, (url) => options.onEvent?.('ready', { url }));
    await pruneOldCheckouts(layout, checkout.commit, logger);

    // sync: keep the data fresh; then stop when told to.
    const schedule = keepDataFresh(state.engine, cleanup);
    if (schedule) state.schedule = schedule;
    return await serveUntilAborted(signal, logger, () => (state.service = 'stopping'));
  } catch (error) {
    const { stage, installStep } = state;
    return endFailedRun(error, { signal, logger, root: layout.root, stage, installStep, now });
  } finally {
    await cleanup.runAll();
    logger.log('info', 'agent.stopped', {});
  }
}
