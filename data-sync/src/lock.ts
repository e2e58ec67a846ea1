// The sync lock: one sync at a time per data folder, across processes. A file created atomically
// (link of a complete temp file) holding the owner's PID, start time and a token. A lock whose owner
// is dead (PID gone, a zombie, or reused by another process) is taken over, and the child processes
// the dead owner left behind (a git fetch, a tar) are killed first, so they cannot write under the
// new owner's feet.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Logger } from '../../src/lib/log.js';
import { killGroup } from './exec.js';
import { SyncFailure } from './failure.js';
import type { DataLayout } from './layout.js';

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  /** The process start time in clock ticks since boot (/proc/PID/stat field 22): guards PID reuse. */
  startTicks?: string;
  bootId?: string;
  token: string;
  since: string;
}

interface ChildRecord {
  pid: number;
  startTicks?: string;
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

/** Reads /proc/PID/stat: the start time and whether the process is a zombie. */
function procStat(pid: number): { startTicks: string; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { startTicks: fields[19] ?? '', zombie: fields[0] === 'Z' || fields[0] === 'X' };
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether a recorded process still runs (and is the same process, not a reused PID). */
export function isProcessAlive(pid: number, startTicks?: string, lockBootId?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (lockBootId && bootId() && lockBootId !== bootId()) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat?.zombie) return false;
  if (startTicks && stat && stat.startTicks !== startTicks) return false;
  return true;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates `file` with `content` only if it does not exist (atomically, complete or not at all). */
function createExclusive(file: string, content: string, token: string): boolean {
  const tmp = `${file}.${process.pid}.${token}.tmp`;
  writeFileSync(tmp, content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(tmp);
  }
}

/** Kills the processes a dead owner left behind, and waits (bounded) until they are gone. */
async function killOrphans(layout: DataLayout, owner: LockOwner, logger: Logger): Promise<void> {
  const record = readJson<{ token?: string; children?: ChildRecord[] }>(layout.lockChildren);
  if (!record || record.token !== owner.token) return;
  const alive = (record.children ?? []).filter((c) => isProcessAlive(c.pid, c.startTicks));
  for (const child of alive) {
    logger.log('warn', 'data.lock.orphan-killed', { pid: child.pid, ownerPid: owner.pid });
    killGroup(child.pid, 'SIGKILL');
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 100 && alive.some((c) => isProcessAlive(c.pid, c.startTicks)); i++) {
    await sleep(20);
  }
}

/** Removes a lock whose owner is dead; false when someone else got there first. */
async function takeOver(layout: DataLayout, stale: LockOwner, logger: Logger): Promise<void> {
  const aside = `${layout.lock}.stale-${process.pid}`;
  try {
    renameSync(layout.lock, aside);
  } catch {
    return; // someone else moved it
  }
  const moved = readJson<LockOwner>(aside);
  if (moved && moved.token !== stale.token) {
    // Between our look and our move, another process took the lock over: give it back.
    try {
      linkSync(aside, layout.lock);
    } catch {
      // a third process holds it now; the one we moved will notice with stillHeld()
    }
    unlinkQuietly(aside);
    return;
  }
  logger.log('warn', 'data.lock.stale', { pid: stale.pid, since: stale.since });
  await killOrphans(layout, stale, logger);
  unlinkQuietly(layout.lockChildren);
  unlinkQuietly(aside);
}

/** Takes the lock of a data folder, waiting up to `waitMs` for a live owner to finish. */
export async function acquireSyncLock(
  layout: DataLayout,
  options: { waitMs: number; logger: Logger; now?: () => Date; signal?: AbortSignal },
): Promise<SyncLock> {
  const token = randomBytes(8).toString('hex');
  const stat = procStat(process.pid);
  const owner: LockOwner = {
    pid: process.pid,
    ...(stat ? { startTicks: stat.startTicks } : {}),
    ...(bootId() ? { bootId: bootId() as string } : {}),
    token,
    since: (options.now?.() ?? new Date()).toISOString(),
  };
  const content = JSON.stringify(owner) + '\n';
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted)
      throw new SyncFailure('lock', 'interrupted while waiting for the sync lock');
    try {
      if (createExclusive(layout.lock, content, token)) break;
    } catch (error) {
      // Our temp file was swept by another owner's recovery between write and link: try again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || Date.now() >= deadline) throw error;
      continue;
    }
    const holder = readJson<LockOwner>(layout.lock);
    if (holder === undefined) {
      // Unreadable: a lock file damaged by hand or by a full disk. Old enough, it is taken over.
      let age: number;
      try {
        age = Date.now() - statSync(layout.lock).mtimeMs;
      } catch {
        continue; // removed meanwhile
      }
      if (age > 10_000) {
        await takeOver(layout, { pid: 0, token: '', since: '' }, options.logger);
        continue;
      }
    } else if (!isProcessAlive(holder.pid, holder.startTicks, holder.bootId)) {
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

  const children = new Map<number, ChildRecord>();
  const writeChildren = () => {
    const tmp = `${layout.lockChildren}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify({ token, children: [...children.values()] }));
      renameSync(tmp, layout.lockChildren);
    } catch {
      // best effort: a full disk must not stop the sync itself
    }
  };
  let released = false;
  return {
    owner,
    trackChild(pid) {
      const s = procStat(pid);
      children.set(pid, { pid, ...(s ? { startTicks: s.startTicks } : {}) });
      writeChildren();
    },
    untrackChild(pid) {
      children.delete(pid);
      writeChildren();
    },
    stillHeld() {
      return readJson<LockOwner>(layout.lock)?.token === token;
    },
    release() {
      if (released) return;
      released = true;
      if (readJson<LockOwner>(layout.lock)?.token === token) {
        unlinkQuietly(layout.lockChildren);
        unlinkQuietly(layout.lock);
      }
    },
  };
}
