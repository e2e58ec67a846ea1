// The instance agent: take the lock, serve, clone the service, get the first data version, install,
// start the runtime, keep the data fresh, and on SIGTERM stop everything it started. The parts it
// composes (server, data engine, package manager, clock) come in through AgentOptions.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import express from 'express';
import type { DataSync, DataSyncOptions, SyncResult } from '../../data-sync/src/api.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Recipe } from '../recipe/schema.js';
import type {
  AgentServer,
  AgentServerOptions,
  HealthReport,
  StatusData,
  WebhookHandler,
} from '../serve/types.js';
import { gitEnvFor } from './auth/git-env.js';
import { createDataMount } from './data-mount.js';
import { expiryOf } from './expiry.js';
import { freeLoopbackPort } from '../lib/free-port.js';
import { healthReport, startHealthProbe, type HealthProbe } from './health.js';
import { layoutOf } from './layout.js';
import { acquireLock } from './lock.js';
import {
  detectPackageManager,
  findOnPath,
  processPackageRunner,
  type PackageRunner,
} from './packages.js';
import { fillArgv, type Placeholders } from '../lib/placeholders.js';
import { runInstallSteps, stepEnv } from './run-steps.js';
import { checkoutService, pruneCheckouts } from './service-checkout.js';
import type { ServiceSubmodule } from './service-submodules.js';
import { loadServiceModule } from './service-module.js';
import { buildStatus } from './status.js';
import {
  clearStartFailure,
  failedStepName,
  startFailureOf,
  writeStartFailure,
  type StartStage,
} from './start-failure.js';
import { startSupervisor, type Supervisor } from './supervisor.js';

/** The data engine as the agent uses it: syncs, plus the schedule and webhook built on them. */
export interface DataEngine {
  sync: DataSync;
  /** Starts scheduled syncs (recipe data.schedule); undefined without a schedule. */
  startSchedule?: () => { stop(): void | Promise<void>; nextRun(): Date | undefined };
  /** The verified push webhook (recipe data.webhook); undefined without one. */
  webhook?: WebhookHandler;
}

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

/** What the service is doing, as the status page shows it. */
type ServiceState = 'cloning' | 'installing' | 'starting' | 'running' | 'restarting' | 'stopping';

/** Runs cleanups in reverse order of registration; each one runs once, errors are logged. */
class CleanupStack {
  private readonly steps: Array<{ what: string; run: () => void | Promise<void> }> = [];
  constructor(private readonly logger: Logger) {}
  push(what: string, run: () => void | Promise<void>): void {
    this.steps.push({ what, run });
  }
  async runAll(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        this.logger.log('warn', 'agent.cleanup_failed', { what: step.what, error });
      }
    }
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** The host the agent probes its own server on. */
function loopbackFor(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/** Runs the agent until `signal` aborts; returns the exit code, throws GitstrapError on failure. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const { recipe, logger, signal, env } = options;
  const now = options.now ?? (() => new Date());
  const layout = layoutOf(options.root);
  const startedAt = now();
  try {
    await mkdir(layout.root, { recursive: true });
  } catch (error) {
    throw new GitstrapError(
      `cannot create the state root ${layout.root} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      {
        hint: 'run as the gitstrap user (the systemd unit does), or pass --root DIR for a try as yourself',
      },
    );
  }
  const lock = acquireLock(layout.lock);
  const cleanup = new CleanupStack(logger);
  cleanup.push('lock', () => lock.release());
  logger.log('info', 'agent.start', {
    recipe: recipe.name,
    root: layout.root,
    pid: process.pid,
    runtime: recipe.service.runtime,
  });

  const state: {
    service: ServiceState;
    commit?: string;
    checkout?: string;
    submodules?: ServiceSubmodule[];
    port?: number;
    supervisor?: Supervisor;
    probe?: HealthProbe;
    engine?: DataEngine;
    schedule?: { stop(): void | Promise<void>; nextRun(): Date | undefined };
    /** Where starting up is, for the start-failure record; undefined once serving. */
    stage?: StartStage;
    installStep?: string;
  } = { service: 'cloning', stage: 'listen' };
  const expiresAt = expiryOf(recipe.ttl, startedAt, options.expiresAtFile);
  const serviceRoot = () =>
    state.checkout ? path.join(state.checkout, recipe.service.root) : undefined;
  const mountedApp = express.Router();

  const health = (): HealthReport => {
    const sync = state.engine?.sync.health();
    return healthReport({
      ...(state.service === 'cloning' || state.service === 'installing'
        ? { starting: `agent is ${state.service} the service` }
        : {}),
      serviceUp: state.probe?.up() ?? false,
      ...(state.probe?.problem() ? { serviceProblem: state.probe.problem() } : {}),
      ...(recipe.data ? { dataLive: state.engine?.sync.current() !== undefined } : {}),
      consecutiveSyncFailures: sync?.consecutiveFailures ?? 0,
      failureBudget: recipe.data?.failure_budget ?? 1,
    });
  };
  const status = (): StatusData => {
    const stalled = state.service === 'running' && state.supervisor?.pid() === undefined;
    const engine = state.engine?.sync;
    const nextSync = state.schedule?.nextRun();
    const served = engine?.current();
    return buildStatus(recipe, {
      startedAt,
      ...(expiresAt ? { expiresAt } : {}),
      service: {
        state: stalled && state.supervisor ? 'restarting' : state.service,
        ...(state.commit ? { commit: state.commit } : {}),
        ...(state.submodules ? { submodules: state.submodules } : {}),
      },
      data: {
        history: engine?.history() ?? [],
        ...(served ? { commit: served.commit } : {}),
        ...(served?.submodules ? { submodules: served.submodules } : {}),
        ...(served?.lfs ? { lfs: served.lfs } : {}),
        ...(nextSync ? { nextSync } : {}),
      },
      ...(typeof VERSION === 'string' ? { version: VERSION } : {}),
    });
  };

  try {
    // Serve first: a taken port fails before any work, and healthz says 503 while installing.
    const proxied =
      recipe.service.runtime === 'process' ||
      (recipe.service.runtime === 'node' && recipe.service.start !== undefined);
    if (proxied) state.port = await freeLoopbackPort();
    let webhook: WebhookHandler | undefined;
    const server = options.createServer({
      runtime: recipe.service.runtime,
      serviceDir: serviceRoot,
      ...(recipe.data
        ? {
            dataMount: recipe.data.mount,
            dataDir: () => layout.dataCurrent,
          }
        : {}),
      ...(proxied ? { proxyPort: () => (state.supervisor?.pid() ? state.port : undefined) } : {}),
      ...(recipe.service.module ? { app: mountedApp } : {}),
      status,
      health,
      ...(recipe.data?.webhook
        ? {
            webhook: (headers, body) =>
              webhook
                ? webhook(headers, body)
                : Promise.resolve({ status: 503, body: { error: 'the agent is starting' } }),
          }
        : {}),
      listing: recipe.serve.listing,
      maxBody: recipe.serve.max_body,
      logger: logger.child({ part: 'serve' }),
      now,
    });
    let address;
    try {
      address = await server.listen(recipe.serve.port, recipe.serve.host);
    } catch (error) {
      // The server says why (port taken, not allowed, no such address); it is a run-time failure.
      const message =
        error instanceof GitstrapError
          ? error.message
          : `cannot listen on ${recipe.serve.host}:${recipe.serve.port}: ${String(error)}`;
      throw new GitstrapError(message, {
        ...(error instanceof GitstrapError && error.hint ? { hint: error.hint } : {}),
        exitCode: ExitCode.failed,
        cause: error,
      });
    }
    cleanup.push('server', () => server.close());
    const selfUrl = `http://${loopbackFor(recipe.serve.host)}:${address.port}`;
    logger.log('info', 'agent.listening', { host: recipe.serve.host, port: address.port });
    options.onEvent?.('listening', { url: selfUrl });

    // The service checkout and the first data version: side by side (each waits on the network),
    // unless the data steps name {service} and so need the checkout first.
    const port = state.port ?? address.port;
    const cloneService = async () => {
      const gitEnv = await gitEnvFor('service', recipe.service.auth, {
        authDir: layout.authDir,
        env,
      });
      return checkoutService({
        repo: recipe.service.repo,
        ref: recipe.service.ref,
        layout,
        logger,
        env,
        gitEnv,
        signal,
        ...(recipe.service.submodules ? { submodules: recipe.service.submodules } : {}),
        ...(recipe.service.submodule_urls ? { submoduleUrls: recipe.service.submodule_urls } : {}),
        ...(recipe.service.lfs ? { lfs: true } : {}),
      });
    };
    const firstData = async (serviceDir: string) => {
      const data = recipe.data;
      if (!data) return;
      const dataGitEnv = await gitEnvFor('data', data.auth, { authDir: layout.authDir, env });
      const engine = options.createDataEngine(
        {
          dir: layout.dataDir,
          data,
          logger: logger.child({ part: 'data' }),
          gitEnv: dataGitEnv,
          now,
          servicePid: () => state.supervisor?.pid(),
          placeholders: { port: String(port), service: serviceDir, state: layout.root },
          // The served caches go the moment `current` moves, not after prune, gc and notify.
          onSwap: () => server.invalidate(),
        },
        signal,
      );
      state.engine = engine;
      webhook = engine.webhook;
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
    };
    let checkout: Awaited<ReturnType<typeof checkoutService>>;
    if (recipe.data && !JSON.stringify(recipe.data).includes('{service}')) {
      state.stage = 'clone';
      const [service, data] = await Promise.allSettled([
        cloneService(),
        firstData(layout.serviceCurrent),
      ]);
      if (service.status === 'rejected') throw service.reason;
      if (data.status === 'rejected') {
        state.stage = 'data';
        throw data.reason;
      }
      checkout = service.value;
    } else {
      state.stage = 'clone';
      checkout = await cloneService();
      state.stage = 'data';
      await firstData(checkout.dir);
    }
    state.commit = checkout.commit;
    state.checkout = checkout.dir;
    if (checkout.submodules) state.submodules = checkout.submodules;
    if (recipe.data) {
      await createDataMount(checkout.dir, recipe.data.mount, layout.dataCurrent, logger);
    }

    const placeholders: Placeholders = {
      port,
      service: checkout.dir,
      data: layout.dataCurrent,
      state: layout.root,
    };

    // Install steps.
    state.service = 'installing';
    state.stage = 'install';
    await runInstallSteps({
      onStep: (name) => (state.installStep = name),
      service: recipe.service,
      commit: checkout.commit,
      checkout: checkout.dir,
      stepsDir: layout.stepsDir,
      placeholders,
      env,
      logger,
      signal,
      now,
      packages: {
        kind: detectPackageManager(env),
        isRoot: options.isRoot ?? process.getuid?.() === 0,
        run: options.packageRunner ?? processPackageRunner(env, { signal }),
        logger,
        rootCommand: `bootstrap packages --recipe ${options.recipeArg}`,
      },
    });
    if (signal.aborted) return ExitCode.interrupted;

    // The runtime.
    state.service = 'starting';
    state.stage = 'start';
    if (recipe.service.module) {
      mountedApp.use(await loadServiceModule(checkout.dir, recipe.service.module));
    }
    if (proxied && recipe.service.start) {
      const argv = fillArgv(recipe.service.start, placeholders);
      const serviceEnv = stepEnv(env, recipe.service, undefined, placeholders);
      checkProgram(argv[0]!, checkout.dir, serviceEnv);
      const supervisor = startSupervisor({
        argv,
        cwd: checkout.dir,
        env: serviceEnv,
        logger: logger.child({ part: 'service' }),
      });
      state.supervisor = supervisor;
      cleanup.push('service', () => supervisor.stop());
    }
    const healthUrl = proxied
      ? `http://127.0.0.1:${state.port}${recipe.serve.health}`
      : `${selfUrl}${recipe.serve.health}`;
    const probe = startHealthProbe(healthUrl, {
      onChange: (up, problem) =>
        logger.log(up ? 'info' : 'warn', up ? 'service.up' : 'service.down', {
          url: healthUrl,
          ...(problem ? { problem } : {}),
        }),
    });
    state.probe = probe;
    cleanup.push('health probe', () => probe.stop());
    state.service = 'running';
    state.stage = undefined;
    clearStartFailure(layout.root);
    void probe.firstUp.then(() => {
      if (!probe.up()) return;
      logger.log('info', 'agent.ready', { url: selfUrl });
      options.onEvent?.('ready', { url: selfUrl });
    });

    // Checkouts of earlier refs: keep one to go back to, remove the rest.
    const pruned = await pruneCheckouts(layout, checkout.commit);
    if (pruned.length) logger.log('info', 'service.pruned', { removed: pruned });

    // Keep the data fresh.
    if (state.engine?.startSchedule) {
      const schedule = state.engine.startSchedule();
      state.schedule = schedule;
      cleanup.push('schedule', () => schedule.stop());
    }

    await waitForAbort(signal);
    state.service = 'stopping';
    logger.log('info', 'agent.stop', { reason: String((signal.reason as Error)?.message ?? '') });
    return ExitCode.ok;
  } catch (error) {
    if (signal.aborted) {
      logger.log('info', 'agent.stop', { reason: 'interrupted while starting' });
      return ExitCode.interrupted;
    }
    logger.log('error', 'agent.failed', {
      error: error instanceof Error ? error.message : String(error),
    });
    if (state.stage) {
      const step = failedStepName(state.stage, state.installStep);
      writeStartFailure(layout.root, startFailureOf(step, error, now()));
    }
    throw error;
  } finally {
    await cleanup.runAll();
    logger.log('info', 'agent.stopped', {});
  }
}

/** The error for a first sync that left no version to serve. */
function firstDataError(repo: string, result: SyncResult): GitstrapError {
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

/** Fails early, with a clear message, when the start command's program does not exist. */
function checkProgram(program: string, cwd: string, env: NodeJS.ProcessEnv): void {
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
