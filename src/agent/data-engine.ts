// The data side of the agent, from the data-sync engine: syncs, the cron schedule with retries and
// jitter, and the verified webhook whose deliveries coalesce into one sync at a time.
import {
  createCoalescingTrigger,
  createDataSync,
  createWebhookHandler,
  startSyncSchedule,
  type DataSync,
  type DataSyncOptions,
} from '../../data-sync/src/index.js';
import { durationMs } from '../lib/duration.js';
import type { WebhookHandler } from '../serve/types.js';

/** Scheduled syncs, once started: stop them, or ask when the next one runs. */
export interface DataSchedule {
  stop(): void | Promise<void>;
  nextRun(): Date | undefined;
}

/** The data engine as the agent uses it: syncs, plus the schedule and webhook built on them. */
export interface DataEngine {
  sync: DataSync;
  /** Starts scheduled syncs (recipe data.schedule); undefined without a schedule. */
  startSchedule?: () => DataSchedule;
  /** The verified push webhook (recipe data.webhook); undefined without one. */
  webhook?: WebhookHandler;
}

/** The real data engine for a recipe's data section; `signal` interrupts webhook syncs on shutdown. */
export function createDataEngine(options: DataSyncOptions, signal?: AbortSignal): DataEngine {
  const { data, logger } = options;
  const sync = createDataSync(options);
  const engine: DataEngine = { sync };
  if (data.schedule) {
    const schedule = data.schedule;
    engine.startSchedule = () =>
      startSyncSchedule({
        sync,
        schedule,
        jitterMs: durationMs(data.jitter),
        retries: data.retries,
        logger,
        ...(options.now ? { now: options.now } : {}),
      });
  }
  if (data.webhook) {
    const trigger = createCoalescingTrigger(
      () => sync.sync('webhook', signal ? { signal } : {}),
      (error) =>
        logger.log('warn', 'data.webhook.sync-failed', { error: (error as Error).message }),
    );
    engine.webhook = createWebhookHandler({
      secretFile: data.webhook.secret_file,
      trigger: () => trigger.trigger(),
      logger,
    });
  }
  return engine;
}
