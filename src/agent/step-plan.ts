// Planning the install steps: which to run and which to skip. Each step gets a fingerprint that
// chains the service commit, the service env and every step definition up to it, so a changed step
// or ref changes that step's fingerprint and every one after it. Pure: no file system.
import { createHash } from 'node:crypto';
import type { InstallStep, Recipe } from '../recipe/schema.js';

/** The implicit first step of the node runtime. */
export const NPM_STEP_NAME = 'gitstrap-npm';

/** One step, as the agent will run it. */
export interface PlannedStep {
  name: string;
  step: InstallStep;
  fingerprint: string;
  /** Added by the agent (not in the recipe). */
  implicit: boolean;
}

/** What a finished step leaves in steps/<name>.done. */
export interface StepStamp {
  fingerprint: string;
  commit: string;
  finishedAt: string;
}

/** The steps a recipe's service needs, in order: the implicit npm step for node, then install. */
export function listSteps(
  service: Recipe['service'],
  hasPackageLock: boolean,
): Array<{ step: InstallStep; implicit: boolean }> {
  const steps = service.install.map((step) => ({ step, implicit: false }));
  if (service.runtime === 'node') {
    steps.unshift({
      step: {
        name: NPM_STEP_NAME,
        run: hasPackageLock
          ? ['npm', 'ci', '--no-audit', '--no-fund']
          : ['npm', 'install', '--no-audit', '--no-fund'],
        timeout: '15m',
      },
      implicit: true,
    });
  }
  return steps;
}

/** Fingerprints each step: sha256 of the commit, the service env, the previous fingerprint and the step. */
export function planSteps(
  service: Recipe['service'],
  commit: string,
  hasPackageLock: boolean,
): PlannedStep[] {
  let previous = '';
  return listSteps(service, hasPackageLock).map(({ step, implicit }) => {
    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ commit, env: service.env ?? {}, previous, step: canonical(step) }))
      .digest('hex');
    previous = fingerprint;
    return { name: step.name, step, fingerprint, implicit };
  });
}

/** A step with its keys sorted, so key order in the YAML does not count as a change. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Decides, step by step, run or skip: skip while stamps match; from the first that does not, run all. */
export function decideSteps(
  plan: readonly PlannedStep[],
  stamps: ReadonlyMap<string, StepStamp>,
): Array<PlannedStep & { action: 'run' | 'skip' }> {
  let running = false;
  return plan.map((p) => {
    // Package steps are always checked: asking dpkg/rpm is cheap and packages can be removed.
    if (
      !running &&
      p.step.packages === undefined &&
      stamps.get(p.name)?.fingerprint === p.fingerprint
    ) {
      return { ...p, action: 'skip' as const };
    }
    if (p.step.packages === undefined) running = true;
    return { ...p, action: 'run' as const };
  });
}
