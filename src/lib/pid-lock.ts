// The core of a PID lock file: a JSON record naming the owning process, created exclusively and
// complete (link of a written temp file), judged stale when that process is gone (dead, a zombie,
// from an earlier boot, or its PID now reused by another process), and then moved aside so a new
// owner can take it. What a lock waits for, and what it does on take-over, is its caller's.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { killGroup } from './run-process.js';

/** Which process a lock (or a record of a child) names: enough to tell it from a later one. */
export interface ProcessIdentity {
  pid: number;
  /** The kernel's boot id when recorded (a PID means nothing across reboots). */
  bootId?: string;
  /** Its start time in clock ticks since boot (/proc/PID/stat field 22): guards PID reuse. */
  startTicks?: string;
}

/** How locks see processes; `procProbe` reads /proc. Tests may pass their own. */
export interface ProcessProbe {
  bootId(): string | undefined;
  startTicks(pid: number): string | undefined;
  /** Whether the PID names a running process (a zombie has ended). */
  isAlive(pid: number): boolean;
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function readTrimmed(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Reads /proc for the boot id, start times and zombies; signal 0 for existence. */
export const procProbe: ProcessProbe = {
  bootId: () => readTrimmed('/proc/sys/kernel/random/boot_id'),
  startTicks: (pid) => statFields(pid)?.[19], // field 22 overall
  isAlive(pid) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
    }
    const state = statFields(pid)?.[0]; // field 3 overall
    return state !== 'Z' && state !== 'X';
  },
};

/** The identity of process `pid` as a lock records it. */
export function identifyProcess(pid: number, probe: ProcessProbe = procProbe): ProcessIdentity {
  const bootId = probe.bootId();
  const startTicks = probe.startTicks(pid);
  return { pid, ...(bootId ? { bootId } : {}), ...(startTicks ? { startTicks } : {}) };
}

/** Whether the recorded process still runs, and is the same process (not a reused PID). */
export function isProcessAlive(who: ProcessIdentity, probe: ProcessProbe = procProbe): boolean {
  if (!Number.isInteger(who.pid) || who.pid <= 0) return false;
  const bootId = probe.bootId();
  if (who.bootId && bootId && who.bootId !== bootId) return false;
  if (!probe.isAlive(who.pid)) return false;
  if (who.startTicks) {
    const ticks = probe.startTicks(who.pid);
    if (ticks !== undefined && ticks !== who.startTicks) return false;
  }
  return true;
}

/** A lock file's record; undefined when it is missing or unreadable (half-written, damaged). */
export function readLockFile<T extends ProcessIdentity>(file: string): T | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<T> | null;
    return typeof parsed?.pid === 'number' ? (parsed as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Removes a file, ignoring one that is gone already. */
export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

/**
 * Creates the lock `file` holding `record`, only if it does not exist: atomically, complete or not
 * at all (no reader ever sees it half-written). False when it exists; other errors are thrown. The
 * temp file is `FILE.PID.RANDOM.tmp`, a name a sweeper of leftovers can recognize.
 */
export function createLockFile(file: string, record: ProcessIdentity): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(record) + '\n', { mode: 0o644 });
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(temp);
  }
}

/**
 * Moves a lock judged stale out of the way (to `FILE.stale-PID`), so a new owner can create it,
 * but only if it still is that lock: `isSame` gets what was moved (undefined when unreadable), and
 * when it says no (another process took the lock over meanwhile) the lock is put back. Returns the
 * path it was moved to, for the caller to clean up after and remove; undefined when it was not.
 */
export function setStaleLockAside<T extends ProcessIdentity>(
  file: string,
  isSame: (moved: T | undefined) => boolean,
): string | undefined {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch {
    return undefined; // someone else moved or removed it
  }
  if (isSame(readLockFile<T>(aside))) return aside;
  try {
    linkSync(aside, file);
  } catch {
    // a third process holds it now; the one we moved notices it no longer holds the lock
  }
  unlinkQuietly(aside);
  return undefined;
}

/** A lock owner as the locks that track their children record it: a token tells owners apart. */
export interface TokenOwner extends ProcessIdentity {
  token: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Records the processes an owner starts under its lock in `childrenFile` ({token, children}), so
 * that a new owner taking a dead one's lock over can kill what it left running. Best effort: a
 * full disk must not stop the work the lock guards.
 */
export function childRecorder(
  childrenFile: string,
  token: string,
): { trackChild(pid: number): void; untrackChild(pid: number): void } {
  const children = new Map<number, ProcessIdentity>();
  const write = () => {
    const tmp = `${childrenFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ token, children: [...children.values()] }));
      renameSync(tmp, childrenFile);
    } catch {
      // best effort
    }
  };
  return {
    trackChild(pid) {
      children.set(pid, identifyProcess(pid));
      write();
    },
    untrackChild(pid) {
      children.delete(pid);
      write();
    },
  };
}

/**
 * Takes a dead owner's lock out of the way (setStaleLockAside), kills the children it recorded in
 * `childrenFile` (`onTaken` first; by identity: a reused PID is left alone; each one's process group, waiting a
 * bounded time until they are gone) and removes both records. Returns the PIDs killed, or
 * undefined when the lock was not taken (another process took it over meanwhile).
 */
export async function takeOverStaleLock<T extends TokenOwner>(
  file: string,
  childrenFile: string,
  stale: T | undefined,
  hooks: { onTaken?: () => void; onKill?: (pid: number) => void } = {},
): Promise<number[] | undefined> {
  const aside = setStaleLockAside<T>(file, (moved) => !moved || moved.token === stale?.token);
  if (!aside) return undefined;
  hooks.onTaken?.();
  let killed: number[] = [];
  if (stale) {
    const alive = recordedChildren(childrenFile, stale.token).filter((c) => isProcessAlive(c));
    for (const child of alive) {
      hooks.onKill?.(child.pid);
      killGroup(child.pid, 'SIGKILL');
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (let i = 0; i < 100 && alive.some((c) => isProcessAlive(c)); i++) await sleep(20);
    killed = alive.map((c) => c.pid);
  }
  unlinkQuietly(childrenFile);
  unlinkQuietly(aside);
  return killed;
}

/** The children `childrenFile` records for the owner holding `token` (none for another owner). */
function recordedChildren(childrenFile: string, token: string): ProcessIdentity[] {
  try {
    const record = JSON.parse(readFileSync(childrenFile, 'utf8')) as {
      token?: string;
      children?: ProcessIdentity[];
    };
    return record.token === token ? (record.children ?? []) : [];
  } catch {
    return [];
  }
}
