// Rollback: point `current` back at the previous kept version (prune-plan.ts picks it) and hold
// the version it leaves, so a sync does not publish it again until the source moves on.
import type { SyncResult } from '../api.js';
import { SyncFailure } from '../failure.js';
import { readJournal, withCurrent, withRollback, writeJournal } from '../journal.js';
import { planRollback } from '../prune-plan.js';
import { listVersions, readCurrent, swapCurrent } from '../store.js';
import { resultOf, type Attempt, type AttemptStart, type EngineContext } from './attempt.js';
import { announceSwap, notifyAndReport } from './publish-version.js';

/** Rolls back under the attempt's lock; throws SyncFailure when there is nothing to go back to. */
export async function rollBack(
  ctx: EngineContext,
  attempt: Attempt,
  start: AttemptStart,
): Promise<SyncResult> {
  const { layout, data } = ctx;
  attempt.phase = 'rollback';
  const previous = readCurrent(layout)?.commit;
  if (previous) start.previous = previous;
  const journal = withCurrent(readJournal(layout), previous, start.startedAt.toISOString());
  const target = planRollback({ versions: listVersions(layout), current: previous, journal });
  if (!target || !previous) {
    throw new SyncFailure(
      'rollback',
      previous
        ? `no earlier version is kept in ${layout.versions} to roll back to`
        : 'no version is served yet, so there is nothing to roll back',
      previous
        ? `data.keep (now ${data.keep}) sets how many previous versions are kept`
        : undefined,
    );
  }
  if (!attempt.lock.stillHeld()) throw new SyncFailure('lock', 'the sync lock was taken over');
  swapCurrent(layout, target);
  announceSwap(ctx, target);
  writeJournal(layout, withRollback(journal, previous, target, ctx.now().toISOString()));
  const result = resultOf(ctx, start, { outcome: 'rolled-back' });
  ctx.logger.log('info', 'data.rolled-back', { commit: target, from: previous });
  return notifyAndReport(ctx, result, target);
}
