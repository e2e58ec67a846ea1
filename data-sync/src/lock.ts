// The sync lock: one sync at a time per data folder, across processes. A PID lock
// (src/lib/pid-lock.ts) that also holds a token. A live owner is waited for (bounded); a lock whose
// owner is dead (PID gone, a zombie, or reused by another process) is taken over, and the child
// processes the dead owner left behind (a git fetch, a tar) are killed first, so they cannot write
// under the new owner's feet. A lock that cannot be read is taken over once it is old.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Logger } from '../../src/lib/log.js';
import {
  childRecorder,
  createLockFile,
  identifyProcess,
  isProcessAlive,
  readLockFile,
  takeOverStaleLock,
  unlinkQuietly,
  type TokenOwner,
} from '../../src/lib/pid-lock.js';
import { SyncFailure } from './failure.js';
import type { DataLayout } from './layout.js';

/** What the lock file holds. */
export interface LockOwner extends TokenOwner {
  since: string;
}

/** A held lock. Children started while it is held are recorded for a possible take-over. */
export interface SyncLock {
  owner: LockOwner;
  trackChild(pid: number): void;
  untrackChild(pid: number): void;
  /** Whether the lock file still names this owner. */
  stillHeld(): boolean;
  release(): void;
}

/** How old an unreadable lock must be before it is taken over (a writer may be mid-way). */
const UNREADABLE_LOCK_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes a dead owner's lock out of the way, after killing what it left running. */
async function takeOver(
  layout: DataLayout,
  stale: LockOwner | undefined,
  logger: Logger,
): Promise<void> {
  await takeOverStaleLock(layout.lock, layout.lockChildren, stale, {
    onTaken: () =>
      logger.log('warn', 'data.lock.stale', { pid: stale?.pid ?? 0, since: stale?.since ?? '' }),
    onKill: (pid) =>
      logger.log('warn', 'data.lock.orphan-killed', { pid, ownerPid: stale?.pid ?? 0 }),
  });
}

/** Takes the lock of a data folder, waiting up to `waitMs` for a live owner to finish. */
export async function acquireSyncLock(
  layout: DataLayout,
  options: { waitMs: number; logger: Logger; now?: () => Date; signal?: AbortSignal },
): Promise<SyncLock> {
  const token = randomBytes(8).toString('hex');
  const owner: LockOwner = {
    ...identifyProcess(process.pid),
    token,
    since: (options.now?.() ?? new Date()).toISOString(),
  };
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted)
      throw new SyncFailure('lock', 'interrupted while waiting for the sync lock');
    try {
      if (createLockFile(layout.lock, owner)) break;
    } catch (error) {
      // Our temp file was swept by another owner's recovery between write and link: try again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() >= deadline) throw error;
      continue;
    }
    const holder = readLockFile<LockOwner>(layout.lock);
    if (holder === undefined) {
      // Unreadable: a lock file damaged by hand or by a full disk. Old enough, it is taken over.
      let age: number;
      try {
        age = Date.now() - statSync(layout.lock).mtimeMs;
      } catch {
        continue; // removed meanwhile
      }
      if (age > UNREADABLE_LOCK_MS) {
        await takeOver(layout, undefined, options.logger);
        continue;
      }
    } else if (!isProcessAlive(holder)) {
      await takeOver(layout, holder, options.logger);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new SyncFailure(
        'lock',
        `another sync holds ${layout.lock}${holder ? ` (pid ${holder.pid}, since ${holder.since})` : ''}`,
        'wait for it to finish; a lock whose process has died is taken over automatically',
      );
    }
    await sleep(Math.min(250, 25 * (attempt + 1)));
  }

  const recorder = childRecorder(layout.lockChildren, token);
  const holdsIt = () => readLockFile<LockOwner>(layout.lock)?.token === token;
  let released = false;
  return {
    owner,
    ...recorder,
    stillHeld: holdsIt,
    release() {
      if (released) return;
      released = true;
      if (holdsIt()) {
        unlinkQuietly(layout.lockChildren);
        unlinkQuietly(layout.lock);
      }
    },
  };
}
