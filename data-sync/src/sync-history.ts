// The engine's memory of its recent results, and the failure budget computed from them.
import type { SyncCallOptions, SyncHealth, SyncResult } from './api.js';

/** How many results the history keeps. */
export const HISTORY_SIZE = 50;

export interface SyncHistory {
  /** Records `result` (newest first) and returns it; a failed retry counts once. */
  record(result: SyncResult, call?: SyncCallOptions): SyncResult;
  /** Recent results, newest first. */
  list(): SyncResult[];
  /** Unhealthy after `failureBudget` failed syncs in a row (retries not counted). */
  health(): SyncHealth;
}

/** An empty history for a recipe's data.failure_budget. */
export function createSyncHistory(failureBudget: number, size = HISTORY_SIZE): SyncHistory {
  const history: SyncResult[] = [];
  let consecutiveFailures = 0;
  let lastSuccessAt: string | undefined;
  return {
    record(result, call = {}) {
      history.unshift(result);
      history.length = Math.min(history.length, size);
      if (result.outcome === 'failed') {
        if (!call.retry || consecutiveFailures === 0) consecutiveFailures += 1;
      } else {
        consecutiveFailures = 0;
        lastSuccessAt = result.finishedAt;
      }
      return result;
    },
    list: () => [...history],
    health: () => ({
      healthy: consecutiveFailures < failureBudget,
      consecutiveFailures,
      ...(lastSuccessAt ? { lastSuccessAt } : {}),
    }),
  };
}
