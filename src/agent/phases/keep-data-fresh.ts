// Phase "sync": keep the data fresh once the service runs (recipe data.schedule; the webhook is
// live from the first data sync on).
import type { DataEngine, DataSchedule } from '../data-engine.js';
import type { CleanupStack } from './stop.js';

/** Starts the scheduled syncs, when the recipe has a schedule; registers their stop. */
export function keepDataFresh(
  engine: DataEngine | undefined,
  cleanup: CleanupStack,
): DataSchedule | undefined {
  if (!engine?.startSchedule) return undefined;
  const schedule = engine.startSchedule();
  cleanup.push('schedule', () => schedule.stop());
  return schedule;
}
