// Phase "prune": after a publish, keep current and data.keep previous versions, recycle one idle
// folder for the next build, delete the rest, drop LFS objects no longer served, and let git pack
// the cache. A prune that fails is logged and retried next time; it never undoes the publish.
import { existsSync } from 'node:fs';
import type { Git } from '../git.js';
import { readJournal } from '../journal.js';
import type { LfsPlan } from '../lfs-plan.js';
import { pruneLfsStore } from '../lfs.js';
import { planPrune } from '../prune-plan.js';
import { emptyTrash, listVersions, readCurrent, recycleVersion, trashVersion } from '../store.js';
import type { EngineContext } from './attempt.js';

/** Prunes versions (and, with data.lfs, the LFS objects `servedLfs` does not use); logs a failure. */
export async function pruneAfterPublish(
  ctx: EngineContext,
  git: Git,
  servedLfs: LfsPlan | undefined,
): Promise<void> {
  try {
    await pruneVersions(ctx, git);
    // The cache keeps the served version's LFS objects only (a reused folder may need them).
    if (servedLfs) pruneLfsStore(ctx.layout, new Set(servedLfs.inside.map((p) => p.oid)));
  } catch (error) {
    // Published already: a prune that fails (and is retried next time) does not undo that.
    ctx.logger.log('warn', 'data.prune.failed', { error: (error as Error).message });
  }
}

/** Keeps current + `keep` previous versions, recycles one idle folder for the next build, deletes the rest. */
export async function pruneVersions(ctx: EngineContext, git: Git): Promise<void> {
  const { layout, logger } = ctx;
  const plan = planPrune({
    versions: listVersions(layout),
    current: readCurrent(layout)?.commit,
    journal: readJournal(layout),
    keep: ctx.data.keep,
    spareExists: existsSync(layout.next),
  });
  if (plan.recycle) {
    recycleVersion(layout, plan.recycle);
    // Files written in the same second as their index are "racily clean": git cannot trust
    // their stat data and would rewrite them at the next build. Refreshing the index now (off
    // the publish path, seconds later) records their stat data, so the next build writes only
    // what changed.
    if (existsSync(layout.nextIndex)) {
      await git.run(['update-index', '-q', '--refresh'], {
        workTree: layout.next,
        index: layout.nextIndex,
      });
    }
  }
  for (const commit of plan.remove) trashVersion(layout, commit);
  if (plan.recycle || plan.remove.length) {
    logger.log('debug', 'data.pruned', { recycled: plan.recycle, removed: plan.remove });
  }
  await emptyTrash(layout);
}

/** Lets git pack the fetch cache when it has grown (gc --auto); a failure is logged. */
export async function gcCache(ctx: EngineContext, git: Git): Promise<void> {
  const result = await git.run([
    '-c',
    'gc.autoDetach=false',
    '-c',
    'gc.auto=6700',
    'gc',
    '--auto',
    '--quiet',
  ]);
  if (result.code !== 0) ctx.logger.log('warn', 'data.gc.failed', { error: result.stderr.trim() });
}
