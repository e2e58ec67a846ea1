// Phase "publish": seal the staged version (its manifest, then rename into versions/), swap
// `current` to it by one rename, journal the publish; after the prune, report it and tell the
// service. A failure before the swap leaves `current` as it was.
import type { SyncResult, VersionLfs, VersionManifest } from '../api.js';
import { SyncFailure } from '../failure.js';
import { readJournal, withPublish, writeJournal } from '../journal.js';
import { versionDir } from '../layout.js';
import { notifyService } from '../notify.js';
import { finalizeStaging, swapCurrent, writeNextManifest } from '../store.js';
import { resultOf, type Attempt, type AttemptStart, type EngineContext } from './attempt.js';
import type { SyncDecision } from './plan-sync.js';
import type { StageInput } from './stage-version.js';

/** Writes the manifest (submodules, LFS figures) and moves staging/next to versions/COMMIT. */
export function finalizeVersion(
  ctx: EngineContext,
  attempt: Attempt,
  input: StageInput,
  lfs: VersionLfs | undefined,
): void {
  attempt.phase = 'publish';
  const manifest: VersionManifest = {
    commit: input.commit,
    ...(input.submodules ? { submodules: input.submodules } : {}),
    ...(lfs ? { lfs } : {}),
  };
  if (manifest.submodules || manifest.lfs) writeNextManifest(ctx.layout, manifest);
  finalizeStaging(ctx.layout, input.commit);
}

/** Swaps `current` to `commit` (checking the lock is still ours) and journals the publish. */
export async function publishVersion(
  ctx: EngineContext,
  attempt: Attempt,
  commit: string,
): Promise<void> {
  attempt.phase = 'publish';
  if (!attempt.lock.stillHeld()) {
    throw new SyncFailure(
      'lock',
      'the sync lock was taken over by another process; not publishing',
    );
  }
  swapCurrent(ctx.layout, commit);
  announceSwap(ctx, commit);
  writeJournal(ctx.layout, withPublish(readJournal(ctx.layout), commit, ctx.now().toISOString()));
}

/** Tells the owner that `current` changed; its failure is logged, never undoes the swap. */
export function announceSwap(ctx: EngineContext, commit: string): void {
  try {
    ctx.options.onSwap?.(commit);
  } catch (error) {
    ctx.logger.log('warn', 'data.on-swap.failed', { commit, error: (error as Error).message });
  }
}

/** What a publish is reported with. */
export interface Published {
  commit: string;
  decision: SyncDecision;
  servedAfterMs: number;
  reusedFolder: boolean;
  input?: StageInput;
  lfs?: VersionLfs;
}

/** The result of a publish, logged as data.published. */
export function publishedResult(
  ctx: EngineContext,
  start: AttemptStart,
  published: Published,
): SyncResult {
  const { commit, decision, servedAfterMs, reusedFolder, input, lfs } = published;
  const result = resultOf(ctx, start, {
    outcome: 'published',
    servedAfterMs,
    reusedFolder,
    ...(decision === 'republish' ? { note: 'republished a kept version' } : {}),
    ...(input?.submodules ? { submodules: input.submodules } : {}),
    ...(lfs ? { lfs } : {}),
  });
  ctx.logger.log('info', 'data.published', {
    commit,
    previous: start.previous,
    trigger: start.trigger,
    durationMs: result.durationMs,
    servedAfterMs,
    reusedFolder,
    republished: decision === 'republish',
    ...(input?.submodules?.length
      ? { submodules: input.submodules.map((m) => `${m.path}@${m.commit.slice(0, 12)}`) }
      : {}),
    ...(lfs ? { lfsFiles: lfs.files, lfsDownloaded: lfs.downloaded } : {}),
  });
  return result;
}

/** Tells the service (data.notify; not at start-up) and the owner (onPublish); failures are logged. */
export async function notifyAndReport(
  ctx: EngineContext,
  result: SyncResult,
  commit: string,
): Promise<SyncResult> {
  const { options, logger } = ctx;
  const dir = versionDir(ctx.layout, commit);
  let notifyError: string | undefined;
  // The first version of a start-up is published before the service runs: nothing to tell yet.
  const tellService = result.trigger !== 'startup';
  try {
    if (tellService)
      await notifyService(ctx.data.notify, {
        ...(options.servicePid ? { servicePid: options.servicePid } : {}),
        exec: ctx.exec,
        placeholders: ctx.placeholders,
        env: ctx.commandEnv,
        event: { commit, ...(result.previous ? { previous: result.previous } : {}), dir },
      });
  } catch (error) {
    notifyError = (error as Error).message;
    logger.log('warn', 'data.notify.failed', { commit, error: notifyError });
  }
  const final = notifyError ? { ...result, notifyError } : result;
  try {
    await options.onPublish?.({ ...final, dir });
  } catch (error) {
    logger.log('warn', 'data.on-publish.failed', { commit, error: (error as Error).message });
  }
  return final;
}
