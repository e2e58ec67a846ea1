// Phase "lock": create the state root and take its lock, so one agent runs per state root.
import { mkdir } from 'node:fs/promises';
import { GitstrapError } from '../../lib/errors.js';
import type { Layout } from '../layout.js';
import { acquireLock, type AgentLock } from '../lock.js';

/** Creates `layout.root` and takes its lock; throws GitstrapError when either cannot be done. */
export async function lockStateRoot(layout: Layout): Promise<AgentLock> {
  try {
    await mkdir(layout.root, { recursive: true });
  } catch (error) {
    throw new GitstrapError(
      `cannot create the state root ${layout.root} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      {
        hint: 'run as the gitstrap user (the systemd unit does), or pass --root DIR for a try as yourself',
      },
    );
  }
  return acquireLock(layout.lock);
}
