// What the agent knows about itself while it runs, and the two views the server shows of it:
// healthz (healthOf) and the status page (statusOf), both pure functions of the state. Only runAgent
// writes the state, once per phase, from what each phase returns.
import type { Recipe } from '../recipe/schema.js';
import type { HealthReport, StatusData } from '../serve/types.js';
import type { DataEngine, DataSchedule } from './data-engine.js';
import { healthReport, type HealthProbe } from './health.js';
import type { ServiceSubmodule } from './service-submodules.js';
import type { StartStage } from './start-failure.js';
import { buildStatus } from './status.js';
import type { Supervisor } from './supervisor.js';

/** What the service is doing, as the status page shows it. */
export type ServiceState =
  'cloning' | 'installing' | 'starting' | 'running' | 'restarting' | 'stopping';

/** The agent's moving parts; each is set by the phase that makes it. */
export interface AgentState {
  service: ServiceState;
  commit?: string;
  checkout?: string;
  submodules?: ServiceSubmodule[];
  supervisor?: Supervisor;
  probe?: HealthProbe;
  engine?: DataEngine;
  schedule?: DataSchedule;
  /** Where starting up is, for the start-failure record; undefined once serving. */
  stage?: StartStage;
  installStep?: string;
}

/** The state before the first phase: nothing cloned, not listening yet. */
export function initialState(): AgentState {
  return { service: 'cloning', stage: 'listen' };
}

/** What healthz answers for `state`. */
export function healthOf(recipe: Recipe, state: AgentState): HealthReport {
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
}

/** What the status page shows for `state`. */
export function statusOf(
  recipe: Recipe,
  state: AgentState,
  run: { startedAt: Date; expiresAt?: Date; version?: string },
): StatusData {
  const stalled = state.service === 'running' && state.supervisor?.pid() === undefined;
  const engine = state.engine?.sync;
  const nextSync = state.schedule?.nextRun();
  const served = engine?.current();
  return buildStatus(recipe, {
    startedAt: run.startedAt,
    ...(run.expiresAt ? { expiresAt: run.expiresAt } : {}),
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
    ...(run.version ? { version: run.version } : {}),
  });
}
