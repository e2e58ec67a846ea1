// The data-sync engine: one sync = lock, recover, ask the host, fetch, verify, stage, transform,
// check, publish (one rename), then journal, prune, notify. A failure at any step leaves `current`
// as it was. See README.md for the on-disk contract.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LogFields } from '../../src/lib/log.js';
import type {
  DataSync,
  DataSyncOptions,
  SyncCallOptions,
  SyncHealth,
  SyncResult,
  VersionLfs,
  VersionManifest,
  VersionSubmodule,
} from './api.js';
import { runChecks } from './check.js';
import { execCommand, type Exec } from './exec.js';
import { redactCredentials, SyncFailure, type SyncPhase } from './failure.js';
import { createGit, type Git } from './git.js';
import { readJournal, withCurrent, withPublish, withRollback, writeJournal } from './journal.js';
import { dataLayout, versionDir } from './layout.js';
import { createBudget, resolveLimits, type ExtractBudget } from './limits.js';
import {
  assertLfsContent,
  assertLfsInstalled,
  assertNoLfsWithoutOptIn,
  cachedObjects,
  chargeLfs,
  explainCheckoutFailure,
  planVersionLfs,
  pruneLfsStore,
} from './lfs.js';
import { lfsEndpoint, type LfsPlan } from './lfs-plan.js';
import { composeVersion } from './submodules.js';
import { assertVersionContained } from './link-check.js';
import { acquireSyncLock, type SyncLock } from './lock.js';
import { notifyService } from './notify.js';
import { planPrune, planRollback } from './prune-plan.js';
import { configureRepo, ensureRepo, fetchCommit, resolveRemote } from './repo.js';
import {
  dropStaging,
  emptyTrash,
  finalizeStaging,
  listVersions,
  readCurrent,
  readManifest,
  recoverLeftovers,
  recycleVersion,
  swapCurrent,
  trashVersion,
  writeNextManifest,
} from './store.js';
import { createStaticSource, type StaticTarget } from './static-source.js';
import { applyTransforms } from './transform.js';
import { verifyCommit, writeAllowedSigners } from './verify.js';

const HISTORY_SIZE = 50;

/** Everything one sync attempt needs, bound to the lock it holds. */
interface Attempt {
  lock: SyncLock;
  git: Git;
  exec: Exec;
  signal: AbortSignal | undefined;
  phase: SyncPhase;
}

/** Creates the engine for one data folder. */
export function createDataSync(options: DataSyncOptions): DataSync {
  const layout = dataLayout(options.dir);
  const data = options.data;
  const now = options.now ?? (() => new Date());
  const logger = options.logger;
  const baseExec = options.exec ?? execCommand;
  const placeholders = { state: path.dirname(layout.dir), ...(options.placeholders ?? {}) };
  const commandEnv: NodeJS.ProcessEnv = { ...process.env };
  const remoteMemory: { tagRef?: boolean } = {};
  // data.source.static: versions come from a static mirror; an unchanged poll runs no git at all.
  const staticSource = data.source?.static ? createStaticSource({ layout, data }) : undefined;
  let configured = false;
  const history: SyncResult[] = [];
  let consecutiveFailures = 0;
  let lastSuccessAt: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs one operation at a time in this process (the file lock covers other processes). */
  function serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  }

  function record(result: SyncResult, call: SyncCallOptions = {}): SyncResult {
    history.unshift(result);
    history.length = Math.min(history.length, HISTORY_SIZE);
    if (result.outcome === 'failed') {
      if (!call.retry || consecutiveFailures === 0) consecutiveFailures += 1;
    } else {
      consecutiveFailures = 0;
      lastSuccessAt = result.finishedAt;
    }
    return result;
  }

  async function lockAndPrepare(signal: AbortSignal | undefined): Promise<Attempt> {
    mkdirSync(layout.dir, { recursive: true });
    const lock = await acquireSyncLock(layout, {
      waitMs: options.lockWaitMs ?? 30_000,
      logger,
      now,
      ...(signal ? { signal } : {}),
    });
    const exec: Exec = (argv, o = {}) =>
      baseExec(argv, {
        ...o,
        onSpawn: (pid) => {
          lock.trackChild(pid);
          o.onSpawn?.(pid);
        },
        onExit: (pid) => {
          lock.untrackChild(pid);
          o.onExit?.(pid);
        },
      });
    const git = createGit({
      repo: layout.repo,
      exec,
      ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
      ...(signal ? { signal } : {}),
      defaultTimeoutMs: options.gitTimeoutMs ?? 10 * 60_000,
    });
    const removed = recoverLeftovers(layout);
    if (removed.length) logger.log('info', 'data.recovered', { removed });
    await emptyTrash(layout);
    return { lock, git, exec, signal, phase: 'fetch' };
  }

  function finish(
    base: { trigger: SyncResult['trigger']; startedAt: Date; t0: number; previous?: string },
    fields: Partial<SyncResult> & Pick<SyncResult, 'outcome'>,
  ): SyncResult {
    const finishedAt = now();
    const current = readCurrent(layout)?.commit;
    return {
      ...(current ? { commit: current } : {}),
      ...(base.previous ? { previous: base.previous } : {}),
      startedAt: base.startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: Math.round(performance.now() - base.t0),
      trigger: base.trigger,
      ...fields,
    };
  }

  /** Tells the owner that `current` changed; its failure is logged, never undoes the swap. */
  function swapped(commit: string): void {
    try {
      options.onSwap?.(commit);
    } catch (error) {
      logger.log('warn', 'data.on-swap.failed', { commit, error: (error as Error).message });
    }
  }

  /** Swaps `current` to `commit` (checking the lock is still ours), then journal and prune. */
  async function publish(attempt: Attempt, commit: string): Promise<void> {
    attempt.phase = 'publish';
    if (!attempt.lock.stillHeld()) {
      throw new SyncFailure(
        'lock',
        'the sync lock was taken over by another process; not publishing',
      );
    }
    swapCurrent(layout, commit);
    swapped(commit);
    writeJournal(layout, withPublish(readJournal(layout), commit, now().toISOString()));
  }

  /** Keeps current + `keep` previous versions, recycles one idle folder for the next build, deletes the rest. */
  async function prune(git: Git): Promise<void> {
    const plan = planPrune({
      versions: listVersions(layout),
      current: readCurrent(layout)?.commit,
      journal: readJournal(layout),
      keep: data.keep,
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

  /** What a build checks out and records besides the commit: submodules and LFS (data.lfs). */
  interface BuildInput {
    commit: string;
    /** The commit, or the tree composed with its submodules. */
    treeish: string;
    submodules?: VersionSubmodule[];
    lfs?: { plan: LfsPlan; cached: Set<string>; endpoint: string };
    budget: ExtractBudget;
  }

  /** Builds the version of `commit` in staging/next, reusing what is there: git writes only what differs. */
  async function build(
    attempt: Attempt,
    input: BuildInput,
  ): Promise<{ reused: boolean; lfs?: VersionLfs }> {
    const { commit, lfs } = input;
    attempt.phase = 'checkout';
    mkdirSync(layout.staging, { recursive: true });
    const reused = existsSync(layout.next);
    if (!reused) mkdirSync(layout.next);
    const tree = { workTree: layout.next, index: layout.nextIndex };
    const hint = 'is the disk full? see the message above';
    // Leftovers of the transforms the folder went through before (untracked files) go first; then
    // the index (which knows what the folder holds) is moved to the new commit, touching changed files only.
    // With data.lfs, git runs the LFS filter on the files it writes: their objects are downloaded.
    if (reused) await attempt.git.ok('checkout', ['clean', '-ffdxq'], { ...tree, hint });
    try {
      await attempt.git.ok('checkout', ['read-tree', '--reset', '-u', input.treeish], {
        ...tree,
        hint,
      });
    } catch (error) {
      throw lfs ? explainCheckoutFailure(layout, lfs.plan, error, lfs.endpoint) : error;
    }
    let lfsFigures: VersionLfs | undefined;
    if (lfs) {
      attempt.phase = 'lfs';
      assertLfsContent(layout.next, lfs.plan);
      const now = cachedObjects(layout, lfs.plan);
      lfsFigures = {
        files: lfs.plan.inside.length,
        objects: lfs.plan.objects,
        bytes: lfs.plan.bytes,
        downloaded: [...now].filter((oid) => !lfs.cached.has(oid)).length,
        outsideSparse: lfs.plan.outside.length,
        outsideSparseBytes: lfs.plan.outsideBytes,
      };
    } else {
      assertNoLfsWithoutOptIn(layout.next);
    }
    attempt.phase = 'transform';
    const context = {
      root: layout.next,
      exec: attempt.exec,
      placeholders,
      env: commandEnv,
      ...(attempt.signal ? { signal: attempt.signal } : {}),
    };
    if (data.transform.length > 0) {
      // A `run` command must not be led out of the version by a link the data repo committed
      // (extract, copy and move guard their own paths; the check after the transforms sees all).
      if (data.transform.some((t) => t.run)) await assertVersionContained(layout.next);
      await applyTransforms(data.transform, context, {
        scratch: layout.staging,
        limits: input.budget.limits,
        budget: input.budget,
      });
    }
    attempt.phase = 'check';
    await runChecks(data.check, context);
    attempt.phase = 'publish';
    const manifest: VersionManifest = {
      commit,
      ...(input.submodules ? { submodules: input.submodules } : {}),
      ...(lfsFigures ? { lfs: lfsFigures } : {}),
    };
    if (manifest.submodules || manifest.lfs) writeNextManifest(layout, manifest);
    finalizeStaging(layout, commit);
    return { reused, ...(lfsFigures ? { lfs: lfsFigures } : {}) };
  }

  /** Fetches the submodules, plans LFS and charges its bytes: what the build of `commit` needs. */
  async function prepareBuild(attempt: Attempt, commit: string): Promise<BuildInput> {
    const { git } = attempt;
    const budget = createBudget(resolveLimits(data.limits));
    let input: BuildInput = { commit, treeish: commit, budget };
    if (data.submodules) {
      attempt.phase = 'submodules';
      const composed = await composeVersion(git, layout, data, commit);
      input = { ...input, treeish: composed.treeish, submodules: composed.submodules };
    }
    if (data.lfs) {
      attempt.phase = 'lfs';
      const endpoint = lfsEndpoint(data.repo);
      if (!endpoint) {
        throw new SyncFailure(
          'lfs',
          `data.lfs needs an LFS server, but data.repo ${redactCredentials(data.repo)} is a local path`,
          'serve the data repo over https:// (or ssh://) from a host that has Git LFS',
        );
      }
      await assertLfsInstalled(git);
      const plan = await planVersionLfs(git, input.treeish, data.sparse);
      chargeLfs(plan, budget);
      input.lfs = { plan, cached: cachedObjects(layout, plan), endpoint };
    }
    return input;
  }

  async function notifyAndReport(result: SyncResult, commit: string): Promise<SyncResult> {
    const dir = versionDir(layout, commit);
    let notifyError: string | undefined;
    // The first version of a start-up is published before the service runs: nothing to tell yet.
    const tellService = result.trigger !== 'startup';
    try {
      if (tellService)
        await notifyService(data.notify, {
          ...(options.servicePid ? { servicePid: options.servicePid } : {}),
          exec: baseExec,
          placeholders,
          env: commandEnv,
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

  async function syncOnce(
    trigger: SyncResult['trigger'],
    call: SyncCallOptions,
  ): Promise<SyncResult> {
    const startedAt = now();
    const t0 = performance.now();
    const base: Parameters<typeof finish>[0] = { trigger, startedAt, t0 };
    let attempt: Attempt | undefined;
    try {
      attempt = await lockAndPrepare(call.signal);
      // Read under the lock: another process may have published while this one waited.
      const previous = readCurrent(layout)?.commit;
      if (previous) base.previous = previous;
      const { git } = attempt;
      const prepareCache = async () => {
        if (await ensureRepo(git, layout)) configured = false;
        if (!configured) {
          await configureRepo(git, layout, data);
          configured = true;
        }
      };
      let journal = withCurrent(readJournal(layout), previous, startedAt.toISOString());
      let staticTarget: StaticTarget | undefined;
      let commit: string;
      let target: Awaited<ReturnType<typeof resolveRemote>> | undefined;
      if (staticSource) {
        // The cache is touched only when there is something to fetch.
        staticTarget = await staticSource.poll(call.signal);
        commit = staticTarget.commit;
      } else {
        await prepareCache();
        target = await resolveRemote(git, data, remoteMemory);
        commit = target.commit;
      }
      const decide = () => {
        if (commit === previous) return 'unchanged' as const;
        if (journal.held === commit) return 'held' as const;
        return existsSync(versionDir(layout, commit)) ? ('republish' as const) : ('build' as const);
      };
      let decision = decide();
      if (decision === 'build' && staticSource && staticTarget) {
        if (!staticTarget.pointer) {
          // A 304 for a commit that is neither served nor kept (its folder went): ask again in full.
          staticSource.forget();
          staticTarget = await staticSource.poll(call.signal);
          commit = staticTarget.commit;
          decision = decide();
        }
        if (decision === 'build') {
          await prepareCache();
          commit = await staticSource.fetch(git, staticTarget, previous, call.signal);
          decision = decide();
        }
      } else if (decision === 'build' && target) {
        commit = await fetchCommit(git, layout, data, target);
        decision = decide();
      }
      if (journal.held && journal.held !== commit) {
        // The remote moved on since the rollback: the hold is over.
        journal = { published: journal.published };
        writeJournal(layout, journal);
      }
      if (decision === 'unchanged' || decision === 'held') {
        const note =
          decision === 'held'
            ? `held: ${commit.slice(0, 12)} was rolled back; waiting for a new commit`
            : undefined;
        if (staticTarget) staticSource?.remember(staticTarget);
        const result = finish(base, { outcome: 'unchanged', ...(note ? { note } : {}) });
        logger.log('debug', 'data.unchanged', { commit, trigger, durationMs: result.durationMs });
        return record(result, call);
      }
      let reusedFolder = false;
      let built: BuildInput | undefined;
      let lfsFigures: VersionLfs | undefined;
      if (decision === 'build') {
        if (data.verify) {
          attempt.phase = 'verify';
          writeAllowedSigners(layout.allowedSigners, data.verify.allowed_signers);
          await verifyCommit(git, commit, layout.allowedSigners);
        }
        built = await prepareBuild(attempt, commit);
        const done = await build(attempt, built);
        reusedFolder = done.reused;
        lfsFigures = done.lfs;
      }
      await publish(attempt, commit);
      if (staticTarget) staticSource?.remember(staticTarget);
      const servedAfterMs = Math.round(performance.now() - t0);
      try {
        await prune(git);
        // The cache keeps the served version's LFS objects only (a reused folder may need them).
        if (built?.lfs) pruneLfsStore(layout, new Set(built.lfs.plan.inside.map((p) => p.oid)));
      } catch (error) {
        // Published already: a prune that fails (and is retried next time) does not undo that.
        logger.log('warn', 'data.prune.failed', { error: (error as Error).message });
      }
      const result = finish(base, {
        outcome: 'published',
        servedAfterMs,
        reusedFolder,
        ...(decision === 'republish' ? { note: 'republished a kept version' } : {}),
        ...(built?.submodules ? { submodules: built.submodules } : {}),
        ...(lfsFigures ? { lfs: lfsFigures } : {}),
      });
      logger.log('info', 'data.published', {
        commit,
        previous,
        trigger,
        durationMs: result.durationMs,
        servedAfterMs,
        reusedFolder,
        republished: decision === 'republish',
        ...(built?.submodules?.length
          ? { submodules: built.submodules.map((m) => `${m.path}@${m.commit.slice(0, 12)}`) }
          : {}),
        ...(lfsFigures ? { lfsFiles: lfsFigures.files, lfsDownloaded: lfsFigures.downloaded } : {}),
      });
      await gcCache(git);
      return record(await notifyAndReport(result, commit), call);
    } catch (error) {
      return record(await fail(base, attempt, error, trigger), call);
    } finally {
      attempt?.lock.release();
    }
  }

  async function gcCache(git: Git): Promise<void> {
    const result = await git.run([
      '-c',
      'gc.autoDetach=false',
      '-c',
      'gc.auto=6700',
      'gc',
      '--auto',
      '--quiet',
    ]);
    if (result.code !== 0) logger.log('warn', 'data.gc.failed', { error: result.stderr.trim() });
  }

  async function fail(
    base: Parameters<typeof finish>[0],
    attempt: Attempt | undefined,
    error: unknown,
    trigger: SyncResult['trigger'],
  ): Promise<SyncResult> {
    const failure =
      error instanceof SyncFailure
        ? error
        : new SyncFailure(
            attempt?.phase ?? 'lock',
            redactCredentials((error as Error)?.message ?? String(error)),
          );
    let message = failure.message;
    if (attempt?.signal?.aborted) message = `interrupted (${message})`;
    // git says "unable to write file X" when the disk is full (without the errno).
    const noSpace = /ENOSPC|No space left|EDQUOT|quota|unable to write|short write/i.test(message);
    if (noSpace && attempt) {
      // Free the space the half-built version took; the served one is untouched.
      await dropStaging(layout).catch(() => undefined);
    }
    const result = finish(base, {
      outcome: 'failed',
      phase: failure.phase,
      error: message,
      ...(failure.hint || noSpace
        ? { hint: noSpace ? 'the disk may be full: free space on the data volume' : failure.hint }
        : {}),
    });
    const fields: LogFields = {
      trigger,
      phase: failure.phase,
      error: message,
      commit: result.commit,
    };
    logger.log('warn', 'data.sync.failed', fields);
    return result;
  }

  async function rollbackOnce(): Promise<SyncResult> {
    const startedAt = now();
    const t0 = performance.now();
    const base: Parameters<typeof finish>[0] = { trigger: 'manual', startedAt, t0 };
    let attempt: Attempt | undefined;
    try {
      attempt = await lockAndPrepare(undefined);
      attempt.phase = 'rollback';
      const previous = readCurrent(layout)?.commit;
      if (previous) base.previous = previous;
      const journal = withCurrent(readJournal(layout), previous, startedAt.toISOString());
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
      swapped(target);
      writeJournal(layout, withRollback(journal, previous, target, now().toISOString()));
      const result = finish(base, { outcome: 'rolled-back' });
      logger.log('info', 'data.rolled-back', { commit: target, from: previous });
      return record(await notifyAndReport(result, target));
    } catch (error) {
      return record(await fail(base, attempt, error, 'manual'));
    } finally {
      attempt?.lock.release();
    }
  }

  return {
    sync: (trigger, call = {}) => serialize(() => syncOnce(trigger, call)),
    rollback: () => serialize(() => rollbackOnce()),
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
    history: () => [...history],
    health(): SyncHealth {
      return {
        healthy: consecutiveFailures < data.failure_budget,
        consecutiveFailures,
        ...(lastSuccessAt ? { lastSuccessAt } : {}),
      };
    },
  };
}
