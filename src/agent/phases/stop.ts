// Phase "stop": wait for the signal, then undo what the run started, last first; and what a run that
// failed before it served leaves behind (the start-failure record, first boot reads it).
import { ExitCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import {
  failedStepName,
  startFailureOf,
  writeStartFailure,
  type StartStage,
} from '../start-failure.js';

/** Runs cleanups in reverse order of registration; each one runs once, errors are logged. */
export class CleanupStack {
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

/** Resolves once `signal` aborts (at once when it already has). */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Serves until `signal` aborts; calls `onStopping`, logs why, and returns the exit code. */
export async function serveUntilAborted(
  signal: AbortSignal,
  logger: Logger,
  onStopping: () => void,
): Promise<number> {
  await waitForAbort(signal);
  onStopping();
  logger.log('info', 'agent.stop', { reason: String((signal.reason as Error)?.message ?? '') });
  return ExitCode.ok;
}

/** Where the run was when it failed, and what it needs to record it. */
export interface FailedRun {
  signal: AbortSignal;
  logger: Logger;
  root: string;
  /** The start stage; undefined once serving (then nothing is recorded). */
  stage: StartStage | undefined;
  installStep: string | undefined;
  now: () => Date;
}

/**
 * Ends a run that threw: interrupted while starting returns ExitCode.interrupted; otherwise it logs
 * the error, writes the start-failure record when the agent was still starting, and rethrows.
 */
export function endFailedRun(error: unknown, run: FailedRun): number {
  if (run.signal.aborted) {
    run.logger.log('info', 'agent.stop', { reason: 'interrupted while starting' });
    return ExitCode.interrupted;
  }
  run.logger.log('error', 'agent.failed', {
    error: error instanceof Error ? error.message : String(error),
  });
  if (run.stage) {
    const step = failedStepName(run.stage, run.installStep);
    writeStartFailure(run.root, startFailureOf(step, error, run.now()));
  }
  throw error;
}
