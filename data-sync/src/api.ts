// The data-sync engine's public contract, used by the agent (src/agent) and `bootstrap sync`.
// The engine lives in this folder; see data-sync/README.md for the on-disk contract it keeps.
import type { DataConfig } from '../../src/recipe/schema.js';
import type { Logger } from '../../src/lib/log.js';
import type { PlaceholderValues } from '../../src/lib/placeholders.js';
import type { Exec } from './exec.js';

/** A submodule of a data version: where it is, the commit it was pinned at, where it came from. */
export interface VersionSubmodule {
  path: string;
  commit: string;
  url: string;
}

/** The Git LFS figures of a data version. */
export interface VersionLfs {
  /** LFS files in the version, and the distinct objects and bytes they hold. */
  files: number;
  objects: number;
  bytes: number;
  /** Objects downloaded to build it (the others were in the cache, or the reused folder had them). */
  downloaded: number;
  /** LFS files outside data.sparse: never downloaded. */
  outsideSparse: number;
  outsideSparseBytes: number;
}

/** What a version holds besides its files (data/manifests/COMMIT.json). */
export interface VersionManifest {
  commit: string;
  submodules?: VersionSubmodule[];
  lfs?: VersionLfs;
}

/** The version served: its commit and folder, with its submodules and LFS figures when it has them. */
export interface CurrentVersion {
  commit: string;
  dir: string;
  submodules?: VersionSubmodule[];
  lfs?: VersionLfs;
}

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
  /** For failures: one line on how to fix it. */
  hint?: string;
  trigger: 'startup' | 'schedule' | 'webhook' | 'manual';
  /** For publishes: milliseconds from the start until the new version was served (the swap). */
  servedAfterMs?: number;
  /** For publishes: whether the version was built in a reused folder (only changed files written). */
  reusedFolder?: boolean;
  /** Why nothing changed, when it is not simply "same commit" (e.g. held by a rollback). */
  note?: string;
  /** For publishes: why the service could not be notified (the publish stands). */
  notifyError?: string;
  /** For publishes of a built version: its submodules (data.submodules). */
  submodules?: VersionSubmodule[];
  /** For publishes of a built version: its Git LFS figures (data.lfs). */
  lfs?: VersionLfs;
}

/** Per-call options of `sync`. */
export interface SyncCallOptions {
  /** A retry of a failed sync: a failing retry does not count again against the failure budget. */
  retry?: boolean;
  /** Aborts the sync (its child processes are stopped); `current` stays as it was. */
  signal?: AbortSignal;
}

/** Whether data sync is healthy: fewer than `data.failure_budget` failed syncs in a row. */
export interface SyncHealth {
  healthy: boolean;
  consecutiveFailures: number;
  lastSuccessAt?: string;
}

export interface DataSyncOptions {
  /** The folder that holds repo.git, versions/, staging/ and the `current` symlink. */
  dir: string;
  data: DataConfig;
  logger: Logger;
  /** Environment for git (credentials helpers, GIT_SSH_COMMAND); never logged. */
  gitEnv?: NodeJS.ProcessEnv;
  /** Called the moment `current` points at a new version (before anything else of the publish:
   * logging, pruning, gc, notify), so a server's caches of the old version go at once. */
  onSwap?: (commit: string) => void;
  /** Called after a new version is published (the agent invalidates caches, notifies the service). */
  onPublish?: (result: SyncResult & { dir: string }) => void | Promise<void>;
  now?: () => Date;
  /** The service's PID, for `data.notify.signal` (it changes when the service restarts). */
  servicePid?: () => number | undefined;
  /** Values for {port}, {service}, {state} in transform, check and notify commands. */
  placeholders?: PlaceholderValues;
  /** How long a sync waits for another process's sync to finish (default 30 s). */
  lockWaitMs?: number;
  /** Time limit of each git command (default 10 min). */
  gitTimeoutMs?: number;
  /** Runs child processes; defaults to the real one (tests and the agent may wrap it). */
  exec?: Exec;
}

export interface DataSync {
  /** One sync: fetch, and publish a new version if the commit changed and every check passed. */
  sync(trigger: SyncResult['trigger'], options?: SyncCallOptions): Promise<SyncResult>;
  /** Points `current` back at the previous kept version. */
  rollback(): Promise<SyncResult>;
  /** The version served now, if any: its commit and absolute folder (and its manifest's figures). */
  current(): CurrentVersion | undefined;
  /** Recent results, newest first. */
  history(): SyncResult[];
  /** The failure budget: unhealthy after `data.failure_budget` failed syncs in a row (retries not counted). */
  health(): SyncHealth;
}
