// The agent lock: one agent per state root. A PID file created exclusively; a lock whose owner is
// gone (dead PID, or a PID from an earlier boot now reused) is taken over.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { GitstrapError } from '../lib/errors.js';

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  /** The kernel's boot id when the lock was taken (a PID means nothing across reboots). */
  bootId?: string;
  /** The owner's start time in clock ticks since boot (/proc/PID/stat field 22): guards PID reuse. */
  startTicks?: string;
  startedAt: string;
}

/** How the lock sees processes; the defaults read /proc. Tests pass their own. */
export interface ProcessProbe {
  bootId(): string | undefined;
  startTicks(pid: number): string | undefined;
  isAlive(pid: number): boolean;
}

/** A held lock. */
export interface AgentLock {
  owner: LockOwner;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

/** Reads /proc for the boot id and process start times; signal 0 for liveness. */
export const procProbe: ProcessProbe = {
  bootId: () => readTrimmed('/proc/sys/kernel/random/boot_id'),
  startTicks(pid) {
    const stat = readTrimmed(`/proc/${pid}/stat`);
    if (!stat) return undefined;
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall
  },
  isAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether the process recorded in a lock still runs. */
export function isOwnerAlive(owner: LockOwner, probe: ProcessProbe = procProbe): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  const bootId = probe.bootId();
  if (owner.bootId && bootId && owner.bootId !== bootId) return false;
  if (!probe.isAlive(owner.pid)) return false;
  if (owner.startTicks) {
    const ticks = probe.startTicks(owner.pid);
    if (ticks !== undefined && ticks !== owner.startTicks) return false;
  }
  return true;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock at `file` for process `pid`, or throws a GitstrapError naming the running agent.
 * A stale lock (owner gone, or unreadable) is replaced. Touches nothing else.
 */
export function acquireLock(
  file: string,
  options: { pid?: number; probe?: ProcessProbe; now?: () => Date } = {},
): AgentLock {
  const pid = options.pid ?? process.pid;
  const probe = options.probe ?? procProbe;
  const owner: LockOwner = {
    pid,
    startedAt: (options.now ?? (() => new Date()))().toISOString(),
  };
  const bootId = probe.bootId();
  const startTicks = probe.startTicks(pid);
  if (bootId) owner.bootId = bootId;
  if (startTicks) owner.startTicks = startTicks;

  // The lock appears with its content at once (link of a written file), so no agent ever reads a
  // half-written lock and mistakes it for a stale one.
  const temp = `${file}.${pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(owner) + '\n', { mode: 0o644 });
  } catch (error) {
    throw new GitstrapError(
      `cannot create the agent lock ${file}: ${(error as NodeJS.ErrnoException).code}`,
      { hint: 'the state root must be writable by the agent user (or pass --root DIR)' },
    );
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const existing = readOwner(file);
        if (existing && isOwnerAlive(existing, probe)) {
          throw new GitstrapError(
            `an agent is already running for this state root (pid ${existing.pid}, since ${existing.startedAt})`,
            {
              hint: `nothing was changed; stop it first (systemctl stop gitstrap@NAME, or kill ${existing.pid}), or use another --root`,
            },
          );
        }
        // The owner is gone: take the lock over. Re-read right before removing it, so a lock that
        // another starting agent just took is not removed.
        const again = readOwner(file);
        if (JSON.stringify(again) !== JSON.stringify(existing)) continue;
        try {
          unlinkSync(file);
        } catch {
          // someone else removed it first; try again
        }
        continue;
      }
      return {
        owner,
        release() {
          const current = readOwner(file);
          if (current && current.pid === owner.pid && current.startedAt === owner.startedAt) {
            try {
              unlinkSync(file);
            } catch {
              // already gone
            }
          }
        },
      };
    }
  } catch (error) {
    if (error instanceof GitstrapError) throw error;
    throw new GitstrapError(
      `cannot create the agent lock ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'the state root must be writable by the agent user (or pass --root DIR)' },
    );
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // not created
    }
  }
  throw new GitstrapError(`could not take the agent lock ${file}: another agent keeps taking it`, {
    hint: 'another agent is starting for this state root at the same time; run one at a time',
  });
}
