// The publish lock: one publish at a time per publisher state folder, across processes (cron may
// start one while the last still pushes). A PID lock (src/lib/pid-lock.ts) as the agent's and the
// sync's: a live owner is an error naming it (nothing is waited for: the next cron run publishes);
// a dead owner's lock is taken over, after the child processes it left behind (a git push cut off
// mid-way) are killed, so they cannot push an older snapshot after the new one.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import {
  childRecorder,
  createLockFile,
  identifyProcess,
  isProcessAlive,
  readLockFile,
  takeOverStaleLock,
  unlinkQuietly,
  type TokenOwner,
} from '../lib/pid-lock.js';
import { publishFailure } from './errors.js';

/** What the lock file holds. */
export interface PublishLockOwner extends TokenOwner {
  since: string;
}

/** A held lock; children started under it are recorded for a possible take-over. */
export interface PublishLock {
  owner: PublishLockOwner;
  trackChild(pid: number): void;
  untrackChild(pid: number): void;
  release(): void;
}

/** How old an unreadable lock must be before it is taken over (its writer may be mid-way). */
const UNREADABLE_LOCK_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function childrenFile(file: string): string {
  return `${file}.children`;
}

/**
 * Takes the lock at `file`. A live owner: a PublishError naming it. A dead one: taken over, its
 * orphans killed (`onTakeOver` hears which).
 */
export async function acquirePublishLock(
  file: string,
  options: {
    now?: () => Date;
    onTakeOver?: (stale: PublishLockOwner | undefined, killed: number[]) => void;
  } = {},
): Promise<PublishLock> {
  const token = randomBytes(8).toString('hex');
  const owner: PublishLockOwner = {
    ...identifyProcess(process.pid),
    token,
    since: (options.now?.() ?? new Date()).toISOString(),
  };
  let taken = false;
  try {
    for (let attempt = 0; attempt < 5 && !taken; attempt++) {
      if (createLockFile(file, owner)) {
        taken = true;
        break;
      }
      const holder = readLockFile<PublishLockOwner>(file);
      if (holder && isProcessAlive(holder)) {
        throw publishFailure(
          `another publish is running for this state folder (pid ${holder.pid}, since ${holder.since})`,
          'nothing was changed; the next run publishes, or wait for it to end (a lock whose process died is taken over)',
        );
      }
      if (!holder) {
        let age = 0;
        try {
          age = Date.now() - statSync(file).mtimeMs;
        } catch {
          continue; // removed meanwhile
        }
        if (age < UNREADABLE_LOCK_MS) {
          await sleep(200);
          continue;
        }
      }
      const killed = await takeOverStaleLock(file, childrenFile(file), holder);
      if (killed) options.onTakeOver?.(holder, killed);
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'PublishError') throw error;
    throw publishFailure(
      `cannot create the publish lock ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'the state folder must be writable by this user (or pass --root DIR)',
    );
  }
  if (!taken) {
    throw publishFailure(
      `could not take the publish lock ${file}: other publishes keep taking it`,
      'run one publish at a time for this state folder',
    );
  }

  const recorder = childRecorder(childrenFile(file), token);
  let released = false;
  return {
    owner,
    ...recorder,
    release() {
      if (released) return;
      released = true;
      if (readLockFile<PublishLockOwner>(file)?.token === token) {
        unlinkQuietly(childrenFile(file));
        unlinkQuietly(file);
      }
    },
  };
}
