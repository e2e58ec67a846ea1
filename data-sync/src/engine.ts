// The data-sync engine: one sync = lock, plan, fetch, stage, transform, check, publish (one rename),
// then prune and notify. A failure at any phase leaves `current` as it was. Each phase is a function
// in phases/ with its inputs and outputs; this file runs them in order, one sync at a time. See
// README.md for the on-disk contract.
import type { DataSync, DataSyncOptions, SyncCallOptions, SyncResult } from './api.js';
import { readJournal, withCurrent, writeJournal } from './journal.js';
import {
  beginAttempt,
  engineContext,
  failedResult,
  resultOf,
  startClock,
  type Attempt,
  type AttemptStart,
  type EngineContext,
} from './phases/attempt.js';
import { checkStaged } from './phases/check-version.js';
import { fetchTarget, verifyFetched, type RepoCache } from './phases/fetch-target.js';
import { endedHold, unchangedNote } from './phases/plan-sync.js';
import { gcCache, pruneAfterPublish } from './phases/prune-versions.js';
import {
  finalizeVersion,
  notifyAndReport,
  publishedResult,
  publishVersion,
} from './phases/publish-version.js';
import { rollBack } from './phases/roll-back.js';
import {
  prepareStage,
  stageVersion,
  type Staged,
  type StageInput,
} from './phases/stage-version.js';
import { transformStaged } from './phases/transform-version.js';
import { createStaticSource, type StaticSource } from './static-source.js';
import { readCurrent, readManifest } from './store.js';
import { createSyncHistory } from './sync-history.js';

/** Creates the engine for one data folder. */
export function createDataSync(options: DataSyncOptions): DataSync {
  const ctx = engineContext(options);
  const { layout, data } = ctx;
  const cache: RepoCache = { configured: false, remote: {} };
  // data.source.static: versions come from a static mirror; an unchanged poll runs no git at all.
  const staticSource = data.source?.static ? createStaticSource({ layout, data }) : undefined;
  const history = createSyncHistory(data.failure_budget);
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs one operation at a time in this process (the file lock covers other processes). */
  function serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  }

  /** Runs `work` under the sync lock; its failure becomes a failed result. Both are recorded. */
  async function attempt(
    trigger: SyncResult['trigger'],
    call: SyncCallOptions,
    work: (attempt: Attempt, start: AttemptStart) => Promise<SyncResult>,
  ): Promise<SyncResult> {
    const start = startClock(ctx, trigger);
    let current: Attempt | undefined;
    try {
      current = await beginAttempt(ctx, call.signal);
      return history.record(await work(current, start), call);
    } catch (error) {
      return history.record(await failedResult(ctx, start, current, error), call);
    } finally {
      current?.lock.release();
    }
  }

  return {
    sync: (trigger, call = {}) =>
      serialize(() =>
        attempt(trigger, call, (a, start) => syncOnce(ctx, a, start, { cache, staticSource })),
      ),
    rollback: () => serialize(() => attempt('manual', {}, (a, start) => rollBack(ctx, a, start))),
    current() {
      const served = readCurrent(layout);
      if (!served) return undefined;
      const manifest = readManifest(layout, served.commit);
      return {
        ...served,
        ...(manifest?.submodules ? { submodules: manifest.submodules } : {}),
        ...(manifest?.lfs ? { lfs: manifest.lfs } : {}),
      };
    },
    history: () => history.list(),
    health: () => history.health(),
  };
}

/** One sync under the attempt's lock: plan and fetch, build when needed, publish, prune, notify. */
async function syncOnce(
  ctx: EngineContext,
  attempt: Attempt,
  start: AttemptStart,
  source: { cache: RepoCache; staticSource: StaticSource | undefined },
): Promise<SyncResult> {
  const { layout, logger } = ctx;
  // Read under the lock: another process may have published while this one waited.
  const previous = readCurrent(layout)?.commit;
  if (previous) start.previous = previous;
  const journal = withCurrent(readJournal(layout), previous, start.startedAt.toISOString());
  const { commit, decision, staticTarget } = await fetchTarget(ctx, attempt, {
    ...source,
    previous,
    held: journal.held,
  });
  // The source moved on since the rollback: the hold is over.
  const unheld = endedHold(journal, commit);
  if (unheld) writeJournal(layout, unheld);
  if (decision === 'unchanged' || decision === 'held') {
    if (staticTarget) source.staticSource?.remember(staticTarget);
    const note = unchangedNote(decision, commit);
    const result = resultOf(ctx, start, { outcome: 'unchanged', ...(note ? { note } : {}) });
    logger.log('debug', 'data.unchanged', {
      commit,
      trigger: start.trigger,
      durationMs: result.durationMs,
    });
    return result;
  }
  const built = decision === 'build' ? await buildVersion(ctx, attempt, commit) : undefined;
  await publishVersion(ctx, attempt, commit);
  if (staticTarget) source.staticSource?.remember(staticTarget);
  const servedAfterMs = Math.round(performance.now() - start.t0);
  await pruneAfterPublish(ctx, attempt.git, built?.input.lfs?.plan);
  const result = publishedResult(ctx, start, {
    commit,
    decision,
    servedAfterMs,
    reusedFolder: built?.reused ?? false,
    ...(built ? { input: built.input } : {}),
    ...(built?.lfs ? { lfs: built.lfs } : {}),
  });
  await gcCache(ctx, attempt.git);
  return notifyAndReport(ctx, result, commit);
}

/** Verify, stage, transform, check, finalize: the version of `commit` in versions/, not yet served. */
async function buildVersion(
  ctx: EngineContext,
  attempt: Attempt,
  commit: string,
): Promise<Staged & { input: StageInput }> {
  await verifyFetched(ctx, attempt, commit);
  const input = await prepareStage(ctx, attempt, commit);
  const staged = await stageVersion(ctx, attempt, input);
  await transformStaged(ctx, attempt, input.budget);
  await checkStaged(ctx, attempt);
  finalizeVersion(ctx, attempt, input, staged.lfs);
  return { ...staged, input };
}
