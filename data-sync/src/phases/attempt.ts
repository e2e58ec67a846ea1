// What every sync phase works with: the engine's context (fixed for its lifetime) and one attempt
// (the sync lock it holds, the git and process runner bound to that lock, and the phase it is in,
// which a failure is reported as). Also how an attempt begins and how its result is written.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger, LogFields } from '../../../src/lib/log.js';
import type { PlaceholderValues } from '../../../src/lib/placeholders.js';
import type { DataConfig } from '../../../src/recipe/schema.js';
import type { DataSyncOptions, SyncResult } from '../api.js';
import { execCommand, type Exec } from '../exec.js';
import { redactCredentials, SyncFailure, type SyncPhase } from '../failure.js';
import { createGit, type Git } from '../git.js';
import { dataLayout, type DataLayout } from '../layout.js';
import { acquireSyncLock, type SyncLock } from '../lock.js';
import { dropStaging, emptyTrash, readCurrent, recoverLeftovers } from '../store.js';
import type { VersionContext } from '../version-command.js';

/** The engine's fixed inputs, derived once from its options. */
export interface EngineContext {
  options: DataSyncOptions;
  layout: DataLayout;
  data: DataConfig;
  logger: Logger;
  now: () => Date;
  /** Runs child processes (not tracked by a lock: notify runs after it is released). */
  exec: Exec;
  /** Values for {state}, {port}, {service} in transform, check and notify commands. */
  placeholders: PlaceholderValues;
  /** The environment transform, check and notify commands run with (never git's credentials). */
  commandEnv: NodeJS.ProcessEnv;
}

/** The context of the engine for `options`. */
export function engineContext(options: DataSyncOptions): EngineContext {
  const layout = dataLayout(options.dir);
  return {
    options,
    layout,
    data: options.data,
    logger: options.logger,
    now: options.now ?? (() => new Date()),
    exec: options.exec ?? execCommand,
    placeholders: { state: path.dirname(layout.dir), ...(options.placeholders ?? {}) },
    commandEnv: { ...process.env },
  };
}

/** One sync or rollback attempt, bound to the lock it holds. */
export interface Attempt {
  lock: SyncLock;
  git: Git;
  exec: Exec;
  signal: AbortSignal | undefined;
  /** The phase the attempt is in: what a failure is reported as. Each phase sets it. */
  phase: SyncPhase;
}

/** When and why an attempt started; the previous commit once it is read under the lock. */
export interface AttemptStart {
  trigger: SyncResult['trigger'];
  startedAt: Date;
  t0: number;
  previous?: string;
}

/** Marks the start of an attempt (before the lock: waiting for it counts). */
export function startClock(ctx: EngineContext, trigger: SyncResult['trigger']): AttemptStart {
  return { trigger, startedAt: ctx.now(), t0: performance.now() };
}

/**
 * Phase "lock": takes the sync lock, binds git and the process runner to it (children are tracked,
 * so a takeover can stop them), removes what a crashed sync left and empties the trash.
 */
export async function beginAttempt(
  ctx: EngineContext,
  signal: AbortSignal | undefined,
): Promise<Attempt> {
  const { layout, options, logger } = ctx;
  mkdirSync(layout.dir, { recursive: true });
  const lock = await acquireSyncLock(layout, {
    waitMs: options.lockWaitMs ?? 30_000,
    logger,
    now: ctx.now,
    ...(signal ? { signal } : {}),
  });
  const exec: Exec = (argv, o = {}) =>
    ctx.exec(argv, {
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

/** What transform and check commands run in: the staged version, under the attempt's lock. */
export function stagedContext(ctx: EngineContext, attempt: Attempt): VersionContext {
  return {
    root: ctx.layout.next,
    exec: attempt.exec,
    placeholders: ctx.placeholders,
    env: ctx.commandEnv,
    ...(attempt.signal ? { signal: attempt.signal } : {}),
  };
}

/** The result of an attempt: the commit served now, the times, and `fields`. */
export function resultOf(
  ctx: EngineContext,
  start: AttemptStart,
  fields: Partial<SyncResult> & Pick<SyncResult, 'outcome'>,
): SyncResult {
  const finishedAt = ctx.now();
  const current = readCurrent(ctx.layout)?.commit;
  return {
    ...(current ? { commit: current } : {}),
    ...(start.previous ? { previous: start.previous } : {}),
    startedAt: start.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: Math.round(performance.now() - start.t0),
    trigger: start.trigger,
    ...fields,
  };
}

/** Whether a failure message says the disk is full (git says "unable to write file X", no errno). */
export function isNoSpace(message: string): boolean {
  return /ENOSPC|No space left|EDQUOT|quota|unable to write|short write/i.test(message);
}

/**
 * The result of an attempt that threw: the phase it was in, the message (credentials removed), a
 * hint; a full disk also drops the half-built version (the served one is untouched).
 */
export async function failedResult(
  ctx: EngineContext,
  start: AttemptStart,
  attempt: Attempt | undefined,
  error: unknown,
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
  const noSpace = isNoSpace(message);
  if (noSpace && attempt) {
    // Free the space the half-built version took; the served one is untouched.
    await dropStaging(ctx.layout).catch(() => undefined);
  }
  const result = resultOf(ctx, start, {
    outcome: 'failed',
    phase: failure.phase,
    error: message,
    ...(failure.hint || noSpace
      ? { hint: noSpace ? 'the disk may be full: free space on the data volume' : failure.hint }
      : {}),
  });
  const fields: LogFields = {
    trigger: start.trigger,
    phase: failure.phase,
    error: message,
    commit: result.commit,
  };
  ctx.logger.log('warn', 'data.sync.failed', fields);
  return result;
}
