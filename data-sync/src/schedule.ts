// Scheduled pulls: node-cron with the recipe's expression, a random per-instance delay (chosen once,
// so a fleet spreads its pulls over the jitter window), no overlapping runs, and retries with
// exponential backoff. The failure budget lives on the DataSync (`health()`), which counts a run and
// its retries as one failure.
import cron from 'node-cron';
import { backoffDelay } from '../../src/lib/backoff.js';
import type { Logger } from '../../src/lib/log.js';
import type { DataSync } from './api.js';

export interface SyncScheduleOptions {
  sync: Pick<DataSync, 'sync'>;
  /** A cron expression, 5 fields or 6 (with seconds). */
  schedule: string;
  /** Upper bound of this instance's random delay after each cron time. */
  jitterMs?: number;
  /** Retries of a failed run. */
  retries?: number;
  /** First retry delay; doubled each retry, up to maxBackoffMs (default 30 s, 10 min). */
  backoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
  now?: () => Date;
  /** Random numbers in [0, 1) for the jitter and backoff spread. */
  random?: () => number;
  timezone?: string;
}

export interface SyncSchedule {
  /** Stops the schedule and interrupts a running sync (its `current` stays intact); resolves when idle. */
  stop(): Promise<void>;
  /** When the next scheduled sync starts (cron time plus this instance's delay). */
  nextRun(): Date | undefined;
  /** This instance's delay after each cron time, in ms. */
  readonly delayMs: number;
}

/** Starts running `sync('schedule')` on the cron schedule. */
export function startSyncSchedule(options: SyncScheduleOptions): SyncSchedule {
  if (!cron.validate(options.schedule)) {
    throw new Error(`not a cron expression: ${JSON.stringify(options.schedule)}`);
  }
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const logger = options.logger;
  const delayMs = Math.floor(random() * Math.max(0, options.jitterMs ?? 0));
  const retries = options.retries ?? 3;
  const backoffMs = options.backoffMs ?? 30_000;
  const maxBackoffMs = options.maxBackoffMs ?? 10 * 60_000;
  const controller = new AbortController();
  let running: Promise<void> | undefined;
  let waitingUntil: Date | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (controller.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        resolve();
      }
      controller.signal.addEventListener('abort', done, { once: true });
    });

  async function runOnce(): Promise<void> {
    if (delayMs > 0) {
      waitingUntil = new Date(now().getTime() + delayMs);
      await sleep(delayMs);
      waitingUntil = undefined;
    }
    for (let attempt = 0; attempt <= retries && !controller.signal.aborted; attempt++) {
      const result = await options.sync.sync('schedule', {
        retry: attempt > 0,
        signal: controller.signal,
      });
      if (result.outcome !== 'failed' || controller.signal.aborted) return;
      if (attempt === retries) {
        logger.log('error', 'data.schedule.gave-up', {
          attempts: attempt + 1,
          error: result.error,
        });
        return;
      }
      const delay = backoffDelay(attempt + 1, { baseMs: backoffMs, capMs: maxBackoffMs, random });
      logger.log('warn', 'data.schedule.retry', {
        attempt: attempt + 1,
        inMs: delay,
        error: result.error,
      });
      await sleep(delay);
    }
  }

  const task = cron.schedule(
    options.schedule,
    () => {
      if (running) {
        logger.log('warn', 'data.schedule.skipped', { reason: 'the previous run is still going' });
        return;
      }
      running = runOnce().finally(() => (running = undefined));
      return running;
    },
    {
      name: 'gitstrap-data-sync',
      noOverlap: true,
      ...(options.timezone ? { timezone: options.timezone } : {}),
    },
  );
  logger.log('info', 'data.schedule.started', { schedule: options.schedule, delayMs });

  return {
    delayMs,
    nextRun() {
      if (waitingUntil) return waitingUntil;
      const next = task.getNextRun();
      return next ? new Date(next.getTime() + delayMs) : undefined;
    },
    async stop() {
      controller.abort();
      await task.destroy();
      await running;
    },
  };
}
