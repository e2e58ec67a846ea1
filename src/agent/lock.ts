// The agent lock: one agent per state root. A PID lock (src/lib/pid-lock.ts) that never waits: a
// live owner is an error naming it; a lock whose owner is gone, or that cannot be read, is taken over.
import { GitstrapError } from '../lib/errors.js';
import {
  createLockFile,
  identifyProcess,
  isProcessAlive,
  procProbe,
  readLockFile,
  setStaleLockAside,
  unlinkQuietly,
  type ProcessIdentity,
  type ProcessProbe,
} from '../lib/pid-lock.js';

/** What the lock file holds. */
export interface LockOwner extends ProcessIdentity {
  startedAt: string;
}

/** A held lock. */
export interface AgentLock {
  owner: LockOwner;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

/**
 * Takes the lock at `file` for process `pid`, or throws a GitstrapError naming the running agent.
 * A stale lock (owner gone, or unreadable) is replaced. Touches nothing else.
 */
export function acquireLock(
  file: string,
  options: { pid?: number; probe?: ProcessProbe; now?: () => Date } = {},
): AgentLock {
  const probe = options.probe ?? procProbe;
  const owner: LockOwner = {
    ...identifyProcess(options.pid ?? process.pid, probe),
    startedAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createLockFile(file, owner)) {
        return {
          owner,
          release() {
            const current = readLockFile<LockOwner>(file);
            if (current?.pid === owner.pid && current.startedAt === owner.startedAt) {
              unlinkQuietly(file);
            }
          },
        };
      }
      const existing = readLockFile<LockOwner>(file);
      if (existing && isProcessAlive(existing, probe)) {
        throw new GitstrapError(
          `an agent is already running for this state root (pid ${existing.pid}, since ${existing.startedAt})`,
          {
            hint: `nothing was changed; stop it first (systemctl stop gitstrap@NAME, or kill ${existing.pid}), or use another --root`,
          },
        );
      }
      // The owner is gone: take the lock over, unless another starting agent just took it.
      const aside = setStaleLockAside<LockOwner>(
        file,
        (moved) => JSON.stringify(moved) === JSON.stringify(existing),
      );
      if (aside) unlinkQuietly(aside);
    }
  } catch (error) {
    if (error instanceof GitstrapError) throw error;
    throw new GitstrapError(
      `cannot create the agent lock ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'the state root must be writable by the agent user (or pass --root DIR)' },
    );
  }
  throw new GitstrapError(`could not take the agent lock ${file}: another agent keeps taking it`, {
    hint: 'another agent is starting for this state root at the same time; run one at a time',
  });
}
