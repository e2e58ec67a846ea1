// The data-sync engine's public face: what the agent and `bootstrap sync` use.
export type {
  CurrentVersion,
  DataSync,
  DataSyncOptions,
  SyncCallOptions,
  SyncHealth,
  SyncResult,
  VersionLfs,
  VersionManifest,
  VersionSubmodule,
} from './api.js';
export { createDataSync } from './engine.js';
export { dataLayout, type DataLayout } from './layout.js';
export { startSyncSchedule, type SyncSchedule, type SyncScheduleOptions } from './schedule.js';
export { createCoalescingTrigger, type CoalescingTrigger } from './coalesce.js';
export {
  createWebhookHandler,
  verifyHubSignature,
  type WebhookHandler,
  type WebhookHandlerOptions,
  type WebhookResponse,
} from './webhook.js';
export { acquireSyncLock, type SyncLock } from './lock.js';
export { execCommand, type Exec, type ExecResult } from './exec.js';
