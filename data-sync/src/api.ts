// The data-sync engine's public contract, used by the agent (src/agent) and `bootstrap sync`.
// The engine lives in this folder; see data-sync/README.md for the on-disk contract it keeps.
import type { DataConfig } from '../../src/recipe/schema.js';
import type { Logger } from '../../src/lib/log.js';

/** One finished sync attempt, as the status page and logs show it. */
export interface SyncResult {
  outcome: 'published' | 'unchanged' | 'failed' | 'rolled-back';
  /** The commit now served (after the attempt). */
  commit?: string;
  /** The commit before the attempt. */
  previous?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** For failures: which phase (fetch, checkout, transform, check, verify, publish) and why. */
  phase?: string;
  error?: string;
  trigger: 'startup' | 'schedule' | 'webhook' | 'manual';
}

export interface DataSyncOptions {
  /** The folder that holds repo.git, versions/, staging/ and the `current` symlink. */
  dir: string;
  data: DataConfig;
  logger: Logger;
  /** Environment for git (credentials helpers, GIT_SSH_COMMAND); never logged. */
  gitEnv?: NodeJS.ProcessEnv;
  /** Called after a new version is published (the agent invalidates caches, notifies the service). */
  onPublish?: (result: SyncResult & { dir: string }) => void | Promise<void>;
  now?: () => Date;
}

export interface DataSync {
  /** One sync: fetch, and publish a new version if the commit changed and every check passed. */
  sync(trigger: SyncResult['trigger']): Promise<SyncResult>;
  /** Points `current` back at the previous kept version. */
  rollback(): Promise<SyncResult>;
  /** The version served now, if any: its commit and absolute folder. */
  current(): { commit: string; dir: string } | undefined;
  /** Recent results, newest first. */
  history(): SyncResult[];
}
